/*
 * PCI passthrough glue (see vfio-pci.h): wires the pure config-space and
 * MSI/MSI-X emulation to the VFIO device, the IOMMU backend, the guest memory
 * map, the buses and KVM's irqfds.
 *
 * Locking: config and trapped-BAR accesses arrive with vm->lock held (bus and
 * PCI callbacks); setup, reset and destroy run with the vCPUs stopped.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/pci/pci.h"
#include "devices/vga-forward.h"
#include "passthrough/bar-map.h"
#include "passthrough/config-space.h"
#include "passthrough/host/bind.h"
#include "passthrough/iommu.h"
#include "passthrough/msix.h"
#include "passthrough/rom.h"
#include "passthrough/vfio-device.h"
#include "passthrough/vfio-group.h"
#include "passthrough/vfio-pci.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define PAGE 4096ULL
#define VPCI_MAX_VECS 2048

struct vfio_pci;

/* A piece of a BAR: directly mapped (hva) or trapped (trap). */
struct vpci_seg {
	struct vfio_pci *v;
	int bar;
	u64 off, size;
	bool mmap;
	void *hva;
	struct bus_region trap;
	char name[48];
};

struct vpci_bar {
	enum vcfg_bar_type type;
	u64 size;
	u64 setup_addr;   /* where setup placed it (reset puts it back) */
	u64 gpa;          /* where it is mapped now */
	bool mapped;
	struct vpci_seg segs[BARMAP_MAX_SEGS];
	int nr_segs;
};

/* One MSI or MSI-X vector: host eventfd -> irqfd -> KVM route. */
struct vpci_vec {
	int gsi;   /* -1: none yet */
	int efd;   /* -1: none yet */
	bool armed;
};

enum vpci_irq_mode { VPCI_IRQ_NONE, VPCI_IRQ_INTX, VPCI_IRQ_MSI, VPCI_IRQ_MSIX };

struct vfio_pci {
	struct passthrough *pt;
	const struct vfio_dev_config *cfg;
	struct vgrp_info info;
	char name[32];            /* "vfio 0000:03:00.0" */
	struct host_bind_state bind;
	bool bound;               /* managed=on changed the host driver */
	bool attached;
	struct vdev dev;
	bool open;
	struct pci_dev pci;
	bool registered;
	struct vcfg cs;
	struct msi msi;
	struct msix msix;
	bool has_msix;
	struct vpci_bar bars[VCFG_NR_BARS + 1];
	struct vrom rom;
	struct bus_region rom_region;
	u16 setup_cmd;            /* decode bits turned on at setup */
	struct vpci_vec *vecs;
	int nr_vecs;
	enum vpci_irq_mode mode;
	int host_nvec;            /* MSI-X vectors the host has enabled */
	int intx_efd, intx_rfd;
	bool intx_on;
	bool reset_warned;        /* "no reset method" said once */
	struct vga_forward vga;   /* x-vga=on: the legacy VGA ranges go to the device */
	bool vga_on;
};

struct passthrough {
	struct vm *vm;
	struct pci_bus *bus;
	struct sysfs sys;
	struct iommu io;
	bool io_open;
	int kvm_vfio_fd;
	struct vfio_pci *devs[CONFIG_MAX_DEVICES];
	int nr;
};

/* ------------------------------------------------------------------ */
/* Interrupts                                                          */

/* Create the eventfd and GSI of a vector and stage its route. */
static int vec_create(struct vfio_pci *v, int i, u64 addr, u32 data)
{
	struct vpci_vec *x = &v->vecs[i];
	struct vm *vm = v->pt->vm;
	int ret;

	if (x->efd < 0) {
		x->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (x->efd < 0)
			return -errno;
	}
	if (x->gsi < 0) {
		x->gsi = irq_gsi_alloc(vm);
		if (x->gsi < 0) {
			ret = x->gsi;
			x->gsi = -1;
			pr_err("%s: out of GSIs for vector %d", v->name, i);
			return ret;
		}
	}
	return irq_route_msi(vm, x->gsi, addr, data);
}

/* Attach (armed) or detach the vector's irqfd. While detached the host keeps
 * counting in the eventfd; KVM injects a pending count on re-attach. */
