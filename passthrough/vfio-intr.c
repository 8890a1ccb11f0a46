/*
 * PCI passthrough interrupts (see vfio-pci-priv.h): INTx as a level irqfd
 * with a resample eventfd, MSI and MSI-X vectors as eventfd -> irqfd -> KVM
 * MSI route, host MSI-X vectors enabled as the guest unmasks them.
 *
 * Locking: guest accesses arrive with vm->lock held; setup, reset and destroy
 * run with the vCPUs stopped.
 */
#include <errno.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "passthrough/vfio-pci-priv.h"
#include "vmm/log.h"

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
void vpci_vecs_free(struct vfio_pci *v)
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
int vpci_intx_enable(struct vfio_pci *v)
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
void vpci_intx_disable(struct vfio_pci *v)
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

	vpci_intx_disable(v);
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
		vpci_vecs_free(v);
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
	vpci_vecs_free(v);
	vdev_irq_disable(&v->dev, VFIO_PCI_MSI_IRQ_INDEX);
	v->mode = VPCI_IRQ_NONE;
	vpci_intx_enable(v);
}

/* The guest wrote the MSI capability. */
void vpci_msi_changed(struct vfio_pci *v)
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
void vpci_msix_ctrl_changed(struct vfio_pci *v, u16 ctrl)
{
	unsigned act = msix_ctrl_write(&v->msix, ctrl);

	if (act & MSIX_ACT_DISABLE) {
		vpci_vecs_free(v);
		vdev_irq_disable(&v->dev, VFIO_PCI_MSIX_IRQ_INDEX);
		v->host_nvec = 0;
		v->mode = VPCI_IRQ_NONE;
		vpci_intx_enable(v);
		return;
	}
	if (act & MSIX_ACT_ENABLE) {
		int none = -1, ret;

		/* Put the device in MSI-X mode now, with vector 0 present but
		 * unconnected: the guest enabled MSI-X with its vectors masked and
		 * devices may depend on the mode before any vector is unmasked. */
		vpci_intx_disable(v);
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
void vpci_msix_table_access(struct vfio_pci *v, u32 off, struct bus_access *a)
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
void vpci_msix_pba_access(struct vfio_pci *v, u32 off, struct bus_access *a)
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
