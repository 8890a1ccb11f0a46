/*
 * PCI passthrough BARs (see vfio-pci-priv.h): each BAR split into mmapped
 * pieces (KVM memory slots) and trapped pieces (MSI-X table and PBA, or
 * forwarded to the VFIO region), moved and toggled as the guest programs the
 * BAR and command registers; the ROM BAR served from a checked copy.
 *
 * Locking: guest accesses arrive with vm->lock held; setup, reset and destroy
 * run with the vCPUs stopped.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "passthrough/vfio-pci-priv.h"
#include "vmm/log.h"

#define PAGE 4096ULL

/* Trapped BAR pieces: MSI-X table, PBA, or forwarded to the VFIO region. */
static void bar_trap_access(void *opaque, struct bus_access *a)
{
	struct vpci_seg *s = opaque;
	struct vfio_pci *v = s->v;
	u64 off = s->off + a->offset;
	int ret;

	if (a->offset + a->len > s->size) {
		if (!a->is_write)
			memset(a->data, 0xff, a->len);
		return;
	}
	if (v->has_msix && s->bar == v->msix.table_bar && off >= v->msix.table_off &&
	    off + a->len <= v->msix.table_off + msix_table_size(&v->msix)) {
		vpci_msix_table_access(v, off - v->msix.table_off, a);
		return;
	}
	if (v->has_msix && s->bar == v->msix.pba_bar && off >= v->msix.pba_off &&
	    off + a->len <= v->msix.pba_off + msix_pba_size(&v->msix)) {
		vpci_msix_pba_access(v, off - v->msix.pba_off, a);
		return;
	}
	if (a->is_write)
		ret = vdev_write(&v->dev, s->bar, off, a->data, a->len);
	else
		ret = vdev_read(&v->dev, s->bar, off, a->data, a->len);
	if (ret && !a->is_write)
		memset(a->data, 0xff, a->len);
}

/* ROM BAR reads come from the copy; writes are dropped. */
static void rom_access(void *opaque, struct bus_access *a)
{
	struct vfio_pci *v = opaque;
	u64 val;

	if (a->is_write)
		return;
	val = vrom_read(&v->rom, a->offset, a->len);
	memcpy(a->data, &val, a->len);
}

/* Take BAR i out of the guest's address space. */
void vpci_bar_unmap(struct vfio_pci *v, int i)
{
	struct vpci_bar *b = &v->bars[i];
	struct vm *vm = v->pt->vm;

	if (!b->mapped)
		return;
	if (i == VCFG_ROM_BAR) {
		bus_unregister(&vm->bus, &v->rom_region);
	} else {
		for (int k = 0; k < b->nr_segs; k++) {
			struct vpci_seg *s = &b->segs[k];

			if (s->mmap)
				mem_del(&vm->mem, b->gpa + s->off);
			else
				bus_unregister(&vm->bus, &s->trap);
		}
	}
	b->mapped = false;
}

/* Put BAR i at gpa: slots over the mmaps, bus regions for the traps. A place
 * that collides with RAM or another device is refused (the BAR stays off). */
static int bar_map(struct vfio_pci *v, int i, u64 gpa)
{
	struct vpci_bar *b = &v->bars[i];
	struct vm *vm = v->pt->vm;
	int ret = 0, k;

	if (gpa + b->size < gpa || (b->type != VCFG_BAR_IO && gpa + b->size > (1ULL << vm->layout.phys_bits)))
		return -EINVAL;
	if (i == VCFG_ROM_BAR) {
		v->rom_region.base = gpa;
		ret = bus_register(&vm->bus, &v->rom_region);
		if (ret)
			return ret;
		b->gpa = gpa;
		b->mapped = true;
		return 0;
	}
	for (k = 0; k < b->nr_segs && !ret; k++) {
		struct vpci_seg *s = &b->segs[k];

		if (s->mmap) {
			struct mem_region r = {
				.name = s->name, .gpa = gpa + s->off, .size = s->size, .hva = s->hva,
				.kind = MEM_DEVICE, .slot = -1,
			};

			ret = mem_add(&vm->mem, &r);
		} else {
			s->trap.base = gpa + s->off;
			ret = bus_register(&vm->bus, &s->trap);
		}
	}
	if (ret) {
		/* unwind the pieces placed before the failing one */
		for (int j = 0; j < k - 1; j++) {
			if (b->segs[j].mmap)
				mem_del(&vm->mem, gpa + b->segs[j].off);
			else
				bus_unregister(&vm->bus, &b->segs[j].trap);
		}
		return ret;
	}
	b->gpa = gpa;
	b->mapped = true;
	return 0;
}