static void vec_arm(struct vfio_pci *v, int i, bool arm)
{
	struct vpci_vec *x = &v->vecs[i];
	struct vm *vm = v->pt->vm;
	int ret;

	if (x->efd < 0 || x->gsi < 0 || x->armed == arm)
		return;
	ret = arm ? irq_irqfd_add(vm, x->gsi, x->efd, -1) : irq_irqfd_del(vm, x->gsi, x->efd);
	if (ret)
		pr_warn("%s: irqfd %s for vector %d (GSI %d): %s", v->name, arm ? "add" : "del", i,
			x->gsi, strerror(-ret));
	else
		x->armed = arm;
}

/* Drop every vector: irqfds, routes, GSIs, eventfds. */
static void vecs_free(struct vfio_pci *v)
{
	struct vm *vm = v->pt->vm;
	bool any = false;

	for (int i = 0; i < v->nr_vecs; i++) {
		struct vpci_vec *x = &v->vecs[i];

		vec_arm(v, i, false);
		if (x->gsi >= 0) {
			irq_gsi_free(vm, x->gsi);
			any = true;
		}
		if (x->efd >= 0)
			close(x->efd);
		x->gsi = x->efd = -1;
		x->armed = false;
	}
	if (any)
		irq_commit(vm);
}

/* INTx: the VFIO trigger eventfd is a level irqfd on the slot's GSI; KVM
 * signals the resample eventfd at EOI, which unmasks INTx in the kernel. */
static int intx_enable(struct vfio_pci *v)
{
	int ret;

	if (v->intx_on || v->pci.intx_gsi < 0 || !v->dev.irq_count[VFIO_PCI_INTX_IRQ_INDEX])
		return 0;
	if (v->intx_efd < 0)
		v->intx_efd = eventfd(0, EFD_CLOEXEC);
	if (v->intx_rfd < 0)
		v->intx_rfd = eventfd(0, EFD_CLOEXEC);
	if (v->intx_efd < 0 || v->intx_rfd < 0)
		return -errno;
	ret = vdev_irq_set_fds(&v->dev, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &v->intx_efd);
	if (!ret)
		ret = vdev_irq_unmask_fd(&v->dev, VFIO_PCI_INTX_IRQ_INDEX, v->intx_rfd);
	if (!ret)
		ret = irq_irqfd_add(v->pt->vm, v->pci.intx_gsi, v->intx_efd, v->intx_rfd);
	if (ret) {
		pr_err("%s: cannot wire INTx to GSI %d: %s", v->name, v->pci.intx_gsi, strerror(-ret));
		vdev_irq_disable(&v->dev, VFIO_PCI_INTX_IRQ_INDEX);
		return ret;
	}
	v->intx_on = true;
	v->mode = VPCI_IRQ_INTX;
	return 0;
}

/* INTx off (MSI/MSI-X on, reset, stop). KVM lowers the line on deassign. */
static void intx_disable(struct vfio_pci *v)
{
	if (!v->intx_on)
		return;
	irq_irqfd_del(v->pt->vm, v->pci.intx_gsi, v->intx_efd);
	vdev_irq_disable(&v->dev, VFIO_PCI_INTX_IRQ_INDEX);
	v->intx_on = false;
	if (v->mode == VPCI_IRQ_INTX)
		v->mode = VPCI_IRQ_NONE;
}

/* Host MSI on with nvec vectors, each a routed, armed eventfd. */
static void msi_enable(struct vfio_pci *v)
{
	int fds[MSI_MAX_VECTORS], n = v->msi.nvec, ret = 0;

	intx_disable(v);
	for (int i = 0; i < n && !ret; i++) {
		u64 addr;
		u32 data;

		msi_vector_msg(&v->msi, i, &addr, &data);
		ret = vec_create(v, i, addr, data);
		fds[i] = v->vecs[i].efd;
	}
	if (!ret)
		ret = irq_commit(v->pt->vm);
	if (!ret)
		ret = vdev_irq_set_fds(&v->dev, VFIO_PCI_MSI_IRQ_INDEX, 0, n, fds);
	if (ret) {
		pr_warn("%s: cannot enable %d MSI vector(s): %s", v->name, n, strerror(-ret));
		vecs_free(v);
		return;
	}
	for (int i = 0; i < n; i++)
		vec_arm(v, i, !msi_vector_masked(&v->msi, i));
	v->mode = VPCI_IRQ_MSI;
	pr_debug("%s: MSI on, %d vector(s)", v->name, n);
}

