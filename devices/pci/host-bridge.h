/*
 * The host bridge at 00:00.0: a q35-style MCH (8086:29C0, class 0x060000).
 * pci_bus_create() embeds and registers it; nothing else needs this header.
 */
#ifndef PTVM_PCI_HOST_BRIDGE_H
#define PTVM_PCI_HOST_BRIDGE_H

#include "devices/pci/config.h"
#include "devices/pci/pci.h"

#define PCI_HOST_VENDOR 0x8086
#define PCI_HOST_DEVICE 0x29C0
#define PCI_HOST_CLASS 0x060000
#define PCI_HOST_PCIEXBAR 0x60 /* MCH: ECAM base, length and enable (64 bits) */
#define PCI_HOST_PAM0 0x90     /* MCH: legacy BIOS area attributes, PAM0..PAM6 */
#define PCI_HOST_NR_PAM 7

struct pci_host {
	struct pci_dev dev;
	struct pci_cfg cfg;
	bool warned_ecam; /* the "firmware moved ECAM" line is printed once */
};

/* Fill in h; the caller registers &h->dev at slot 0, function 0. */
void pci_host_init(struct pci_host *h);

#endif