/* Make BAR i's mapping follow the config space: decode on and an address
 * set means mapped there; anything else means unmapped. With only_unmap, do
 * the unmapping part only (before the device itself stops decoding). */
void vpci_bar_update(struct vfio_pci *v, int i, bool only_unmap)
{
	struct vpci_bar *b = &v->bars[i];
	bool want = vcfg_bar_enabled(&v->cs, i);
	u64 gpa = vcfg_bar_addr(&v->cs, i);
	int ret;

	if (b->type == VCFG_BAR_NONE || b->type == VCFG_BAR_MEM64_HI)
		return;
	if (!gpa)
		want = false;
	if (b->mapped && want && b->gpa == gpa)
		return;
	vpci_bar_unmap(v, i);
	if (!want || only_unmap)
		return;
	ret = bar_map(v, i, gpa);
	if (ret)
		pr_debug("%s: BAR %d not mapped at 0x%" PRIx64 ": %s", v->name, i, gpa,
			 strerror(-ret));
	else
		pr_debug("%s: BAR %d at 0x%" PRIx64, v->name, i, gpa);
}

/* Split BAR i into mmapped and trapped pieces and mmap the former. */
static int bar_prepare(struct vfio_pci *v, int i)
{
	struct vpci_bar *b = &v->bars[i];
	const struct vdev_region *r = &v->dev.regions[i];
	struct barmap_range ok[VDEV_MAX_AREAS], traps[2];
	struct barmap_seg segs[BARMAP_MAX_SEGS];
	int nt = 0, n;

	for (int k = 0; k < r->nr_areas; k++) {
		ok[k].off = r->areas[k].off;
		ok[k].size = r->areas[k].size;
	}
	if (v->has_msix && v->msix.table_bar == i)
		traps[nt++] = (struct barmap_range){ v->msix.table_off, msix_table_size(&v->msix) };
	if (v->has_msix && v->msix.pba_bar == i)
		traps[nt++] = (struct barmap_range){ v->msix.pba_off, msix_pba_size(&v->msix) };
	if (b->type == VCFG_BAR_IO)
		n = barmap_split(b->size, NULL, 0, NULL, 0, PAGE, segs, BARMAP_MAX_SEGS);
	else
		n = barmap_split(b->size, ok, r->nr_areas, traps, nt, PAGE, segs, BARMAP_MAX_SEGS);
	if (n < 0)
		return n;
	b->nr_segs = n;
	for (int k = 0; k < n; k++) {
		struct vpci_seg *s = &b->segs[k];

		s->v = v;
		s->bar = i;
		s->off = segs[k].off;
		s->size = segs[k].size;
		s->mmap = segs[k].mmap;
		snprintf(s->name, sizeof(s->name), "%s BAR%d+%" PRIx64, v->info.dev.bdf, i, s->off);
		if (s->mmap) {
			s->hva = vdev_mmap(&v->dev, i, s->off, s->size);
			if (s->hva == MAP_FAILED) {
				/* fall back to trapping this piece */
				pr_debug("%s: mmap of BAR %d+0x%" PRIx64 " failed: trapping it",
					 v->name, i, s->off);
				s->hva = NULL;
				s->mmap = false;
			}
		}
		if (!s->mmap) {
			s->trap.name = s->name;
			s->trap.space = b->type == VCFG_BAR_IO ? BUS_PIO : BUS_MMIO;
			s->trap.size = s->size;
			s->trap.access = bar_trap_access;
			s->trap.opaque = s;
		}
		pr_debug("%s: BAR %d +0x%" PRIx64 " size 0x%" PRIx64 " %s", v->name, i, s->off,
			 s->size, s->mmap ? "mapped" : "trapped");
	}
	return 0;
}