/* Host MSI off; INTx back. */
static void msi_disable(struct vfio_pci *v)
{
	vecs_free(v);
	vdev_irq_disable(&v->dev, VFIO_PCI_MSI_IRQ_INDEX);
	v->mode = VPCI_IRQ_NONE;
	intx_enable(v);
}

/* The guest wrote the MSI capability. */
static void msi_changed(struct vfio_pci *v)
{
	unsigned act = msi_update(&v->msi, v->cs.shadow);

	if (act & MSI_ACT_DISABLE)
		msi_disable(v);
	if (act & MSI_ACT_ENABLE) {
		msi_enable(v);
		return;
	}
	if (v->mode != VPCI_IRQ_MSI)
		return;
	if (act & MSI_ACT_ROUTE) {
		for (int i = 0; i < v->msi.nvec; i++) {
			u64 addr;
			u32 data;

			msi_vector_msg(&v->msi, i, &addr, &data);
			if (v->vecs[i].gsi >= 0)
				irq_route_msi(v->pt->vm, v->vecs[i].gsi, addr, data);
		}
		irq_commit(v->pt->vm);
	}
	if (act & MSI_ACT_MASK)
		for (int i = 0; i < v->msi.nvec; i++)
			vec_arm(v, i, !msi_vector_masked(&v->msi, i));
}

/* Give the host vector i its eventfd. Without dynamic MSI-X allocation
 * (VFIO_IRQ_INFO_NORESIZE, Linux < 6.5), a vector beyond those enabled needs
 * MSI-X disabled and re-enabled with more vectors, as QEMU does. */
static int msix_host_vector(struct vfio_pci *v, int i)
{
	bool noresize = v->dev.irq_flags[VFIO_PCI_MSIX_IRQ_INDEX] & VFIO_IRQ_INFO_NORESIZE;
	int *fds, n, ret;

	if (i < v->host_nvec || !noresize)
		return vdev_irq_set_fds(&v->dev, VFIO_PCI_MSIX_IRQ_INDEX, i, 1, &v->vecs[i].efd);
	n = i + 1;
	fds = malloc(n * sizeof(int));
	if (!fds)
		return -ENOMEM;
	for (int k = 0; k < n; k++)
		fds[k] = v->vecs[k].efd;
	vdev_irq_disable(&v->dev, VFIO_PCI_MSIX_IRQ_INDEX);
	ret = vdev_irq_set_fds(&v->dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, n, fds);
	free(fds);
	if (!ret)
		v->host_nvec = n;
	return ret;
}

/* Bring vector i in line with the guest's mask: the first unmask creates the
 * host vector (lazily), later ones only (re)attach the irqfd. */
static void msix_sync(struct vfio_pci *v, int i)
{
	struct vpci_vec *x = &v->vecs[i];
	bool masked = msix_vector_masked(&v->msix, i);
	u64 addr;
	u32 data;
	int ret;

	if (masked || v->mode != VPCI_IRQ_MSIX) {
		vec_arm(v, i, false);
		return;
	}
	if (x->efd < 0 || x->gsi < 0) {
		msix_vector_msg(&v->msix, i, &addr, &data);
		ret = vec_create(v, i, addr, data);
		if (!ret)
			ret = irq_commit(v->pt->vm);
		if (!ret)
			ret = msix_host_vector(v, i);
		if (ret) {
			pr_warn("%s: cannot enable MSI-X vector %d: %s", v->name, i, strerror(-ret));
			return;
		}
	}
	vec_arm(v, i, true);
}

