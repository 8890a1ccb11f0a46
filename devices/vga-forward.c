/*
 * x-vga forwarding (see vga-forward.h). Every access is one pread/pwrite on
 * the VFIO device fd; the kernel's vfio-pci VGA code does the legacy cycle.
 */
#include <errno.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>

#include "devices/vga-forward.h"
#include "passthrough/vfio-device.h"
#include "vmm/log.h"
#include "vmm/vm.h"

// Forward one access; a failed read gives all ones, as an absent device would.
static void vga_access(void *opaque, struct bus_access *a)
{
	struct vga_forward *v = opaque;
	int ret;

	if (a->is_write)
		ret = vdev_write(v->dev, VFIO_PCI_VGA_REGION_INDEX, a->addr, a->data, a->len);
	else
		ret = vdev_read(v->dev, VFIO_PCI_VGA_REGION_INDEX, a->addr, a->data, a->len);
	if (ret && !a->is_write)
		memset(a->data, 0xff, a->len);
	if (ret)
		pr_debug("vga %s 0x%llx+%u: %s", a->is_write ? "write" : "read",
			 (unsigned long long)a->addr, a->len, strerror(-ret));
}

// The card must be VGA and the host kernel must offer its VGA region.
int vga_forward_check(const struct vdev *d, u32 class_code, const char *host, char *err,
		      size_t errlen)
{
	if ((class_code >> 8) != VGA_CLASS) {
		snprintf(err, errlen,
			 "x-vga=on: %s is not a VGA device (class %06x, VGA is 0300xx): drop x-vga=on for it",
			 host, class_code);
		return -ENODEV;
	}
	if (d->nr_regions <= VFIO_PCI_VGA_REGION_INDEX || !d->regions[VFIO_PCI_VGA_REGION_INDEX].size) {
		snprintf(err, errlen,
			 "x-vga=on: the host kernel offers no VGA region for %s: it needs vfio-pci with VGA support (CONFIG_VFIO_PCI_VGA) and the card must decode legacy VGA",
			 host);
		return -ENODEV;
	}
	return 0;
}

// Cut 0xA0000-0xBFFFF out of the low RAM region so accesses there exit to us.
static int split_low_ram(struct vga_forward *v)
{
	struct mem_map *m = &v->vm->mem;
	struct mem_region *r = mem_find(m, VGA_MMIO_BASE);
	struct mem_region below, above;
	int ret;

	if (!r || r->kind != MEM_RAM)
		return 0; /* no RAM there: nothing to cut */
	if (r->gpa != 0 || r->size < VGA_MMIO_BASE + VGA_MMIO_SIZE)
		return -EINVAL;
	v->ram_hva = r->hva;
	v->ram_size = r->size;
	below = (struct mem_region){ .name = "ram-low", .gpa = 0, .size = VGA_MMIO_BASE,
				     .hva = r->hva, .kind = MEM_RAM };
	above = (struct mem_region){ .name = "ram-low-above-vga", .gpa = VGA_MMIO_BASE + VGA_MMIO_SIZE,
				     .size = r->size - VGA_MMIO_BASE - VGA_MMIO_SIZE,
				     .hva = (u8 *)r->hva + VGA_MMIO_BASE + VGA_MMIO_SIZE, .kind = MEM_RAM };
	ret = mem_del(m, 0);
	ret = ret ?: mem_add(m, &below);
	ret = ret ?: mem_add(m, &above);
	if (ret)
		return ret;
	v->ram_split = true;
	return 0;
}

// Put the low RAM region back whole.
static void join_low_ram(struct vga_forward *v)
{
	struct mem_region whole = { .name = "ram-low", .gpa = 0, .size = v->ram_size,
				    .hva = v->ram_hva, .kind = MEM_RAM };

	if (!v->ram_split)
		return;
	mem_del(&v->vm->mem, VGA_MMIO_BASE + VGA_MMIO_SIZE);
	mem_del(&v->vm->mem, 0);
	if (mem_add(&v->vm->mem, &whole))
		pr_warn("vga: cannot restore the low RAM region");
	v->ram_split = false;
}

// Check, split RAM, claim the three ranges.
int vga_forward_create(struct vga_forward *v, struct vm *vm, const struct vdev *d, u32 class_code,
		       const char *host)
{
	struct bus_region *regs[3];
	char err[384];
	int ret;

	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->dev = d;
	ret = vga_forward_check(d, class_code, host, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		return ret;
	}
	ret = split_low_ram(v);
	if (ret) {
		pr_err("x-vga=on: cannot free 0xa0000-0xbffff from guest RAM: %s", strerror(-ret));
		return ret;
	}
	v->mmio = (struct bus_region){ .name = "vga-mmio", .space = BUS_MMIO, .base = VGA_MMIO_BASE,
				       .size = VGA_MMIO_SIZE, .access = vga_access, .opaque = v };
	v->mono = (struct bus_region){ .name = "vga-mono", .space = BUS_PIO, .base = VGA_PIO_MONO_BASE,
				       .size = VGA_PIO_MONO_SIZE, .access = vga_access, .opaque = v };
	v->vga = (struct bus_region){ .name = "vga-io", .space = BUS_PIO, .base = VGA_PIO_BASE,
				      .size = VGA_PIO_SIZE, .access = vga_access, .opaque = v };
	regs[0] = &v->mmio;
	regs[1] = &v->mono;
	regs[2] = &v->vga;
	for (; v->nr_registered < 3; v->nr_registered++) {
		ret = bus_register(&vm->bus, regs[v->nr_registered]);
		if (ret) {
			pr_err("x-vga=on: the legacy VGA range %s is taken (only one x-vga device can exist)",
			       regs[v->nr_registered]->name);
			vga_forward_destroy(v);
			return ret;
		}
	}
	return 0;
}

// Unregister what was registered and restore RAM.
void vga_forward_destroy(struct vga_forward *v)
{
	struct bus_region *regs[3] = { &v->mmio, &v->mono, &v->vga };

	if (!v->vm)
		return;
	while (v->nr_registered > 0)
		bus_unregister(&v->vm->bus, regs[--v->nr_registered]);
	join_low_ram(v);
	v->vm = NULL;
}
