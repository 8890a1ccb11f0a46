/*
 * ACPI tables: the RSDP is found both by the legacy scan of 0xE0000..0xFFFFF
 * and through boot_params.acpi_rsdp_addr; every table under the XSDT has a
 * valid checksum; the MADT lists cpus=N enabled CPUs; MCFG places ECAM at
 * 0xB0000000; the FADT has the q35 PM block at 0x600 (PM1a_CNT 0x604).
 * Command line: cpus=N (default 1). For other VMMs' firmware only:
 * allow-rsdt (accept an RSDT when there is no XSDT), bp-rsdp=optional.
 */
#include "lib/acpi.h"

// The two ways to find the RSDP agree.
static u64 check_rsdp(void)
{
	u64 scanned = acpi_rsdp_scan();
	u64 bp = get64(boot_params() + BP_ACPI_RSDP_ADDR);
	const u8 *r = (const u8 *)scanned;

	report(scanned != 0, "RSDP found by scanning 0xE0000..0xFFFFF (at 0x%lx)", scanned);
	if (!scanned)
		return bp;
	printf("RSDP rev %u, OEM \"%.6s\" RSDT 0x%x XSDT 0x%lx\n", r[15], (const char *)r + 9,
	       get32(r + 16), r[15] >= 2 ? get64(r + 24) : 0);
	if (r[15] < 2 && cmdline_has("allow-rsdt"))
		report_skip("RSDP revision %u < 2 (allow-rsdt)", r[15]);
	else
		report(r[15] >= 2, "RSDP revision >= 2 (ACPI 2.0+, has an XSDT pointer)");
	if (!bp && cmdline_has("bp-rsdp=optional"))
		report_skip("boot_params.acpi_rsdp_addr is 0 (allowed by bp-rsdp=optional)");
	else
		report(bp == scanned, "boot_params.acpi_rsdp_addr 0x%lx equals the scanned RSDP", bp);
	return scanned;
}

// Checksums and headers of every table, and of the DSDT/FACS the FADT names.
static void check_tables(const u8 *root)
{
	int n = acpi_root_count(root), bad = 0;

	report(acpi_checksum_ok(root, get32(root + 4)), "%.4s checksum (%d entries)",
	       (const char *)root, n);
	for (int i = 0; i < n; i++) {
		u64 a = acpi_root_entry(root, i);
		const u8 *t = (const u8 *)a;
		bool ok = a && a < 4 * GiB && get32(t + 4) >= ACPI_HDR_LEN &&
			  acpi_checksum_ok(t, get32(t + 4));

		printf("  %.4s at 0x%lx len %u rev %u OEM \"%.6s\" %s\n", (const char *)t, a,
		       get32(t + 4), t[8], (const char *)t + 10, ok ? "ok" : "BAD CHECKSUM");
		if (!ok)
			bad++;
	}
	report(!bad, "every table under the %.4s has a valid checksum", (const char *)root);
	report(acpi_find(root, "FACP") && acpi_find(root, "APIC") && acpi_find(root, "MCFG"),
	       "FACP, APIC and MCFG present");
}

// FACS present; the reset register (used by Linux's reboot) is port 0xCF9, a value that resets.
static void check_fadt_more(const u8 *fadt)
{
	u32 len = get32(fadt + 4), flags = get32(fadt + 112);
	u64 facs_addr = len >= 140 && get64(fadt + 132) ? get64(fadt + 132) : get32(fadt + 36);
	const u8 *facs = (const u8 *)facs_addr;

	report(facs_addr && facs_addr < 4 * GiB && !(facs_addr & 63) && !memcmp(facs, "FACS", 4) &&
	       get32(facs + 4) >= 64, "FACS at 0x%lx: 64-byte aligned, signature and length",
	       facs_addr);
	report(!(flags & (1u << 20)), "FADT is not HW_REDUCED_ACPI (flags 0x%x)", flags);
	if (flags & (1u << 10)) /* RESET_REG_SUP */
		report(len >= 129 && fadt[116] == 1 && get64(fadt + 120) == 0xcf9 && (fadt[128] & 4),
		       "FADT reset register: I/O port 0xCF9 (0x%lx), value with bit 2 (0x%x)",
		       get64(fadt + 120), fadt[128]);
	else
		report_skip("FADT has no reset register (RESET_REG_SUP clear)");
}

