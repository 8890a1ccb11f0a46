/*
 * Expansion ROM copies (see rom.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "passthrough/rom.h"

#define VROM_MAX (16 * MiB) /* PCI allows 16 MiB expansion ROMs */

/* Little-endian 16-bit load. */
static u16 ld16(const u8 *p)
{
	return p[0] | (p[1] << 8);
}

/* The PCI Firmware spec: image header 0x55 0xAA, pointer to "PCIR" at 0x18,
 * vendor and device IDs at PCIR+4 and +6. */
int vrom_validate(const u8 *img, size_t len, u16 vendor, u16 device, char *msg, size_t msglen)
{
	u16 p;

	if (len < 0x1a || img[0] != 0x55 || img[1] != 0xaa) {
		snprintf(msg, msglen, "no 0x55AA signature at the start: not a PCI option ROM");
		return -EINVAL;
	}
	p = ld16(img + 0x18);
	if ((size_t)p + 8 > len || memcmp(img + p, "PCIR", 4)) {
		snprintf(msg, msglen, "no PCI data structure (PCIR) in the image");
		return 1;
	}
	if (ld16(img + p + 4) != vendor || ld16(img + p + 6) != device) {
		snprintf(msg, msglen, "the image is for %04x:%04x, the device is %04x:%04x",
			 ld16(img + p + 4), ld16(img + p + 6), vendor, device);
		return 1;
	}
	msg[0] = '\0';
	return 0;
}

/* Copy the image and size the BAR for it. */
int vrom_set(struct vrom *r, const u8 *img, size_t len)
{
	u64 size = 2 * KiB;

	vrom_free(r);
	if (!len || len > VROM_MAX)
		return -EINVAL;
	while (size < len)
		size <<= 1;
	r->data = malloc(len);
	if (!r->data)
		return -ENOMEM;
	memcpy(r->data, img, len);
	r->len = len;
	r->size = size;
	return 0;
}

/* Read the whole file; it must exist, be readable and not be empty. */
int vrom_load_file(struct vrom *r, const char *path, char *err, size_t errlen)
{
	struct stat st;
	u8 *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;
	ssize_t n;

	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open romfile %s: %s: fix the path or drop romfile=",
			 path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size == 0 || st.st_size > (off_t)VROM_MAX) {
		snprintf(err, errlen, "romfile %s is not a regular file of 1 byte to 16 MiB", path);
		close(fd);
		return -EINVAL;
	}
	buf = malloc(st.st_size);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = pread(fd, buf, st.st_size, 0);
	close(fd);
	if (n != st.st_size) {
		snprintf(err, errlen, "cannot read romfile %s", path);
		free(buf);
		return -EIO;
	}
	ret = vrom_set(r, buf, st.st_size);
	free(buf);
	return ret;
}

/* Serve the copy; the unused tail of the BAR reads as erased flash. */
u64 vrom_read(const struct vrom *r, u64 off, int len)
{
	u64 v = 0;

	for (int i = 0; i < len; i++) {
		u8 b = off + i < r->len ? r->data[off + i] : 0xff;

		v |= (u64)b << (8 * i);
	}
	return v;
}

/* Drop the copy. */
void vrom_free(struct vrom *r)
{
	free(r->data);
	r->data = NULL;
	r->len = r->size = 0;
}
