/*
 * PCI passthrough glue: turns each --device vfio,host=... into a guest PCI
 * function. Setup order (passthrough_init):
 *   1. every device checked in sysfs (exists, IOMMU on, on vfio-pci, group
 *      viable) before anything is opened;
 *   2. one IOMMU backend (type1 container or iommufd) opened, every device
 *      attached to it, the KVM VFIO device told about each group;
 *   3. guest RAM mapped into the IOMMU (IOVA = GPA) through a mem_listener;
 *   4. per device: reset, config space view, BARs placed with pci_alloc_bar
 *      and programmed like firmware would (decode on), mmap-able BARs mapped
 *      into the guest as MEM_DEVICE slots, MSI-X table/PBA pages and the
 *      rest trapped, INTx wired as irqfd + resamplefd, plugged into the bus.
 * MSI/MSI-X vectors are eventfd -> irqfd -> KVM MSI route: no userspace work
 * per interrupt. Host MSI-X vectors are enabled as the guest unmasks them.
 */
#ifndef PTVM_VFIO_PCI_H
#define PTVM_VFIO_PCI_H

#include "vmm/common.h"

struct vm;
struct vm_config;
struct pci_bus;
struct passthrough;

/* Space the devices' 64-bit BARs need in the guest's 64-bit MMIO window (from
 * sysfs; 0 if none): pass it to layout_compute() as mmio64_need. */
u64 passthrough_mmio64_need(const struct vm_config *cfg);

/* Set up every device of vm->cfg->devices. *out is NULL when there are none.
 * On failure everything is undone, the error was printed (one line), and the
 * host is as before. Call after pci_bus_create(), before the vCPUs start. */
int passthrough_init(struct vm *vm, struct pci_bus *bus, struct passthrough **out);
/* Guest reboot: interrupts off, devices reset, BARs and config back to the
 * setup state. vCPUs must be stopped. NULL is fine. */
void passthrough_reset(struct passthrough *pt);
/* Stop: interrupts off, BARs unmapped, devices reset and closed, guest RAM
 * unmapped from the IOMMU. Call before vm_destroy(). NULL is fine. */
void passthrough_destroy(struct passthrough *pt);

#endif