/* The guest wrote MSI-X message control. */
static void msix_ctrl_changed(struct vfio_pci *v, u16 ctrl)
{
	unsigned act = msix_ctrl_write(&v->msix, ctrl);

	if (act & MSIX_ACT_DISABLE) {
		vecs_free(v);
		vdev_irq_disable(&v->dev, VFIO_PCI_MSIX_IRQ_INDEX);
		v->host_nvec = 0;
		v->mode = VPCI_IRQ_NONE;
		intx_enable(v);
		return;
	}
	if (act & MSIX_ACT_ENABLE) {
		int none = -1, ret;

		/* Put the device in MSI-X mode now, with vector 0 present but
		 * unconnected: the guest enabled MSI-X with its vectors masked and
		 * devices may depend on the mode before any vector is unmasked. */
		intx_disable(v);
		ret = vdev_irq_set_fds(&v->dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, &none);
		if (ret) {
			pr_warn("%s: cannot enable MSI-X: %s", v->name, strerror(-ret));
			return;
		}
		v->host_nvec = 1;
		v->mode = VPCI_IRQ_MSIX;
		pr_debug("%s: MSI-X on", v->name);
	}
	if (act & MSIX_ACT_MASKS)
		for (int i = 0; i < v->msix.nr; i++)
			msix_sync(v, i);
}

/* Guest access to the emulated MSI-X table. */
static void msix_table_access(struct vfio_pci *v, u32 off, struct bus_access *a)
{
	u64 val = 0;
	int vec;
	unsigned act;

	if (!a->is_write) {
		val = msix_table_read(&v->msix, off, a->len);
		memcpy(a->data, &val, a->len);
		return;
	}
	memcpy(&val, a->data, a->len);
	act = msix_table_write(&v->msix, off, a->len, val, &vec);
	if ((act & MSIX_ACT_ROUTE) && vec < v->nr_vecs && v->vecs[vec].gsi >= 0) {
		u64 addr;
		u32 data;

		msix_vector_msg(&v->msix, vec, &addr, &data);
		irq_route_msi(v->pt->vm, v->vecs[vec].gsi, addr, data);
		irq_commit(v->pt->vm);
	}
	if (act & MSIX_ACT_VMASK)
		msix_sync(v, vec);
}

/* PBA reads: a masked vector is pending if its eventfd has counted. */
static void msix_pba_access(struct vfio_pci *v, u32 off, struct bus_access *a)
{
	u64 val;

	if (a->is_write)
		return;
	for (u32 bit = off * 8; bit < (off + a->len) * 8 && (int)bit < v->msix.nr; bit++) {
		struct pollfd p = { .fd = v->vecs[bit].efd, .events = POLLIN };
		bool pend = false;

		if (p.fd >= 0 && !v->vecs[bit].armed)
			pend = poll(&p, 1, 0) == 1;
		msix_set_pending(&v->msix, bit, pend);
	}
	val = msix_pba_read(&v->msix, off, a->len);
	memcpy(a->data, &val, a->len);
}

/* ------------------------------------------------------------------ */
/* BARs                                                                */

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
		msix_table_access(v, off - v->msix.table_off, a);
		return;
	}
	if (v->has_msix && s->bar == v->msix.pba_bar && off >= v->msix.pba_off &&
	    off + a->len <= v->msix.pba_off + msix_pba_size(&v->msix)) {
		msix_pba_access(v, off - v->msix.pba_off, a);
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
static void bar_unmap(struct vfio_pci *v, int i)
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
static void bar_update(struct vfio_pci *v, int i, bool only_unmap)
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
	bar_unmap(v, i);
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
static void bars_release(struct vfio_pci *v)
{
	for (int i = 0; i < VCFG_NR_BARS; i++) {
		struct vpci_bar *b = &v->bars[i];

		bar_unmap(v, i);
		for (int k = 0; k < b->nr_segs; k++)
			if (b->segs[k].hva)
				munmap(b->segs[k].hva, b->segs[k].size);
		b->nr_segs = 0;
	}
	bar_unmap(v, VCFG_ROM_BAR);
}

/* Place every BAR like firmware would, and decide the setup decode bits. */
static int bars_place(struct vfio_pci *v)
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
static void bars_enable(struct vfio_pci *v)
{
	u16 cmd = vdev_cfg_read(&v->dev, PCI_COMMAND, 2);

	cmd = (cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)) | v->setup_cmd;
	vdev_cfg_write(&v->dev, PCI_COMMAND, 2, cmd);
	vcfg_set_cmd(&v->cs, v->setup_cmd);
	for (int i = 0; i <= VCFG_NR_BARS; i++)
		bar_update(v, i, false);
}

