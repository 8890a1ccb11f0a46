/*
 * x-vga: the legacy VGA ranges of a passed-through VGA card, forwarded to it
 * through its VFIO VGA region (index VFIO_PCI_VGA_REGION_INDEX, offsets equal
 * to the legacy addresses):
 *
 *   MMIO 0xA0000-0xBFFFF   frame buffer window
 *   I/O  0x3B0-0x3BB       monochrome registers
 *   I/O  0x3C0-0x3DF       VGA registers
 *
 * Guest RAM covers 0xA0000-0xBFFFF on this machine, so vga_forward_create()
 * cuts that range out of the low RAM region (memory slots and IOMMU follow
 * the memory map). With it, the firmware runs the card's option ROM and the
 * card is the primary display. Call it at setup, before the vCPUs run and
 * before the IOMMU maps guest RAM, for each device with x-vga=on.
 */
#ifndef PTVM_VGA_FORWARD_H
#define PTVM_VGA_FORWARD_H

#include "vmm/bus.h"
#include "vmm/common.h"

struct vm;
struct vdev;

#define VGA_MMIO_BASE 0xa0000ULL
#define VGA_MMIO_SIZE 0x20000ULL
#define VGA_PIO_MONO_BASE 0x3b0
#define VGA_PIO_MONO_SIZE 0xc
#define VGA_PIO_BASE 0x3c0
#define VGA_PIO_SIZE 0x20
#define VGA_CLASS 0x0300 /* base class 03 (display), subclass 00 (VGA) */

struct vga_forward {
	struct vm *vm;
	const struct vdev *dev;
	struct bus_region mmio, mono, vga;
	int nr_registered;
	bool ram_split;
	u8 *ram_hva;  /* the low RAM region as it was, to restore it */
	u64 ram_size;
};

/* Check that class_code (24 bits) is a VGA device and d has a VGA region,
 * else -ENODEV with one line in err naming host and the fix. */
int vga_forward_check(const struct vdev *d, u32 class_code, const char *host, char *err,
		      size_t errlen);
/* Check, split low RAM and claim the ranges. 0 or -errno (printed). */
int vga_forward_create(struct vga_forward *v, struct vm *vm, const struct vdev *d, u32 class_code,
		       const char *host);
/* Give the ranges back and restore the low RAM region. */
void vga_forward_destroy(struct vga_forward *v);

#endif
