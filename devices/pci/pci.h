/*
 * The PCI bus: bus 0 of one PCI Express root complex. Devices plug in by
 * slot and function; the bus dispatches config accesses that arrive through
 * mechanism #1 (ports 0xCF8/0xCFC) or ECAM (LAYOUT_ECAM_BASE) to them, and
 * places BARs in the machine's windows.
 */
#ifndef PTVM_PCI_H
#define PTVM_PCI_H

#include "vmm/common.h"

struct vm;
struct pci_bus;

#define PCI_MAX_SLOTS 32
#define PCI_MAX_FUNCS 8

/* INTx routing, shared with the DSDT's _PRT: slot S pin P (0 = INTA) goes to
 * IOAPIC GSI 16 + ((S + P) mod 8), level-triggered. */
#define PCI_INTX_GSI(slot, pin0) (16 + (((slot) + (pin0)) & 7))

enum pci_bar_kind { PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_dev {
	const char *name;
	int slot, fn;  /* set by pci_register() */
	u8 intx_pin;   /* 0 = none, 1..4 = INTA..INTD; set before pci_register() */
	int intx_gsi;  /* set by pci_register() from PCI_INTX_GSI, -1 if no pin */
	/* Config space access: off 0..4095, len 1, 2 or 4, naturally aligned.
	 * Called with vm->lock held. */
	u32 (*cfg_read)(struct pci_dev *d, u16 off, int len);
	void (*cfg_write)(struct pci_dev *d, u16 off, int len, u32 val);
	void *opaque;
};

/* Create bus 0 with the host bridge (8086:29C0) at 00:00.0, and claim
 * 0xCF8-0xCFF and the ECAM window. (0xCF8 is claimed as one byte and 0xCF9,
 * the reset register, is left to devices/pm.c: see pci.c.) Windows come from
 * vm->layout, so call it after layout_compute(). NULL (logged) on failure. */
struct pci_bus *pci_bus_create(struct vm *vm);
void pci_bus_destroy(struct pci_bus *bus);
/* Plug d in at slot/fn; slot -1 picks the first free slot from 1 up.
 * -EBUSY if taken, -ENOSPC if the bus is full, -EINVAL if out of range.
 * -ENOENT if fn > 0 and function 0 of the slot is empty (guests find a slot's
 * functions through function 0; register it first). slot -1 needs fn 0.
 * Function 0 of a slot with other functions reads header type bit 7
 * (multifunction) set: the bus adds it, devices need not. */
int pci_register(struct pci_bus *bus, struct pci_dev *d, int slot, int fn);
void pci_unregister(struct pci_bus *bus, struct pci_dev *d);
/* Place a BAR of size bytes (a power of two) naturally aligned in the I/O,
 * 32-bit or 64-bit window. Memory BARs take at least 4 KiB so no two share a
 * page; a MEM64 BAR falls back to the 32-bit window when the 64-bit one is
 * full. 0, -ENOSPC, or -EINVAL if size is not a power of two. */
int pci_alloc_bar(struct pci_bus *bus, enum pci_bar_kind kind, u64 size, u64 *addr);
/* Give a BAR's range back (addr as pci_alloc_bar returned it); 0 or -ENOENT. */
int pci_free_bar(struct pci_bus *bus, enum pci_bar_kind kind, u64 addr);
/* Config access by bus/devfn, as both mechanisms see it (for tests, fw_cfg). */
u32 pci_config_read(struct pci_bus *bus, u8 busno, u8 devfn, u16 off, int len);
void pci_config_write(struct pci_bus *bus, u8 busno, u8 devfn, u16 off, int len, u32 val);

#endif
