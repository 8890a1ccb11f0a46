/*
 * The 00:00.0 host bridge. Guests only read its ids; firmware written for
 * q35 (SeaBIOS, OVMF) also programs PCIEXBAR and the PAM registers, so those
 * bytes are writable storage. ptvm's ECAM window is fixed at
 * LAYOUT_ECAM_BASE: PCIEXBAR resets to exactly that (enabled, 256 buses),
 * and a write naming anything else is logged and otherwise ignored.
 */
#include "devices/pci/host-bridge.h"
#include "vmm/layout.h" /* LAYOUT_ECAM_BASE */
#include "vmm/log.h"

#define PCIEXBAR_EN 0x1ULL
#define PCIEXBAR_LEN_MASK 0x6ULL     /* bits 2:1, 00 = 256 MiB (256 buses) */
#define PCIEXBAR_BASE_MASK 0xFFC000000ULL /* bits 35:26 */

// Config read: plain storage.
static u32 host_cfg_read(struct pci_dev *d, u16 off, int len)
{
	struct pci_host *h = d->opaque;

	return pci_cfg_read(&h->cfg, off, len);
}

// Config write: storage, plus a check that firmware agrees with our ECAM.
static void host_cfg_write(struct pci_dev *d, u16 off, int len, u32 val)
{
	struct pci_host *h = d->opaque;
	u64 bar;

	pci_cfg_write(&h->cfg, off, len, val);
	if (off + len <= PCI_HOST_PCIEXBAR || off >= PCI_HOST_PCIEXBAR + 8)
		return;
	bar = pci_cfg_get(&h->cfg, PCI_HOST_PCIEXBAR, 4) |
	      (u64)pci_cfg_get(&h->cfg, PCI_HOST_PCIEXBAR + 4, 4) << 32;
	/* firmware writes the two halves one at a time: judge only an enabled BAR */
	if (!(bar & PCIEXBAR_EN) || h->warned_ecam)
		return;
	if ((bar & PCIEXBAR_BASE_MASK) != LAYOUT_ECAM_BASE || (bar & PCIEXBAR_LEN_MASK)) {
		pr_warn("pci: firmware set PCIEXBAR to 0x%llx; ECAM stays at 0x%llx (256 buses)",
			(unsigned long long)bar, (unsigned long long)LAYOUT_ECAM_BASE);
		h->warned_ecam = true;
	}
}

// Build the header and the MCH registers firmware touches.
void pci_host_init(struct pci_host *h)
{
	static const struct pci_cfg_id id = {
		.vendor = PCI_HOST_VENDOR,
		.device = PCI_HOST_DEVICE,
		.class_code = PCI_HOST_CLASS,
		.header_type = PCI_HEADER_TYPE_NORMAL,
		.subsys_vendor = PCI_HOST_VENDOR,
		.subsys_id = PCI_HOST_DEVICE,
	};

	pci_cfg_init(&h->cfg, &id);
	pci_cfg_set(&h->cfg, PCI_HOST_PCIEXBAR, 4, (u32)LAYOUT_ECAM_BASE | PCIEXBAR_EN);
	pci_cfg_set(&h->cfg, PCI_HOST_PCIEXBAR + 4, 4, (u32)(LAYOUT_ECAM_BASE >> 32));
	pci_cfg_set_wmask(&h->cfg, PCI_HOST_PCIEXBAR, 4,
			  (u32)(PCIEXBAR_BASE_MASK | PCIEXBAR_LEN_MASK | PCIEXBAR_EN));
	pci_cfg_set_wmask(&h->cfg, PCI_HOST_PCIEXBAR + 4, 4, (u32)(PCIEXBAR_BASE_MASK >> 32));
	/* PAM0 has only the high nibble (0xF0000 segment); PAM1..6 two nibbles */
	pci_cfg_set_wmask(&h->cfg, PCI_HOST_PAM0, 1, 0x30);
	for (int i = 1; i < PCI_HOST_NR_PAM; i++)
		pci_cfg_set_wmask(&h->cfg, PCI_HOST_PAM0 + i, 1, 0x33);
	h->warned_ecam = false;
	h->dev = (struct pci_dev){
		.name = "host-bridge",
		.cfg_read = host_cfg_read,
		.cfg_write = host_cfg_write,
		.opaque = h,
	};
}
