/*
 * PCI passthrough glue (see vfio-pci.h): wires the pure config-space and
 * MSI/MSI-X emulation to the VFIO device, the IOMMU backend, the guest memory
 * map, the buses and KVM's irqfds. This file: setup order, device setup,
 * config-space access, reset and teardown; interrupts are in vfio-intr.c,
 * BAR mapping in vfio-bars.c, the shared state in vfio-pci-priv.h.
 *
 * Locking: config and trapped-BAR accesses arrive with vm->lock held (bus and
 * PCI callbacks); setup, reset and destroy run with the vCPUs stopped.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "passthrough/vfio-pci-priv.h"
#include "vmm/log.h"

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
			vpci_bar_update(v, i, true);
	if (act & VCFG_ACT_FORWARD)
		vdev_cfg_write(&v->dev, off, len, r.fwd_val);
	if (act & VCFG_ACT_DECODE) {
		for (int i = 0; i <= VCFG_NR_BARS; i++)
			vpci_bar_update(v, i, false);
	} else if (act & VCFG_ACT_BAR) {
		for (int i = 0; i <= VCFG_NR_BARS; i++)
			if (r.bars_changed & (1u << i))
				vpci_bar_update(v, i, false);
	}
	if (act & VCFG_ACT_MSI)
		vpci_msi_changed(v);
	if (act & VCFG_ACT_MSIX)
		vpci_msix_ctrl_changed(v, r.msix_ctrl);
}

/* ------------------------------------------------------------------ */
/* Device setup                                                        */

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
	ret = vpci_rom_setup(v);
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
	ret = vpci_bars_place(v);
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
	vpci_bars_enable(v);
	ret = vpci_intx_enable(v);
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
		vpci_vecs_free(v);
		if (v->mode == VPCI_IRQ_MSI)
			vdev_irq_disable(&v->dev, VFIO_PCI_MSI_IRQ_INDEX);
		if (v->mode == VPCI_IRQ_MSIX)
			vdev_irq_disable(&v->dev, VFIO_PCI_MSIX_IRQ_INDEX);
		vpci_intx_disable(v);
		vpci_bars_release(v);
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

		vpci_vecs_free(v);
		if (v->mode == VPCI_IRQ_MSI)
			vdev_irq_disable(&v->dev, VFIO_PCI_MSI_IRQ_INDEX);
		if (v->mode == VPCI_IRQ_MSIX)
			vdev_irq_disable(&v->dev, VFIO_PCI_MSIX_IRQ_INDEX);
		v->mode = VPCI_IRQ_NONE;
		v->host_nvec = 0;
		vpci_intx_disable(v);
		for (int b = 0; b <= VCFG_NR_BARS; b++) {
			vpci_bar_unmap(v, b);
			addrs[b] = v->bars[b].setup_addr;
		}
		if (v->has_msix)
			msix_reset(&v->msix);
		if (v->cs.msi_cap)
			msi_init(&v->msi, v->cs.msi_cap, v->msi.ctrl_caps);
		dev_reset(v);
		vcfg_reset(&v->cs, addrs, v->setup_cmd);
		vpci_bars_enable(v);
		vpci_intx_enable(v);
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
