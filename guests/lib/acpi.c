/*
 * ACPI table lookup for guests: RSDP scan, XSDT/RSDT walk, MADT CPUs.
 * Tables are read in place through the identity map, so every address
 * used must be below 4 GiB; others are treated as absent.
 */
#include "acpi.h"

// ACPI checksum: all bytes sum to zero.
bool acpi_checksum_ok(const void *p, u32 len)
{
	const u8 *b = p;
	u8 sum = 0;

	for (u32 i = 0; i < len; i++)
		sum += b[i];
	return sum == 0;
}

// Is there a valid RSDP at a? (signature, v1 checksum, v2 extended checksum)
static bool rsdp_valid(const u8 *a)
{
	if (memcmp(a, "RSD PTR ", 8) || !acpi_checksum_ok(a, 20))
		return false;
	if (a[15] >= 2)
		return get32(a + 20) >= 36 && get32(a + 20) < 4096 &&
		       acpi_checksum_ok(a, get32(a + 20));
	return true;
}

// The legacy BIOS-area scan every OS does.
u64 acpi_rsdp_scan(void)
{
	for (u64 a = 0xe0000; a < 0x100000; a += 16)
		if (rsdp_valid((const u8 *)a))
			return a;
	return 0;
}

// A table pointer we can follow: non-zero, below 4 GiB, sane length.
static const u8 *table_at(u64 a)
{
	if (!a || a + ACPI_HDR_LEN > 4 * GiB)
		return NULL;
	if (get32((const u8 *)a + 4) < ACPI_HDR_LEN || a + get32((const u8 *)a + 4) > 4 * GiB)
		return NULL;
	return (const u8 *)a;
}

// XSDT from a v2 RSDP, else the RSDT if allowed.
const u8 *acpi_root(u64 rsdp, bool allow_rsdt)
{
	const u8 *r = (const u8 *)rsdp;
	const u8 *t;

	if (!rsdp || !rsdp_valid(r))
		return NULL;
	if (r[15] >= 2) {
		t = table_at(get64(r + 24));
		if (t && !memcmp(t, "XSDT", 4))
			return t;
	}
	if (!allow_rsdt)
		return NULL;
	t = table_at(get32(r + 16));
	return t && !memcmp(t, "RSDT", 4) ? t : NULL;
}

// Entries are 8 bytes in the XSDT, 4 in the RSDT.
int acpi_root_count(const u8 *root)
{
	int esz = root[0] == 'X' ? 8 : 4;

	return (int)((get32(root + 4) - ACPI_HDR_LEN) / esz);
}

// Address of entry i.
u64 acpi_root_entry(const u8 *root, int i)
{
	if (root[0] == 'X')
		return get64(root + ACPI_HDR_LEN + 8 * i);
	return get32(root + ACPI_HDR_LEN + 4 * i);
}

// First table with signature sig.
const u8 *acpi_find(const u8 *root, const char *sig)
{
	for (int i = 0; i < acpi_root_count(root); i++) {
		const u8 *t = table_at(acpi_root_entry(root, i));

		if (t && !memcmp(t, sig, 4))
			return t;
	}
	return NULL;
}

// Enabled processor entries: type 0 (xAPIC, 8 bytes) and type 9 (x2APIC, 16 bytes).
int madt_cpus(const u8 *madt, u32 *ids, int max)
{
	u32 len = get32(madt + 4);
	int n = 0;

	for (u32 off = 44; off + 2 <= len;) {
		const u8 *e = madt + off;

		if (e[1] < 2 || off + e[1] > len)
			break;
		if (e[0] == 0 && e[1] >= 8 && (get32(e + 4) & 1) && n < max)
			ids[n++] = e[3];
		else if (e[0] == 9 && e[1] >= 16 && (get32(e + 8) & 1) && n < max)
			ids[n++] = get32(e + 4);
		off += e[1];
	}
	return n;
}

// Type 2 entries (10 bytes): bus, source IRQ, GSI, flags.
int madt_isa_gsi(const u8 *madt, int irq, u16 *flags)
{
	u32 len = get32(madt + 4);

	*flags = 0;
	for (u32 off = 44; off + 2 <= len && madt[off + 1] >= 2; off += madt[off + 1]) {
		const u8 *e = madt + off;

		if (e[0] == 2 && e[1] >= 10 && e[2] == 0 && e[3] == irq) {
			*flags = get16(e + 8);
			return (int)get32(e + 4);
		}
	}
	return irq;
}
