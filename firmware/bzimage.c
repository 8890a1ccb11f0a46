/*
 * Linux x86 boot protocol, 64-bit entry (see bzimage.h). Field offsets come
 * from <asm/bootparam.h> (struct boot_params, struct setup_header).
 */
#include <asm/bootparam.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/bzimage.h"
#include "firmware/e820.h"

#define BZ_HDR_OFF 0x1f1           /* struct setup_header inside the image and the zero page */
#define BZ_HDR_MAGIC 0x53726448    /* "HdrS" */
#define BZ_HDR_MAX_END (BZ_HDR_OFF + sizeof(struct setup_header))
#define BZ_ENTRY64_OFF 0x200       /* startup_64 from the start of the protected-mode kernel */
#define BZ_HEAP_END_PTR 0xfe00     /* end of the (unused) real-mode heap, minus 0x200 */
#define BZ_VID_MODE_NORMAL 0xffff  /* "vga=normal" */
#define BZ_LOADER_UNDEFINED 0xff   /* type_of_loader: no assigned id */
#define BZ_PROTO_RSDP 0x020e       /* boot_params.acpi_rsdp_addr is read from here on */
#define BZ_INITRD_TOP_MAX LAYOUT_ECAM_BASE

_Static_assert(offsetof(struct boot_params, hdr) == BZ_HDR_OFF, "setup_header offset");
_Static_assert(sizeof(struct boot_params) == 4096, "zero page size");
_Static_assert(sizeof(struct boot_e820_entry) == sizeof(struct e820_entry), "e820 entry size");

/* Little-endian field readers: the image is a byte array of any alignment. */
static u16 rd16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

/* See rd16. */
static u32 rd32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

/* See rd16. */
static u64 rd64(const u8 *p)
{
	return (u64)rd32(p) | (u64)rd32(p + 4) << 32;
}

/* Offset of a setup_header field in the image (same as in the zero page). */
#define HDR(field) (offsetof(struct boot_params, hdr.field))

/* Offset of the protected-mode kernel in the image: setup sectors + boot sector. */
static size_t pm_offset(const u8 *img)
{
	unsigned int sects = img[HDR(setup_sects)];

	return ((size_t)(sects ? sects : 4) + 1) * 512;
}

/* bzimage_check, with name ("KERNEL" or a path) leading every message. */
static int check_named(const char *name, const u8 *img, size_t len, char *err, size_t errlen)
{
	u16 version;
	size_t pm_off;
	u64 syssize;

	if (len < HDR(version) || rd32(img + HDR(header)) != BZ_HDR_MAGIC) {
		if (len >= 4 && !memcmp(img, "\x7f" "ELF", 4))
			snprintf(err, errlen, "%s is an ELF vmlinux, not a bzImage: give arch/x86/boot/bzImage "
				 "or /boot/vmlinuz-*", name);
		else
			snprintf(err, errlen, "%s is not a Linux bzImage (no HdrS header): give a bzImage "
				 "such as /boot/vmlinuz-*", name);
		return -ENOEXEC;
	}
	if (rd16(img + HDR(boot_flag)) != 0xAA55) {
		snprintf(err, errlen, "%s has a bad boot flag 0x%04x (expected 0xAA55): the file is damaged; "
			 "give an intact bzImage", name, rd16(img + HDR(boot_flag)));
		return -ENOEXEC;
	}
	if (len < BZ_HDR_MAX_END) {
		snprintf(err, errlen, "%s is truncated (%zu bytes, shorter than its setup header): "
			 "copy the bzImage again", name, len);
		return -ENOEXEC;
	}
	version = rd16(img + HDR(version));
	if (version < BZIMAGE_MIN_PROTOCOL) {
		snprintf(err, errlen, "%s uses boot protocol %u.%02u, too old for 64-bit entry: "
			 "give a bzImage of Linux 3.8 or newer (protocol 2.12+)",
			 name, version >> 8, version & 0xff);
		return -ENOEXEC;
	}
	if (len < pm_offset(img)) {
		snprintf(err, errlen, "%s is truncated (%zu bytes, shorter than its setup code): "
			 "copy the bzImage again", name, len);
		return -ENOEXEC;
	}
	if (!(img[HDR(loadflags)] & LOADED_HIGH)) {
		snprintf(err, errlen, "%s is a zImage (loaded below 1 MiB): give a bzImage", name);
		return -ENOEXEC;
	}
	if (!(rd16(img + HDR(xloadflags)) & XLF_KERNEL_64)) {
		snprintf(err, errlen, "%s has no 64-bit entry point (a 32-bit kernel?): "
			 "give an x86_64 bzImage", name);
		return -ENOEXEC;
	}
	pm_off = pm_offset(img);
	syssize = (u64)rd32(img + HDR(syssize)) * 16;
	if (pm_off >= len || syssize > len - pm_off) {
		snprintf(err, errlen, "%s is truncated: its header announces %llu bytes of kernel, the file "
			 "has %zu: copy the bzImage again", name,
			 (unsigned long long)syssize, pm_off < len ? len - pm_off : 0);
		return -ENOEXEC;
	}
	return 0;
}