/* ------------------------------------------------------------------ */
/* Config space                                                        */

/* Guest config reads: emulated bits from the view, the rest from the device. */
static u32 cfg_read(struct pci_dev *d, u16 off, int len)
{
	struct vfio_pci *v = d->opaque;
	u32 phys = 0;

	if (vcfg_phys_mask(&v->cs, off, len))
		phys = vdev_cfg_read(&v->dev, off, len);
	return vcfg_read(&v->cs, off, len, phys);
}

/* Guest config writes: update the view, forward the device's bits, act. */
static void cfg_write(struct pci_dev *d, u16 off, int len, u32 val)
{
	struct vfio_pci *v = d->opaque;
	struct vcfg_write_result r;
	unsigned act = vcfg_write(&v->cs, off, len, val, &r);

	/* Slots go before the device stops decoding (VFIO then revokes the
	 * mmaps) and come after it starts, so no vCPU touches a dead mapping. */
	if (act & VCFG_ACT_DECODE)
		for (int i = 0; i <= VCFG_NR_BARS; i++)
			bar_update(v, i, true);
	if (act & VCFG_ACT_FORWARD)
		vdev_cfg_write(&v->dev, off, len, r.fwd_val);
	if (act & VCFG_ACT_DECODE) {
		for (int i = 0; i <= VCFG_NR_BARS; i++)
			bar_update(v, i, false);
	} else if (act & VCFG_ACT_BAR) {
		for (int i = 0; i <= VCFG_NR_BARS; i++)
			if (r.bars_changed & (1u << i))
				bar_update(v, i, false);
	}
	if (act & VCFG_ACT_MSI)
		msi_changed(v);
	if (act & VCFG_ACT_MSIX)
		msix_ctrl_changed(v, r.msix_ctrl);
}

/* ------------------------------------------------------------------ */
/* Device setup                                                        */

/* ROM: romfile= wins; else the device's ROM region; rombar=off: none. */
static int rom_setup(struct vfio_pci *v)
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

/* This device's group fds and ids, for the bus hot reset rung. */
static int our_groups(struct passthrough *pt, int *fds, int *ids)
{
	int n = 0;

	for (int i = 0; i < pt->io.nr_groups; i++) {
		fds[n] = pt->io.groups[i].fd;
		ids[n] = pt->io.groups[i].id;
		n++;
	}
	return n;
}

/* Reset down the ladder and say so when nothing works. */
static void dev_reset(struct vfio_pci *v)
{
	int fds[IOMMU_MAX_GROUPS], ids[IOMMU_MAX_GROUPS];
	int n = our_groups(v->pt, fds, ids);

	if (vdev_reset(&v->dev, fds, ids, n, v->cs.pm_cap) != -ENOTSUP || v->reset_warned)
		return;
	pr_warn("%s: the device has no reset method (no FLR, no PM reset, no bus reset "
		"without other devices): it keeps its state across guest boots", v->name);
	v->reset_warned = true;
}

