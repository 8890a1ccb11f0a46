/*
 * PCI configuration access: the q35 host bridge at 00:00.0 as seen through
 * CF8/CFC and through ECAM at 0xB0000000 must agree; absent functions read
 * as all ones both ways; bus 1 (no bridges) is empty in ECAM; byte and
 * word accesses see the same data; read-only registers stay so.
 * Command line: devices=N checks the number of functions on bus 0.
 */
#include "lib/libguest.h"

#define HOST_VENDOR 0x8086
#define HOST_DEVICE 0x29c0

// CF8 is a read/write latch: bit 31 and the address must read back.
static void check_cf8_latch(void)
{
	outl(PORT_PCI_ADDR, 0x80000000);
	report(inl(PORT_PCI_ADDR) == 0x80000000, "CF8 address register reads back 0x80000000");
	outl(PORT_PCI_ADDR, 0x80001234 & ~3u);
	report(inl(PORT_PCI_ADDR) == 0x80001234, "CF8 reads back 0x80001234");
	outl(PORT_PCI_ADDR, 0);
}

// 00:00.0: identity, class and the whole standard header via both mechanisms.
static void check_host_bridge(void)
{
	u32 id = pci_cf8_read32(0, 0, 0, 0);
	u32 class = pci_cf8_read32(0, 0, 0, 8) >> 8;
	int mismatch = -1;

	report(id == (HOST_DEVICE << 16 | HOST_VENDOR),
	       "00:00.0 via CF8 is %04x:%04x (got %04x:%04x)", HOST_VENDOR, HOST_DEVICE,
	       id & 0xffff, id >> 16);
	report(class == 0x060000, "00:00.0 class is 0x060000 host bridge (got 0x%06x)", class);
	report((pci_cf8_read32(0, 0, 0, 0xc) >> 16 & 0x7f) == 0, "00:00.0 header type 0");
	report(pci_ecam_read32(0, 0, 0, 0) == id, "00:00.0 via ECAM has the same ID (got 0x%08x)",
	       pci_ecam_read32(0, 0, 0, 0));
	for (int off = 0; off < 64; off += 4)
		if (pci_cf8_read32(0, 0, 0, off) != pci_ecam_read32(0, 0, 0, off) && mismatch < 0)
			mismatch = off;
	report(mismatch < 0, "00:00.0 header (64 bytes) identical through CF8 and ECAM%s",
	       mismatch < 0 ? "" : " (first difference below)");
	if (mismatch >= 0)
		printf("  offset 0x%02x: CF8 0x%08x ECAM 0x%08x\n", mismatch,
		       pci_cf8_read32(0, 0, 0, mismatch), pci_ecam_read32(0, 0, 0, mismatch));
	report(pci_cf8_read16(0, 0, 0, 2) == HOST_DEVICE && pci_ecam_read16(0, 0, 0, 2) == HOST_DEVICE,
	       "16-bit reads of the device ID at offset 2 (CF8 0x%04x, ECAM 0x%04x)",
	       pci_cf8_read16(0, 0, 0, 2), pci_ecam_read16(0, 0, 0, 2));
	report(pci_cf8_read32(0, 0, 1, 0) == 0xffffffff && pci_ecam_read32(0, 0, 1, 0) == 0xffffffff,
	       "00:00.1 absent (host bridge is single-function)");
}

// Byte and word accesses through CFC..CFF and ECAM, read-only ID, disabled CF8.
static void check_access_widths(void)
{
	u32 id = pci_cf8_read32(0, 0, 0, 0), class = pci_cf8_read32(0, 0, 0, 8);
	int bad = 0;

	for (int k = 0; k < 4; k++) {
		outl(PORT_PCI_ADDR, 0x80000000);
		if (inb(PORT_PCI_DATA + k) != (u8)(id >> (8 * k)))
			bad++;
		if (mmio_read8(ECAM_BASE + 8 + k) != (u8)(class >> (8 * k)))
			bad++;
	}
	report(!bad, "byte reads at 0xCFC..0xCFF and through ECAM match the dwords");
	outl(PORT_PCI_ADDR, 0x80000000);
	outw(PORT_PCI_DATA, 0x1234);
	mmio_write32(ECAM_BASE, 0x56789abc);
	report(pci_cf8_read32(0, 0, 0, 0) == id && pci_ecam_read32(0, 0, 0, 0) == id,
	       "vendor/device ID is read-only through CF8 and ECAM");
	outl(PORT_PCI_ADDR, 0x00000000); /* enable bit clear: no config cycle */
	report(inl(PORT_PCI_DATA) == 0xffffffff, "CFC reads all ones while CF8 bit 31 is clear");
	outl(PORT_PCI_ADDR, 0);
}

// Walk bus 0: both mechanisms agree everywhere; absent slots read all ones.
static void check_bus0(void)
{
	int found = 0, absent = 0, disagree = 0, bad_absent = 0;
	u64 want = cmdline_get_u64("devices", 0);

	for (int dev = 0; dev < 32; dev++) {
		int nfn = 1;

		for (int fn = 0; fn < nfn; fn++) {
			u32 a = pci_cf8_read32(0, dev, fn, 0), b = pci_ecam_read32(0, dev, fn, 0);

			if (a != b) {
				disagree++;
				printf("  00:%02x.%d: CF8 0x%08x ECAM 0x%08x\n", dev, fn, a, b);
			}
			if ((a & 0xffff) == 0xffff) {
				if (fn == 0)
					absent++;
				if (a != 0xffffffff || b != 0xffffffff ||
				    pci_cf8_read16(0, dev, fn, 0) != 0xffff ||
				    pci_ecam_read32(0, dev, fn, 8) != 0xffffffff)
					bad_absent++;
				continue;
			}
			found++;
			printf("  00:%02x.%d %04x:%04x class %06x\n", dev, fn, a & 0xffff, a >> 16,
			       pci_cf8_read32(0, dev, fn, 8) >> 8);
			if (fn == 0 && (pci_cf8_read32(0, dev, 0, 0xc) & 0x800000))
				nfn = 8;
		}
	}
	report(!disagree, "bus 0: CF8 and ECAM agree on every vendor/device ID");
	report(absent > 0, "bus 0 has empty slots (%d)", absent);
	report(!bad_absent, "empty slots read 0xffff/0xffffffff through CF8 and ECAM");
	if (want)
		report((u64)found == want, "bus 0 has %lu functions (found %d)", want, found);
	else
		printf("bus 0: %d functions (devices=N on the command line checks the count)\n",
		       found);
}

// No bridges: bus 1 does not exist, and neither does the very last ECAM slot.
static void check_other_buses(void)
{
	int bad = 0;

	for (int dev = 0; dev < 32; dev++)
		if (pci_ecam_read32(1, dev, 0, 0) != 0xffffffff)
			bad++;
	report(!bad, "ECAM bus 1 reads all ones in every slot");
	report(pci_ecam_read32(1, 0, 0, 0x100) == 0xffffffff,
	       "ECAM bus 1 extended config space reads all ones");
	report(pci_cf8_read32(1, 0, 0, 0) == 0xffffffff, "CF8 bus 1 reads all ones");
	report(pci_ecam_read32(255, 31, 7, 0xffc) == 0xffffffff,
	       "last dword of the ECAM window (bus 255) reads all ones");
}

// Run all PCI checks.
int main(void)
{
	check_cf8_latch();
	check_host_bridge();
	check_access_widths();
	check_bus0();
	check_other_buses();
	return report_summary();
}