// Check the header of a bzImage in memory.
int bzimage_check(const void *img, size_t len, char *err, size_t errlen)
{
	return check_named("KERNEL", img, len, err, errlen);
}

/*
 * Where the decompressor runs and unpacks, per boot.rst "init_size": a
 * relocatable kernel aligns its load address up to kernel_alignment and
 * never goes below LOAD_PHYSICAL_ADDR, which it reports as pref_address.
 * Returns 0, or -ENOEXEC if the alignment is not a power of two or the
 * start is not in low RAM (a damaged header: this also keeps
 * start + init_size from overflowing).
 */
static int runtime_start(const u8 *img, u64 load, u64 *start)
{
	u64 pref = rd64(img + HDR(pref_address));
	u64 align = rd32(img + HDR(kernel_alignment));

	if (!img[HDR(relocatable_kernel)]) {
		*start = pref ? pref : load;
	} else {
		if (!align || (align & (align - 1)) || align > LAYOUT_ECAM_BASE)
			return -ENOEXEC;
		*start = MAX(ALIGN_UP(load, align), pref);
	}
	return *start < LAYOUT_ECAM_BASE ? 0 : -ENOEXEC;
}

/* Round bytes up to whole MiB, for messages. */
static unsigned long long to_mib(u64 bytes)
{
	return (unsigned long long)((bytes + MiB - 1) / MiB);
}

/* Fill the zero page: the image's setup header, then the loader's fields. */
static int fill_boot_params(struct boot_params *bp, const u8 *kernel, const struct layout *l,
			    u64 initrd, u64 ilen, u64 rsdp_gpa)
{
	struct e820_entry map[E820_MAX_ENTRIES_ZEROPAGE];
	size_t hdr_end = 0x202 + (size_t)kernel[0x201]; /* boot.rst: end of setup header */
	int n;

	memset(bp, 0, sizeof(*bp));
	/* check_named() made sure the image reaches BZ_HDR_MAX_END */
	hdr_end = MIN(hdr_end, BZ_HDR_MAX_END);
	memcpy((u8 *)bp + BZ_HDR_OFF, kernel + BZ_HDR_OFF, hdr_end - BZ_HDR_OFF);

	bp->hdr.vid_mode = BZ_VID_MODE_NORMAL;
	bp->hdr.type_of_loader = BZ_LOADER_UNDEFINED;
	bp->hdr.loadflags |= CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = BZ_HEAP_END_PTR;
	bp->hdr.code32_start = (u32)LAYOUT_KERNEL_BASE;
	bp->hdr.cmd_line_ptr = (u32)LAYOUT_BOOT_CMDLINE;
	bp->ext_cmd_line_ptr = (u32)(LAYOUT_BOOT_CMDLINE >> 32);
	bp->hdr.ramdisk_image = (u32)initrd;
	bp->ext_ramdisk_image = (u32)(initrd >> 32);
	bp->hdr.ramdisk_size = (u32)ilen;
	bp->ext_ramdisk_size = (u32)(ilen >> 32);
	bp->hdr.setup_data = 0;
	if (bp->hdr.version >= BZ_PROTO_RSDP)
		bp->acpi_rsdp_addr = rsdp_gpa;

	n = e820_build(l, map, E820_MAX_ENTRIES_ZEROPAGE);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		bp->e820_table[i].addr = map[i].addr;
		bp->e820_table[i].size = map[i].size;
		bp->e820_table[i].type = map[i].type;
	}
	bp->e820_entries = (u8)n;
	return 0;
}

/*
 * Copy len bytes of an image into guest RAM at gpa: from buf + off when the
 * image is in memory (fd < 0), else read straight from the file at off, so
 * the file's pages never count against ptvm's own memory.
 */