// The FADT's fixed-hardware registers are the q35 PM block.
static void check_fadt(const u8 *fadt)
{
	u32 len = get32(fadt + 4);
	u64 dsdt_addr = len >= 148 && get64(fadt + 140) ? get64(fadt + 140) : get32(fadt + 40);
	const u8 *dsdt = (const u8 *)dsdt_addr;
	bool s5 = false;

	printf("FADT rev %u len %u: SCI %u PM1a_EVT 0x%x PM1a_CNT 0x%x PM_TMR 0x%x DSDT 0x%lx\n",
	       fadt[8], len, get16(fadt + 46), get32(fadt + 56), get32(fadt + 64),
	       get32(fadt + 76), dsdt_addr);
	report(get32(fadt + 64) == PORT_PM1A_CNT, "FADT PM1a_CNT_BLK is 0x%x", PORT_PM1A_CNT);
	report(get32(fadt + 56) == 0x600, "FADT PM1a_EVT_BLK is 0x600");
	report(get32(fadt + 76) == PORT_PM_TMR, "FADT PM_TMR_BLK is 0x%x", PORT_PM_TMR);
	report(get16(fadt + 46) == 9, "FADT SCI_INT is 9");
	if (len >= 184 && get64(fadt + 176))
		report(get64(fadt + 176) == PORT_PM1A_CNT && fadt[172] == 1,
		       "FADT X_PM1a_CNT_BLK is I/O port 0x%x", PORT_PM1A_CNT);
	report(dsdt_addr && dsdt_addr < 4 * GiB && !memcmp(dsdt, "DSDT", 4) &&
	       acpi_checksum_ok(dsdt, get32(dsdt + 4)), "DSDT at 0x%lx has a valid checksum",
	       dsdt_addr);
	if (dsdt_addr && dsdt_addr < 4 * GiB && !memcmp(dsdt, "DSDT", 4))
		for (u32 i = ACPI_HDR_LEN; i + 4 <= get32(dsdt + 4); i++)
			if (!memcmp(dsdt + i, "_S5_", 4))
				s5 = true;
	report(s5, "DSDT defines \\_S5_ (ACPI power-off)");
	check_fadt_more(fadt);
}

// The MADT: LAPIC base, cpus=N enabled CPUs with distinct IDs, an IOAPIC.
static void check_madt(const u8 *madt)
{
	u64 want = cmdline_get_u64("cpus", 1);
	u32 ids[MADT_MAX_CPUS];
	int n = madt_cpus(madt, ids, MADT_MAX_CPUS), dup = 0, ioapics = 0;
	u32 len = get32(madt + 4);

	report(get32(madt + 36) == LAPIC_BASE, "MADT local APIC address 0x%x", get32(madt + 36));
	report(get32(madt + 40) & 1, "MADT PCAT_COMPAT set: 8259s present (flags 0x%x)",
	       get32(madt + 40));
	for (int i = 0; i < n; i++) {
		printf("  CPU %d: APIC ID %u\n", i, ids[i]);
		for (int j = 0; j < i; j++)
			if (ids[i] == ids[j])
				dup++;
	}
	report((u64)n == want, "MADT lists %lu enabled CPUs (found %d)", want, n);
	report(!dup, "MADT APIC IDs are distinct");
	for (u32 off = 44; off + 2 <= len && madt[off + 1] >= 2; off += madt[off + 1]) {
		const u8 *e = madt + off;

		if (e[0] == 1 && e[1] >= 12) {
			printf("  IOAPIC id %u at 0x%x GSI base %u\n", e[2], get32(e + 4), get32(e + 8));
			if (get32(e + 4) == 0xfec00000 && get32(e + 8) == 0)
				ioapics++;
		}
	}
	report(ioapics == 1, "MADT has the IOAPIC at 0xFEC00000 with GSI base 0");
}

// MCFG: one allocation, segment 0, buses 0..255 at 0xB0000000.
static void check_mcfg(const u8 *mcfg)
{
	u32 len = get32(mcfg + 4);
	const u8 *e = mcfg + 44;

	report(len >= 44 + 16, "MCFG has an allocation entry");
	if (len < 44 + 16)
		return;
	printf("MCFG: base 0x%lx segment %u buses %u..%u\n", get64(e), get16(e + 8), e[10], e[11]);
	report(get64(e) == ECAM_BASE && get16(e + 8) == 0 && e[10] == 0,
	       "MCFG ECAM base 0x%lx segment 0 from bus 0", ECAM_BASE);
	report(e[11] == 255, "MCFG covers buses up to 255 (got %u)", e[11]);
}

// Run all ACPI checks.
int main(void)
{
	u64 rsdp = check_rsdp();
	const u8 *root = acpi_root(rsdp, cmdline_has("allow-rsdt"));
	const u8 *t;

	if (root && root[0] == 'R')
		report_skip("no XSDT; walking the RSDT (allow-rsdt)");
	else
		report(root != NULL, "XSDT present");
	if (!root)
		return report_summary();
	check_tables(root);
	if ((t = acpi_find(root, "FACP")))
		check_fadt(t);
	if ((t = acpi_find(root, "APIC")))
		check_madt(t);
	if ((t = acpi_find(root, "MCFG")))
		check_mcfg(t);
	return report_summary();
}
