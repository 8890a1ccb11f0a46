/*
 * Leaves the VM the way an OS does, to test ptvm's ACPI PM and reset
 * devices: poweroff=acpi writes SLP_TYP | SLP_EN to the FADT's PM1a_CNT
 * with SLP_TYP taken from the DSDT's \_S5 package (as an OS reads it);
 * poweroff=reset writes 0x06 to the reset control register 0xCF9 (run with
 * --on-reboot exit). ptvm then exits with 0. If the VM still runs a moment
 * later, the guest fails through debug-exit.
 */
#include "lib/acpi.h"

#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_EN (1 << 13)
#define PORT_RESET_CNT 0xcf9
#define AML_NAME_OP 0x08
#define AML_PACKAGE_OP 0x12
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_BYTE_PREFIX 0x0a

// The first element of Name(_S5_, Package(){...}) in the DSDT; -1 if absent.
static int dsdt_s5_typ(const u8 *dsdt)
{
	u32 len = get32(dsdt + 4);

	for (u32 i = ACPI_HDR_LEN + 1; i + 8 < len; i++) {
		const u8 *p = dsdt + i;

		if (memcmp(p, "_S5_", 4) || (p[-1] != AML_NAME_OP && p[-1] != '\\') ||
		    p[4] != AML_PACKAGE_OP)
			continue;
		p += 5 + 1 + (p[5] >> 6); /* PkgLength: lead byte + (bits 7..6) more */
		p++;                      /* NumElements */
		if (*p == AML_BYTE_PREFIX)
			return p[1];
		if (*p == AML_ZERO_OP || *p == AML_ONE_OP)
			return *p;
		return -1;
	}
	return -1;
}

// S5 through the FADT's PM1a_CNT; false if the tables do not say how.
static bool acpi_poweroff(void)
{
	const u8 *root = acpi_root(acpi_rsdp_scan(), true);
	const u8 *fadt = root ? acpi_find(root, "FACP") : NULL;
	const u8 *dsdt;
	u32 pm1a;
	int typ;

	if (!fadt)
		return false;
	pm1a = get32(fadt + 64);
	dsdt = (const u8 *)(uintptr_t)get32(fadt + 40);
	if (get32(fadt + 4) >= 148 && get64(fadt + 140))
		dsdt = (const u8 *)(uintptr_t)get64(fadt + 140);
	typ = dsdt_s5_typ(dsdt);
	if (!pm1a || typ < 0)
		return false;
	printf("poweroff: writing S5 (SLP_TYP %d) to PM1a_CNT 0x%x\n", typ, pm1a);
	outw((u16)pm1a, (u16)(typ << PM1_SLP_TYP_SHIFT | PM1_SLP_EN));
	return true;
}

// Power off or reset; only returns if that did not stop the VM.
int main(void)
{
	char how[8] = "acpi";

	cmdline_get("poweroff", how, sizeof(how));
	if (!strncmp(how, "reset", 6)) {
		printf("poweroff: writing 0x06 to port 0xcf9\n");
		outb(PORT_RESET_CNT, 0x02);
		outb(PORT_RESET_CNT, 0x06);
	} else {
		report(acpi_poweroff(), "FADT PM1a_CNT and DSDT \\_S5 found");
	}
	udelay(500000);
	report(false, "the VM still runs 0.5 s after the %s request", how);
	return report_summary();
}