static int copy_in(struct mem_map *mem, u64 gpa, const u8 *buf, int fd, u64 off, u64 len)
{
	u8 *dst;

	if (fd < 0)
		return mem_write(mem, gpa, buf + off, len);
	dst = len ? mem_gpa_to_hva(mem, gpa, len) : NULL;
	if (!len)
		return 0;
	if (!dst)
		return -EFAULT;
	while (len) {
		ssize_t n = pread(fd, dst, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		dst += n;
		off += (u64)n;
		len -= (u64)n;
	}
	return 0;
}

/* bzimage_load, with kname/iname leading the messages about each file.
 * kfd/ifd >= 0: the image is read from that file, and kernel holds only its
 * first bytes (at least the setup code); klen/ilen are the file sizes. */
static int load_named(struct mem_map *mem, const struct layout *l,
		      const char *kname, const u8 *kernel, size_t klen, int kfd,
		      const char *iname, const void *initrd, size_t ilen, int ifd,
		      const char *cmdline, u64 rsdp_gpa, struct bzimage_boot *out,
		      char *err, size_t errlen)
{
	struct boot_params *bp;
	u64 pm_off, pm_size, start, kend, init_size, top = 0, iaddr = 0;
	size_t clen, cmax;
	int ret;

	ret = check_named(kname, kernel, klen, err, errlen);
	if (ret)
		return ret;
	if (!cmdline)
		cmdline = "";

	pm_off = pm_offset(kernel);
	pm_size = klen - pm_off;
	init_size = rd32(kernel + HDR(init_size));
	if (runtime_start(kernel, LAYOUT_KERNEL_BASE, &start)) {
		snprintf(err, errlen, "%s has a bad kernel_alignment (0x%x) or pref_address (0x%llx): "
			 "the file is damaged; give an intact bzImage", kname,
			 rd32(kernel + HDR(kernel_alignment)),
			 (unsigned long long)rd64(kernel + HDR(pref_address)));
		return -ENOEXEC;
	}
	kend = MAX(LAYOUT_KERNEL_BASE + pm_size, start + init_size);

	/* cmdline_size excludes the NUL; our buffer is LAYOUT_BOOT_CMDLINE_MAX */
	clen = strlen(cmdline);
	cmax = MIN((size_t)rd32(kernel + HDR(cmdline_size)), (size_t)LAYOUT_BOOT_CMDLINE_MAX - 1);
	if (clen > cmax) {
		snprintf(err, errlen, "--cmdline is %zu bytes, but %s accepts at most %zu: "
			 "shorten the command line", clen, kname, cmax);
		return -E2BIG;
	}

	if (kend > l->low_ram_size) {
		snprintf(err, errlen, "%s needs %llu MiB of RAM to boot (it decompresses to "
			 "%llu..%llu MiB) but the guest has %llu MiB below 4 GiB: give --memory %lluM "
			 "or more", kname, to_mib(kend), to_mib(start), to_mib(kend),
			 to_mib(l->low_ram_size), to_mib(ALIGN_UP(kend, 4096) + ALIGN_UP(ilen, 4096)));
		return -ENOMEM;
	}
	if (ilen) {
		/* initrd_addr_max is the highest byte the initrd may occupy */
		u64 imax = (u64)rd32(kernel + HDR(initrd_addr_max)) + 1;

		top = MIN(MIN(imax, l->low_ram_size), BZ_INITRD_TOP_MAX);
		if (ilen > top || ALIGN_DOWN(top - ilen, 4096) < ALIGN_UP(kend, 4096)) {
			/* more RAM helps only if RAM, not the kernel's limit, is the ceiling */
			if (top < l->low_ram_size)
				snprintf(err, errlen, "%s (%llu MiB) does not fit between the end of %s "
					 "(%llu MiB) and its initrd limit (%llu MiB): use a smaller initrd",
					 iname, to_mib(ilen), kname, to_mib(kend), (unsigned long long)(top / MiB));
			else
				snprintf(err, errlen, "%s (%llu MiB) does not fit above %s (which needs up to "
					 "%llu MiB): give --memory %lluM or more",
					 iname, to_mib(ilen), kname, to_mib(kend),
					 to_mib(ALIGN_UP(kend, 4096) + ALIGN_UP(ilen, 4096)));
			return -ENOMEM;
		}
		iaddr = ALIGN_DOWN(top - ilen, 4096);
	}

	bp = mem_gpa_to_hva(mem, LAYOUT_BOOT_PARAMS, sizeof(*bp));
	if (!bp || mem_write(mem, LAYOUT_BOOT_CMDLINE, cmdline, clen + 1)) {
		snprintf(err, errlen, "guest RAM does not cover the boot area (internal error): "
			 "please report this");
		return -EFAULT;
	}
	ret = copy_in(mem, LAYOUT_KERNEL_BASE, kernel, kfd, pm_off, pm_size);
	if (ret) {
		snprintf(err, errlen, "%s: cannot read: %s", kname, strerror(-ret));
		return ret;
	}
	ret = copy_in(mem, iaddr, initrd, ifd, 0, ilen);
	if (ret) {
		snprintf(err, errlen, "%s: cannot read: %s", iname, strerror(-ret));
		return ret;
	}
	ret = fill_boot_params(bp, kernel, l, iaddr, ilen, rsdp_gpa);
	if (ret) {
		snprintf(err, errlen, "cannot build the e820 map (%s): please report this",
			 strerror(-ret));
		return ret;
	}

	memset(out, 0, sizeof(*out));
	out->entry64 = LAYOUT_KERNEL_BASE + BZ_ENTRY64_OFF;
	out->boot_params = LAYOUT_BOOT_PARAMS;
	out->cmdline = LAYOUT_BOOT_CMDLINE;
	out->kernel_load = LAYOUT_KERNEL_BASE;
	out->kernel_size = pm_size;
	out->kernel_end = kend;
	out->initrd = iaddr;
	out->initrd_size = ilen;
	out->protocol = rd16(kernel + HDR(version));
	return 0;
}

// Load a bzImage and initrd held in memory.
int bzimage_load(struct mem_map *mem, const struct layout *l,
		 const void *kernel, size_t klen, const void *initrd, size_t ilen,
		 const char *cmdline, u64 rsdp_gpa, struct bzimage_boot *out,
		 char *err, size_t errlen)
{
	return load_named(mem, l, "KERNEL", kernel, klen, -1, "INITRD", initrd, ilen, -1,
			  cmdline, rsdp_gpa, out, err, errlen);
}

/* The kernel's setup code is at most 64 sectors plus the boot sector; this
 * much of its start is read into memory, the rest goes straight to the guest. */
#define BZ_HEAD_MAX (64 * 1024)

/* An opened image file: its size and (for the kernel) its first bytes. */
struct image_file {
	int fd;
	size_t len;
	u8 *head;       /* the first MIN(len, BZ_HEAD_MAX) bytes, or NULL */
};

/* Open path for reading; on failure one line in err naming opt, the file and the fix. */
static int file_open(const char *opt, const char *path, bool want_head, struct image_file *f,
		     char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;
	int e;

	f->head = NULL;
	f->len = 0;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		e = errno;
		if (e == ENOENT || e == ENOTDIR)
			snprintf(err, errlen, "%s %s: %s: check the path", opt, path, strerror(e));
		else if (e == EACCES || e == EPERM)
			snprintf(err, errlen, "%s %s: %s: make the file readable by this user "
				 "(/boot/vmlinuz-* is often root-only: copy it and chown the copy) "
				 "or run ptvm as root", opt, path, strerror(e));
		else
			snprintf(err, errlen, "%s %s: cannot open: %s", opt, path, strerror(e));
		return -e;
	}
	if (fstat(f->fd, &st) < 0) {
		e = errno;
		snprintf(err, errlen, "%s %s: cannot stat: %s", opt, path, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s: not a regular file: give the path of the file itself",
			 opt, path);
		return -EINVAL;
	}
	if (st.st_size == 0) {
		snprintf(err, errlen, "%s %s: the file is empty: check the path", opt, path);
		return -EINVAL;
	}
	f->len = (size_t)st.st_size;
	if (!want_head)
		return 0;
	f->head = malloc(MIN(f->len, (size_t)BZ_HEAD_MAX));
	if (!f->head)
		return -ENOMEM;
	while (got < MIN(f->len, (size_t)BZ_HEAD_MAX)) {
		ssize_t n = pread(f->fd, f->head + got, MIN(f->len, (size_t)BZ_HEAD_MAX) - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : EIO;
			snprintf(err, errlen, "%s %s: cannot read: %s", opt, path, strerror(e));
			return -e;
		}
		got += (size_t)n;
	}
	return 0;
}

/* Undo file_open(); harmless on a file that was never opened. */
static void file_close(struct image_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->head);
	f->fd = -1;
	f->head = NULL;
}

// Read the kernel and initrd files, then load them like bzimage_load().
int bzimage_load_files(struct mem_map *mem, const struct layout *l,
		       const char *kernel_path, const char *initrd_path,
		       const char *cmdline, u64 rsdp_gpa, struct bzimage_boot *out,
		       char *err, size_t errlen)
{
	struct image_file k = { .fd = -1 }, i = { .fd = -1 };
	int ret;

	ret = file_open("--kernel", kernel_path, true, &k, err, errlen);
	if (!ret && initrd_path)
		ret = file_open("--initrd", initrd_path, false, &i, err, errlen);
	if (!ret)
		ret = load_named(mem, l, kernel_path, k.head, k.len, k.fd,
				 initrd_path ? initrd_path : "INITRD", NULL, i.len, i.fd,
				 cmdline, rsdp_gpa, out, err, errlen);
	file_close(&i);
	file_close(&k);
	return ret;
}