/* Read config, build the view, place BARs, wire INTx, plug into the bus. */
static int dev_setup(struct vfio_pci *v)
{
	const struct vdev_region *cr = &v->dev.regions[VFIO_PCI_CONFIG_REGION_INDEX];
	u8 *phys = calloc(1, VCFG_SIZE);
	u64 bar_size[VCFG_NR_BARS];
	size_t len = MIN(cr->size, VCFG_SIZE);
	bool intx;
	int ret, slot = v->cfg->slot, fn = v->cfg->fn < 0 ? 0 : v->cfg->fn;

	if (!phys)
		return -ENOMEM;
	ret = len >= 256 ? vdev_read(&v->dev, VFIO_PCI_CONFIG_REGION_INDEX, 0, phys, len) : -EIO;
	if (ret) {
		pr_err("%s: cannot read config space: %s", v->name, strerror(-ret));
		free(phys);
		return ret;
	}
	for (int i = 0; i < VCFG_NR_BARS; i++)
		bar_size[i] = v->dev.regions[i].size;
	ret = rom_setup(v);
	if (ret) {
		free(phys);
		return ret;
	}
	intx = v->dev.irq_count[VFIO_PCI_INTX_IRQ_INDEX] > 0 && phys[PCI_INTERRUPT_PIN];
	ret = vcfg_init(&v->cs, phys, len, bar_size, v->rom.size, intx, v->cfg->multifunction);
	if (ret) {
		pr_err("%s: unsupported config space (a bridge, or a 64-bit BAR 5)", v->name);
		free(phys);
		return ret;
	}
	if (v->cs.msi_cap)
		msi_init(&v->msi, v->cs.msi_cap, (u16)(phys[v->cs.msi_cap + 2] | phys[v->cs.msi_cap + 3] << 8));
	if (v->cs.msix_cap) {
		const u8 *c = phys + v->cs.msix_cap;

		ret = msix_init(&v->msix, v->cs.msix_cap, c[2] | c[3] << 8,
				c[4] | c[5] << 8 | c[6] << 16 | (u32)c[7] << 24,
				c[8] | c[9] << 8 | c[10] << 16 | (u32)c[11] << 24);
		if (ret) {
			pr_err("%s: invalid MSI-X capability", v->name);
			free(phys);
			return ret;
		}
		v->has_msix = true;
	}
	free(phys);
	for (int i = 0; i < v->cs.nr_hidden && i < (int)sizeof(v->cs.hidden_ids); i++)
		pr_debug("%s: hiding %scapability 0x%02x", v->name,
			 v->cs.hidden_ids[i] & 0x80 ? "extended " : "", v->cs.hidden_ids[i] & 0x7f);
	v->nr_vecs = MAX(v->has_msix ? v->msix.nr : 0, v->cs.msi_cap ? MSI_MAX_VECTORS : 0);
	v->vecs = calloc(MAX(v->nr_vecs, 1), sizeof(*v->vecs));
	if (!v->vecs)
		return -ENOMEM;
	for (int i = 0; i < v->nr_vecs; i++)
		v->vecs[i].gsi = v->vecs[i].efd = -1;

	dev_reset(v);
	ret = bars_place(v);
	if (ret)
		return ret;

	v->pci.name = v->name;
	v->pci.intx_pin = intx ? v->cs.shadow[PCI_INTERRUPT_PIN] : 0;
	v->pci.cfg_read = cfg_read;
	v->pci.cfg_write = cfg_write;
	v->pci.opaque = v;
	ret = pci_register(v->pt->bus, &v->pci, slot, fn);
	if (ret) {
		pr_err("%s: cannot plug into guest slot %d.%d: %s%s", v->name, slot, fn,
		       strerror(-ret), ret == -ENOENT ? " (give function 0 of the slot first)" : "");
		return ret;
	}
	v->registered = true;
	if (v->pci.intx_gsi >= 0)
		v->cs.shadow[PCI_INTERRUPT_LINE] = v->pci.intx_gsi;
	bars_enable(v);
	ret = intx_enable(v);
	if (ret)
		return ret;
	pr_info("%s: %04x:%04x at guest 00:%02x.%d, %s%s%s", v->name, v->info.vendor,
		v->info.device, v->pci.slot, v->pci.fn, v->has_msix ? "MSI-X " : "",
		v->cs.msi_cap ? "MSI " : "", v->intx_on ? "INTx" : "");
	return 0;
}

/* Quiesce a device: interrupts off, BARs out of the guest, reset, fds
 * closed. Its group stays attached so DMA unmapping can follow. */
static void dev_quiesce(struct vfio_pci *v)
{
	struct passthrough *pt = v->pt;

	if (v->open) {
		vecs_free(v);
		if (v->mode == VPCI_IRQ_MSI)
			vdev_irq_disable(&v->dev, VFIO_PCI_MSI_IRQ_INDEX);
		if (v->mode == VPCI_IRQ_MSIX)
			vdev_irq_disable(&v->dev, VFIO_PCI_MSIX_IRQ_INDEX);
		intx_disable(v);
		bars_release(v);
		if (v->registered)
			dev_reset(v);
	}
	if (v->registered)
		pci_unregister(pt->bus, &v->pci);
	v->registered = false;
	if (v->intx_efd >= 0)
		close(v->intx_efd);
	if (v->intx_rfd >= 0)
		close(v->intx_rfd);
	v->intx_efd = v->intx_rfd = -1;
	if (v->open)
		close(v->dev.fd);
	v->open = false;
}