/* Release BAR mmaps. */
void vpci_bars_release(struct vfio_pci *v)
{
	for (int i = 0; i < VCFG_NR_BARS; i++) {
		struct vpci_bar *b = &v->bars[i];

		vpci_bar_unmap(v, i);
		for (int k = 0; k < b->nr_segs; k++)
			if (b->segs[k].hva)
				munmap(b->segs[k].hva, b->segs[k].size);
		b->nr_segs = 0;
	}
	vpci_bar_unmap(v, VCFG_ROM_BAR);
}

/* Place every BAR like firmware would, and decide the setup decode bits. */
int vpci_bars_place(struct vfio_pci *v)
{
	struct pci_bus *bus = v->pt->bus;

	v->setup_cmd = 0;
	for (int i = 0; i <= VCFG_NR_BARS; i++) {
		struct vpci_bar *b = &v->bars[i];
		enum pci_bar_kind kind;
		u64 addr;
		int ret;

		b->type = v->cs.bars[i].type;
		b->size = v->cs.bars[i].size;
		if (b->type == VCFG_BAR_NONE || b->type == VCFG_BAR_MEM64_HI)
			continue;
		kind = b->type == VCFG_BAR_IO ? PCI_BAR_IO :
		       b->type == VCFG_BAR_MEM64 ? PCI_BAR_MEM64 : PCI_BAR_MEM32;
		ret = pci_alloc_bar(bus, kind, MAX(b->size, b->type == VCFG_BAR_IO ? 4 : PAGE), &addr);
		if (ret) {
			pr_err("%s: no room for BAR %d (%" PRIu64 " KiB) in the guest's PCI window",
			       v->name, i, (u64)(b->size / KiB));
			return ret;
		}
		b->setup_addr = addr;
		vcfg_set_bar(&v->cs, i, addr);
		if (i != VCFG_ROM_BAR)
			v->setup_cmd |= b->type == VCFG_BAR_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
		if (i != VCFG_ROM_BAR && (ret = bar_prepare(v, i)))
			return ret;
	}
	return 0;
}

/* Turn on the setup decode bits in the device and the view, then map. */
void vpci_bars_enable(struct vfio_pci *v)
{
	u16 cmd = vdev_cfg_read(&v->dev, PCI_COMMAND, 2);

	cmd = (cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)) | v->setup_cmd;
	vdev_cfg_write(&v->dev, PCI_COMMAND, 2, cmd);
	vcfg_set_cmd(&v->cs, v->setup_cmd);
	for (int i = 0; i <= VCFG_NR_BARS; i++)
		vpci_bar_update(v, i, false);
}

/* ROM: romfile= wins; else the device's ROM region; rombar=off: none. */
int vpci_rom_setup(struct vfio_pci *v)
{
	const struct vdev_region *r = &v->dev.regions[VFIO_PCI_ROM_REGION_INDEX];
	char msg[160];
	u8 *buf;
	int ret;

	if (!v->cfg->rombar)
		return 0;
	if (v->cfg->romfile) {
		/* loaded in passthrough_init's first phase */
	} else {
		if (!r->size || r->size > 16 * MiB)
			return 0; /* no ROM: tolerated, the ROM BAR reads 0 */
		buf = malloc(r->size);
		if (!buf)
			return -ENOMEM;
		ret = vdev_read(&v->dev, VFIO_PCI_ROM_REGION_INDEX, 0, buf, r->size);
		if (ret || !(buf[0] == 0x55 && buf[1] == 0xaa)) {
			/* unreadable or blank ROMs are common (ROM not enabled, no image) */
			pr_debug("%s: no usable ROM in the device (%s)", v->name,
				 ret ? strerror(-ret) : "no 0x55AA signature");
			free(buf);
			return 0;
		}
		ret = vrom_set(&v->rom, buf, r->size);
		free(buf);
		if (ret)
			return ret;
	}
	ret = vrom_validate(v->rom.data, v->rom.len, v->info.vendor, v->info.device, msg,
			    sizeof(msg));
	if (ret)
		pr_warn("%s: ROM %s: %s", v->name, v->cfg->romfile ? v->cfg->romfile : "image", msg);
	v->rom_region = (struct bus_region){
		.name = v->name, .space = BUS_MMIO, .size = v->rom.size,
		.access = rom_access, .opaque = v,
	};
	return 0;
}
