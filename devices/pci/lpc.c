/*
 * ICH9 LPC bridge (see lpc.h): the registers q35 firmware writes, kept as
 * storage. PMBASE resets to PORT_PM_BASE, as QEMU's firmware sets it.
 */
#include "devices/pci/lpc.h"
#include "vmm/layout.h" /* PORT_PM_BASE */
#include "vmm/log.h"

#define PMBASE_RTE 0x1        /* "I/O space" indicator, reads 1 */
#define PMBASE_MASK 0xff80u   /* 128 bytes of I/O */

// Config read: plain storage.
static u32 lpc_cfg_read(struct pci_dev *d, u16 off, int len)
{
	struct pci_lpc *l = d->opaque;

	return pci_cfg_read(&l->cfg, off, len);
}

// Config write: storage, plus a warning if firmware moves the PM block.
static void lpc_cfg_write(struct pci_dev *d, u16 off, int len, u32 val)
{
	struct pci_lpc *l = d->opaque;
	u32 base;

	pci_cfg_write(&l->cfg, off, len, val);
	if (off + len <= PCI_LPC_PMBASE || off >= PCI_LPC_PMBASE + 4 || l->warned_pmbase)
		return;
	base = pci_cfg_get(&l->cfg, PCI_LPC_PMBASE, 4) & PMBASE_MASK;
	if (base != PORT_PM_BASE) {
		pr_warn("lpc: firmware moved the ACPI PM block to 0x%x; it stays at 0x%x", base,
			PORT_PM_BASE);
		l->warned_pmbase = true;
	}
}

// Build the header and the writable registers.
void pci_lpc_init(struct pci_lpc *l)
{
	static const struct pci_cfg_id id = {
		.vendor = PCI_LPC_VENDOR,
		.device = PCI_LPC_DEVICE,
		.class_code = PCI_LPC_CLASS,
		.header_type = PCI_HEADER_TYPE_NORMAL,
		.subsys_vendor = PCI_LPC_VENDOR,
		.subsys_id = PCI_LPC_DEVICE,
	};

	pci_cfg_init(&l->cfg, &id);
	pci_cfg_set(&l->cfg, PCI_LPC_PMBASE, 4, PORT_PM_BASE | PMBASE_RTE);
	pci_cfg_set_wmask(&l->cfg, PCI_LPC_PMBASE, 4, PMBASE_MASK);
	pci_cfg_set_wmask(&l->cfg, PCI_LPC_ACPI_CNTL, 1, 0xff);
	pci_cfg_set_wmask(&l->cfg, PCI_LPC_PIRQA_ROUT, 4, 0xffffffff);
	pci_cfg_set_wmask(&l->cfg, PCI_LPC_PIRQE_ROUT, 4, 0xffffffff);
	pci_cfg_set_wmask(&l->cfg, PCI_LPC_GEN_PMCON_1, 4, 0xffffffff);
	pci_cfg_set_wmask(&l->cfg, PCI_LPC_RCBA, 4, 0xffffc001);
	l->warned_pmbase = false;
	l->dev = (struct pci_dev){
		.name = "lpc",
		.cfg_read = lpc_cfg_read,
		.cfg_write = lpc_cfg_write,
		.opaque = l,
	};
}
