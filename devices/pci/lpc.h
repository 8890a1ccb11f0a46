/*
 * The ICH9 LPC bridge at 00:1f.0 (8086:2918, class 0x060100), which firmware
 * written for q35 (SeaBIOS, OVMF) looks for and programs: PMBASE (0x40),
 * ACPI_CNTL (0x44), the PIRQ routing bytes (0x60-0x63, 0x68-0x6b), GEN_PMCON
 * and RCBA (0xf0). They are storage: ptvm's PM block stays at PORT_PM_BASE
 * (the DSDT and FADT say so), and a firmware that moves it gets one warning.
 */
#ifndef PTVM_PCI_LPC_H
#define PTVM_PCI_LPC_H

#include "devices/pci/config.h"
#include "devices/pci/pci.h"

#define PCI_LPC_VENDOR 0x8086
#define PCI_LPC_DEVICE 0x2918
#define PCI_LPC_CLASS 0x060100
#define PCI_LPC_SLOT 0x1f
#define PCI_LPC_PMBASE 0x40
#define PCI_LPC_ACPI_CNTL 0x44
#define PCI_LPC_ACPI_EN 0x80
#define PCI_LPC_PIRQA_ROUT 0x60
#define PCI_LPC_PIRQE_ROUT 0x68
#define PCI_LPC_GEN_PMCON_1 0xa0
#define PCI_LPC_RCBA 0xf0

struct pci_lpc {
	struct pci_dev dev;
	struct pci_cfg cfg;
	bool warned_pmbase;
};

/* Fill in l; the caller registers &l->dev at slot PCI_LPC_SLOT, function 0. */
void pci_lpc_init(struct pci_lpc *l);

#endif
