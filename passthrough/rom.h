/*
 * The expansion ROM of a passed-through device, offered as an emulated ROM
 * BAR: a read-only copy taken at setup, from romfile= or from the VFIO ROM
 * region. Pure apart from vrom_load_file().
 */
#ifndef PTVM_ROM_H
#define PTVM_ROM_H

#include <stddef.h>

#include "vmm/common.h"

struct vrom {
	u8 *data;
	u64 len;   /* bytes of image */
	u64 size;  /* BAR size: len rounded up to a power of two, at least 2 KiB */
};

/*
 * Check an image: 0 if it starts with 0x55 0xAA and its PCI data structure
 * ("PCIR") names vendor:device; 1 with a warning in msg if the IDs differ or
 * there is no PCIR (some ROMs hold several images; the guest may still use
 * it); -EINVAL with msg if the 0x55AA signature is missing.
 */
int vrom_validate(const u8 *img, size_t len, u16 vendor, u16 device, char *msg, size_t msglen);
/* Take a copy of img (len > 0) as the ROM; -ENOMEM. */
int vrom_set(struct vrom *r, const u8 *img, size_t len);
/* Read a romfile into *r; -errno with one line in err (missing, unreadable, empty). */
int vrom_load_file(struct vrom *r, const char *path, char *err, size_t errlen);
/* len bytes at off of the BAR: the image, 0xff past its end. */
u64 vrom_read(const struct vrom *r, u64 off, int len);
void vrom_free(struct vrom *r);

#endif