/* After the IOMMU mappings are gone: leave the container, give a managed
 * device back to its host driver, free. */
static void dev_free(struct vfio_pci *v)
{
	struct passthrough *pt = v->pt;

	/* the VGA ranges use the device fd: give them back (and low RAM) first */
	if (v->vga_on)
		vga_forward_destroy(&v->vga);
	if (v->attached)
		pt->io.ops->detach(&pt->io, &v->info.dev);
	if (v->bound)
		host_restore_managed(&v->bind);
	msix_free(&v->msix);
	vrom_free(&v->rom);
	free(v->vecs);
	free(v);
}

/* KVM's VFIO pseudo device learns each group (or device cdev), so KVM can
 * handle non-coherent DMA and the kernel can tie the group to this VM. */
static void kvm_vfio_add(struct passthrough *pt, int idx)
{
	struct vfio_pci *v = pt->devs[idx];
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_VFIO };
	int fd = pt->io.ops->kvm_fd(&pt->io, &v->info.dev, v->dev.fd);
	struct kvm_device_attr attr = {
		.group = KVM_DEV_VFIO_GROUP,
		.attr = KVM_DEV_VFIO_GROUP_ADD,
		.addr = (u64)(uintptr_t)&fd,
	};

	for (int i = 0; i < idx; i++)
		if (pt->devs[i]->info.dev.group == v->info.dev.group &&
		    pt->io.ops == &iommu_type1_ops)
			return; /* group already added */
	if (pt->kvm_vfio_fd < 0) {
		if (ioctl(pt->vm->vm_fd, KVM_CREATE_DEVICE, &cd)) {
			pr_warn("vfio: KVM_CREATE_DEVICE(VFIO): %s", strerror(errno));
			return;
		}
		pt->kvm_vfio_fd = cd.fd;
	}
	if (fd >= 0 && ioctl(pt->kvm_vfio_fd, KVM_SET_DEVICE_ATTR, &attr))
		pr_warn("%s: KVM_DEV_VFIO_GROUP_ADD: %s", v->name, strerror(errno));
}

/* Devices sorted so that function 0 of a slot comes before its others. */
static int cfg_order(const void *a, const void *b)
{
	const struct vfio_dev_config *x = *(const struct vfio_dev_config *const *)a;
	const struct vfio_dev_config *y = *(const struct vfio_dev_config *const *)b;

	return (x->fn > 0) - (y->fn > 0);
}

/* See vfio-pci.h. */
u64 passthrough_mmio64_need(const struct vm_config *cfg)
{
	struct sysfs sys;
	u64 need = 0;

	if (sysfs_init(&sys, "/"))
		return 0;
	for (int i = 0; i < cfg->nr_devices; i++)
		need += vgrp_mmio64_need(&sys, cfg->devices[i].host);
	return need;
}

