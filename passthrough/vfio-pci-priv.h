/*
 * Private to the passthrough glue (vfio-pci.c: setup, teardown, config
 * access; vfio-intr.c: INTx, MSI, MSI-X; vfio-bars.c: BAR and ROM BAR
 * mapping). Include it from those three files only; the interface to the rest
 * of ptvm is vfio-pci.h.
 *
 * Locking: config and trapped-BAR accesses arrive with vm->lock held (bus and
 * PCI callbacks); setup, reset and destroy run with the vCPUs stopped.
 */
#ifndef PTVM_VFIO_PCI_PRIV_H
#define PTVM_VFIO_PCI_PRIV_H

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
#include "vmm/vm.h"

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

/* vfio-intr.c */

/* Drop every vector: irqfds, routes, GSIs, eventfds. */
void vpci_vecs_free(struct vfio_pci *v);
/* Wire INTx (trigger irqfd + resample eventfd) if the device has it; 0 or -errno. */
int vpci_intx_enable(struct vfio_pci *v);
/* INTx off (MSI/MSI-X on, reset, stop). */
void vpci_intx_disable(struct vfio_pci *v);
/* The guest wrote the MSI capability: follow it in the host. */
void vpci_msi_changed(struct vfio_pci *v);
/* The guest wrote MSI-X message control ctrl: follow it in the host. */
void vpci_msix_ctrl_changed(struct vfio_pci *v, u16 ctrl);
/* Guest access at off in the emulated MSI-X table. */
void vpci_msix_table_access(struct vfio_pci *v, u32 off, struct bus_access *a);
/* Guest access at off in the emulated MSI-X PBA (reads only). */
void vpci_msix_pba_access(struct vfio_pci *v, u32 off, struct bus_access *a);

/* vfio-bars.c */

/* Take BAR i (VCFG_ROM_BAR: the ROM BAR) out of the guest's address space. */
void vpci_bar_unmap(struct vfio_pci *v, int i);
/* Make BAR i's mapping follow the config view; only_unmap: unmapping part only. */
void vpci_bar_update(struct vfio_pci *v, int i, bool only_unmap);
/* Unmap every BAR and release the BAR mmaps. */
void vpci_bars_release(struct vfio_pci *v);
/* Place every BAR like firmware would, prepare its pieces, decide setup_cmd. */
int vpci_bars_place(struct vfio_pci *v);
/* Turn on the setup decode bits in the device and the view, then map. */
void vpci_bars_enable(struct vfio_pci *v);
/* Set up the ROM BAR's image and bus region (romfile=, device ROM or none). */
int vpci_rom_setup(struct vfio_pci *v);

#endif