/* See vfio-pci.h. */
int passthrough_init(struct vm *vm, struct pci_bus *bus, struct passthrough **out)
{
	const struct vm_config *cfg = vm->cfg;
	const struct vfio_dev_config *order[CONFIG_MAX_DEVICES];
	struct passthrough *pt;
	char err[1024];
	int ret;

	*out = NULL;
	if (!cfg->nr_devices)
		return 0;
	pt = calloc(1, sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	pt->vm = vm;
	pt->bus = bus;
	pt->kvm_vfio_fd = -1;
	sysfs_init(&pt->sys, "/");
	for (int i = 0; i < cfg->nr_devices; i++)
		order[i] = &cfg->devices[i];
	qsort(order, cfg->nr_devices, sizeof(order[0]), cfg_order);

	/* 1. sysfs checks and romfile= before anything is opened (managed=on binds first) */
	for (int i = 0; i < cfg->nr_devices; i++) {
		struct vfio_pci *v = calloc(1, sizeof(*v));

		if (!v) {
			ret = -ENOMEM;
			goto fail;
		}
		v->pt = pt;
		v->cfg = order[i];
		v->intx_efd = v->intx_rfd = -1;
		snprintf(v->name, sizeof(v->name), "vfio %s", v->cfg->host);
		pt->devs[pt->nr++] = v;
		if (v->cfg->managed) {
			ret = host_bind_managed("/", v->cfg->host, &v->bind);
			if (ret)
				goto fail;
			v->bound = true;
		}
		ret = vgrp_check(&pt->sys, v->cfg->host, &v->info, err, sizeof(err));
		if (ret) {
			pr_err("%s", err);
			goto fail;
		}
		if (v->cfg->rombar && v->cfg->romfile) {
			ret = vrom_load_file(&v->rom, v->cfg->romfile, err, sizeof(err));
			if (ret) {
				pr_err("%s: %s", v->name, err);
				goto fail;
			}
		}
	}

	/* 2. one IOMMU for all, every device attached */
	ret = iommu_open(&pt->io, &pt->devs[0]->info.dev);
	if (ret)
		goto fail;
	pt->io_open = true;
	for (int i = 0; i < pt->nr; i++) {
		struct vfio_pci *v = pt->devs[i];
		int fd;

		ret = pt->io.ops->attach(&pt->io, &v->info.dev, &fd);
		if (ret)
			goto fail;
		v->attached = true;
		ret = vdev_setup(&v->dev, fd, v->cfg->host);
		if (ret) {
			close(fd);
			pr_err("%s: cannot read the VFIO device: %s", v->name, strerror(-ret));
			goto fail;
		}
		v->open = true;
		iommu_add_reserved(&pt->io, v->info.reserved, v->info.nr_reserved);
		kvm_vfio_add(pt, i);
		/* x-vga cuts 0xA0000-0xBFFFF out of guest RAM: before the IOMMU maps RAM */
		if (v->cfg->x_vga) {
			ret = vga_forward_create(&v->vga, vm, &v->dev,
						 vdev_cfg_read(&v->dev, 0x08, 4) >> 8, v->cfg->host);
			if (ret)
				goto fail;
			v->vga_on = true;
		}
	}

	/* 3. guest RAM into the IOMMU, before any device can start DMA */
	ret = iommu_map_guest(&pt->io, &vm->mem);
	if (ret)
		goto fail;

	/* 4. the devices themselves */
	for (int i = 0; i < pt->nr; i++) {
		ret = dev_setup(pt->devs[i]);
		if (ret)
			goto fail;
	}
	*out = pt;
	return 0;
fail:
	passthrough_destroy(pt);
	return ret < 0 ? ret : -EIO;
}

/* See vfio-pci.h. */
void passthrough_reset(struct passthrough *pt)
{
	if (!pt)
		return;
	for (int i = 0; i < pt->nr; i++) {
		struct vfio_pci *v = pt->devs[i];
		u64 addrs[VCFG_NR_BARS + 1];

		vecs_free(v);
		if (v->mode == VPCI_IRQ_MSI)
			vdev_irq_disable(&v->dev, VFIO_PCI_MSI_IRQ_INDEX);
		if (v->mode == VPCI_IRQ_MSIX)
			vdev_irq_disable(&v->dev, VFIO_PCI_MSIX_IRQ_INDEX);
		v->mode = VPCI_IRQ_NONE;
		v->host_nvec = 0;
		intx_disable(v);
		for (int b = 0; b <= VCFG_NR_BARS; b++) {
			bar_unmap(v, b);
			addrs[b] = v->bars[b].setup_addr;
		}
		if (v->has_msix)
			msix_reset(&v->msix);
		if (v->cs.msi_cap)
			msi_init(&v->msi, v->cs.msi_cap, v->msi.ctrl_caps);
		dev_reset(v);
		vcfg_reset(&v->cs, addrs, v->setup_cmd);
		bars_enable(v);
		intx_enable(v);
	}
}

/* See vfio-pci.h. */
void passthrough_destroy(struct passthrough *pt)
{
	if (!pt)
		return;
	for (int i = pt->nr - 1; i >= 0; i--)
		dev_quiesce(pt->devs[i]);
	if (pt->io_open)
		iommu_unmap_guest(&pt->io);
	for (int i = pt->nr - 1; i >= 0; i--)
		dev_free(pt->devs[i]);
	pt->nr = 0;
	if (pt->io_open)
		iommu_close(&pt->io);
	if (pt->kvm_vfio_fd >= 0)
		close(pt->kvm_vfio_fd);
	free(pt);
}
