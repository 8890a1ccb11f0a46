/*
 * The ACPI tables: build them, then read them back the way a guest does,
 * starting from the RSDP and following the pointers. Field offsets are
 * written out here from the ACPI spec rather than taken from acpi.c, so a
 * wrong struct layout there fails here. The same checks run on the tables
 * as firmware would load them through the fw_cfg table-loader, and iasl
 * disassembles the output when it is installed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci/pci.h"
#include "firmware/acpi.h"
#include "firmware/acpi/loader.h"
#include "tests/unit/harness.h"
#include "vmm/layout.h"

#define BUF_SIZE LAYOUT_ACPI_SIZE

/* Guest memory as the tables see it: up to two regions. */
struct gmem {
	struct { u64 gpa; const u8 *p; size_t len; } r[2];
	int n;
};

// Little-endian reads of 2, 4 and 8 bytes.
static u16 rd16(const u8 *p) { return p[0] | p[1] << 8; }
static u32 rd32(const u8 *p) { return rd16(p) | (u32)rd16(p + 2) << 16; }
static u64 rd64(const u8 *p) { return rd32(p) | (u64)rd32(p + 4) << 32; }

// Host pointer for [gpa, gpa + len) of guest memory, or NULL if outside it.
static const u8 *gptr(const struct gmem *m, u64 gpa, size_t len)
{
	for (int i = 0; i < m->n; i++)
		if (gpa >= m->r[i].gpa && gpa - m->r[i].gpa <= m->r[i].len &&
		    len <= m->r[i].len - (gpa - m->r[i].gpa))
			return m->r[i].p + (gpa - m->r[i].gpa);
	return NULL;
}

// Sum of len bytes modulo 256, independent of acpi_sum().
static u8 sum8(const u8 *p, size_t len)
{
	unsigned s = 0;

	for (size_t i = 0; i < len; i++)
		s += p[i];
	return s & 0xff;
}

// The table at gpa if its header fits, its length fits and it sums to 0.
static const u8 *table_at(const struct gmem *m, u64 gpa, const char *sig)
{
	const u8 *h = gptr(m, gpa, 36);

	if (!h || memcmp(h, sig, 4) || rd32(h + 4) < 36 || !gptr(m, gpa, rd32(h + 4)))
		return NULL;
	return sum8(h, rd32(h + 4)) == 0 ? h : NULL;
}

// Find n bytes of needle in hay; the first match or NULL.
static const u8 *find(const u8 *hay, size_t len, const void *needle, size_t n)
{
	return memmem(hay, len, needle, n);
}

// Count the matches of needle in hay.
static int count(const u8 *hay, size_t len, const void *needle, size_t n)
{
	int c = 0;

	for (const u8 *p = hay; (p = memmem(p, len - (p - hay), needle, n)); p++)
		c++;
	return c;
}

// AML PkgLength at p: the value, and *adv the bytes it takes.
static u32 aml_pkglen(const u8 *p, int *adv)
{
	int follow = p[0] >> 6;
	u32 v = follow ? (p[0] & 0x0f) : (p[0] & 0x3f);

	for (int i = 0; i < follow; i++)
		v |= (u32)p[1 + i] << (4 + 8 * i);
	*adv = 1 + follow;
	return v;
}

// AML integer constant at p (Zero/One/Ones or a prefixed constant).
static u64 aml_int(const u8 *p, int *adv)
{
	switch (p[0]) {
	case 0x00: *adv = 1; return 0;
	case 0x01: *adv = 1; return 1;
	case 0xff: *adv = 1; return ~0ULL;
	case 0x0a: *adv = 2; return p[1];
	case 0x0b: *adv = 3; return rd16(p + 1);
	case 0x0c: *adv = 5; return rd32(p + 1);
	case 0x0e: *adv = 9; return rd64(p + 1);
	}
	*adv = 1;
	return 0xdeadbeefdeadULL; /* not an integer: no test value matches */
}

// A compressed EISA ID ("PNP0A08") as the 4 bytes AML stores after 0x0C.
static void eisa_id(const char *s, u8 out[5])
{
	u16 vendor = (s[0] - '@') << 10 | (s[1] - '@') << 5 | (s[2] - '@');
	unsigned product = strtoul(s + 3, NULL, 16);

	out[0] = 0x0c; /* DWordPrefix */
	out[1] = vendor >> 8;
	out[2] = vendor;
	out[3] = product >> 8;
	out[4] = product;
}

/* A small I/O descriptor: IO (Decode16, port, port, align, len). */
#define IO_DESC(port, align, len) \
	{ 0x47, 0x01, (port) & 0xff, (port) >> 8, (port) & 0xff, (port) >> 8, align, len }
/* IRQNoFlags () {irq} */
#define IRQ_DESC(irq) { 0x22, (1u << (irq)) & 0xff, (1u << (irq)) >> 8 }

// The RSDP: both checksums, revision 2, and its RSDT and XSDT pointers.
static void check_rsdp(const struct gmem *m, u64 rsdp_gpa, u64 *rsdt, u64 *xsdt)
{
	const u8 *r = gptr(m, rsdp_gpa, 36);

	ASSERT_TRUE(r);
	ASSERT_EQ(rsdp_gpa % 16, 0);
	ASSERT_TRUE(!memcmp(r, "RSD PTR ", 8));
	ASSERT_EQ(sum8(r, 20), 0);
	ASSERT_EQ(r[15], 2);           /* revision */
	ASSERT_EQ(rd32(r + 20), 36);   /* length */
	ASSERT_EQ(sum8(r, 36), 0);     /* extended checksum */
	*rsdt = rd32(r + 16);
	*xsdt = rd64(r + 24);
}

// The FADT: PM block, SCI, reset register, FACS and DSDT pointers.
static void check_fadt(const struct gmem *m, const u8 *f, u64 *dsdt)
{
	const u8 *facs;
	u32 flags = rd32(f + 112);

	ASSERT_EQ(rd32(f + 4), 276);
	ASSERT_EQ(f[8], 6);                        /* revision */
	ASSERT_EQ(rd16(f + 46), IRQ_SCI);          /* SCI_INT */
	ASSERT_EQ(rd32(f + 48), 0);                /* SMI_CMD: ACPI always on */
	ASSERT_EQ(rd32(f + 56), PORT_PM1A_EVT);
	ASSERT_EQ(rd32(f + 60), 0);                /* no PM1b */
	ASSERT_EQ(rd32(f + 64), PORT_PM1A_CNT);
	ASSERT_EQ(rd32(f + 76), PORT_PM_TMR);
	ASSERT_EQ(rd32(f + 80), PORT_GPE0);
	ASSERT_EQ(f[88], 4);                       /* PM1_EVT_LEN */
	ASSERT_EQ(f[89], 2);                       /* PM1_CNT_LEN */
	ASSERT_EQ(f[91], 4);                       /* PM_TMR_LEN */
	ASSERT_EQ(f[92], PORT_GPE0_LEN);
	ASSERT_EQ(rd16(f + 109), 0x3);             /* legacy devices, 8042 */
	ASSERT_EQ(flags & 0x5, 0x5);               /* WBINVD, PROC_C1 */
	ASSERT_TRUE(flags & (1u << 5));            /* no sleep button */
	ASSERT_FALSE(flags & (1u << 4));           /* fixed power button (pm.c) */
	ASSERT_FALSE(flags & (1u << 8));           /* 24-bit PM timer */
	ASSERT_TRUE(flags & (1u << 10));           /* RESET_REG_SUP */
	ASSERT_FALSE(flags & (1u << 20));          /* not hardware-reduced */
	ASSERT_EQ(f[116], 1);                      /* RESET_REG: system I/O */
	ASSERT_EQ(f[117], 8);
	ASSERT_EQ(rd64(f + 120), PORT_RESET_CNT);
	ASSERT_EQ(f[128], 0x06);                   /* RESET_VALUE */
	/* X_ forms: system I/O, width = length in bits, same ports */
	ASSERT_EQ(f[148], 1); ASSERT_EQ(f[149], 32); ASSERT_EQ(rd64(f + 152), PORT_PM1A_EVT);
	ASSERT_EQ(f[172], 1); ASSERT_EQ(f[173], 16); ASSERT_EQ(rd64(f + 176), PORT_PM1A_CNT);
	ASSERT_EQ(f[208], 1); ASSERT_EQ(f[209], 32); ASSERT_EQ(rd64(f + 212), PORT_PM_TMR);
	ASSERT_EQ(f[220], 1); ASSERT_EQ(f[221], PORT_GPE0_LEN * 8);
	ASSERT_EQ(rd64(f + 224), PORT_GPE0);
	ASSERT_EQ(rd64(f + 160), 0);               /* no X_PM1b */
	/* FACS through FIRMWARE_CTRL: 64 bytes, 64-byte aligned */
	ASSERT_NE(rd32(f + 36), 0);
	ASSERT_EQ(rd32(f + 36) % 64, 0);
	facs = gptr(m, rd32(f + 36), 64);
	ASSERT_TRUE(facs);
	ASSERT_TRUE(!memcmp(facs, "FACS", 4));
	ASSERT_EQ(rd32(facs + 4), 64);
	/* DSDT and X_DSDT agree */
	ASSERT_NE(rd32(f + 40), 0);
	ASSERT_EQ(rd64(f + 140), rd32(f + 40));
	*dsdt = rd32(f + 40);
}

// The MADT: N enabled local APICs with IDs 0..N-1, one IOAPIC, the SCI override.
static void check_madt(const u8 *t, int nr_cpus)
{
	u32 len = rd32(t + 4), off = 44;
	int lapics = 0, ioapics = 0, sci_iso = 0, irq0_iso = 0;

	ASSERT_EQ(rd32(t + 36), LAYOUT_LAPIC_BASE);
	ASSERT_EQ(rd32(t + 40) & 1, 1);            /* PCAT_COMPAT */
	while (off < len) {
		const u8 *e = t + off;

		ASSERT_TRUE(off + 2 <= len && e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case 0: /* Processor Local APIC */
			ASSERT_EQ(e[1], 8);
			ASSERT_EQ(e[2], lapics);       /* processor UID */
			ASSERT_EQ(e[3], lapics);       /* APIC ID = vCPU index */
			ASSERT_EQ(rd32(e + 4) & 1, 1); /* enabled */
			lapics++;
			break;
		case 1: /* I/O APIC */
			ASSERT_EQ(e[1], 12);
			ASSERT_EQ(e[2], ACPI_IOAPIC_ID);
			ASSERT_EQ(rd32(e + 4), LAYOUT_IOAPIC_BASE);
			ASSERT_EQ(rd32(e + 8), 0);     /* GSI base */
			ioapics++;
			break;
		case 2: /* Interrupt Source Override */
			ASSERT_EQ(e[1], 10);
			ASSERT_EQ(e[2], 0);            /* ISA */
			if (e[3] == 0)
				irq0_iso++;
			if (e[3] == IRQ_SCI) {
				ASSERT_EQ(rd32(e + 4), IRQ_SCI);
				ASSERT_EQ(rd16(e + 8), 0xd); /* level, active high */
				sci_iso++;
			}
			break;
		}
		off += e[1];
	}
	ASSERT_EQ(off, len);
	ASSERT_EQ(lapics, nr_cpus);
	ASSERT_EQ(ioapics, 1);
	ASSERT_EQ(sci_iso, 1);
	ASSERT_EQ(irq0_iso, 0);
}

// The MCFG: one allocation covering the ECAM, segment 0, buses 0-255.
static void check_mcfg(const u8 *t)
{
	ASSERT_EQ(rd32(t + 4), 60);
	ASSERT_EQ(rd64(t + 44), LAYOUT_ECAM_BASE);
	ASSERT_EQ(rd16(t + 52), 0);
	ASSERT_EQ(t[54], 0);
	ASSERT_EQ(t[55], LAYOUT_ECAM_BUSES - 1);
}

// _PRT: a package of 124 {slot << 16 | 0xFFFF, pin, 0, PCI_INTX_GSI} packages.
static void check_prt(const u8 *d, u32 len)
{
	const u8 *p = find(d, len, "\x08_PRT\x12", 6);
	int adv, n;

	ASSERT_TRUE(p);
	p += 6;
	aml_pkglen(p, &adv);
	p += adv;
	ASSERT_EQ(*p, 31 * 4);                 /* NumElements */
	p++;
	for (n = 0; n < 31 * 4; n++) {
		int slot = 1 + n / 4, pin = n % 4;

		ASSERT_EQ(*p, 0x12);           /* PackageOp */
		aml_pkglen(p + 1, &adv);
		p += 1 + adv;
		ASSERT_EQ(*p++, 4);
		ASSERT_EQ(aml_int(p, &adv), ((u64)slot << 16) | 0xffff);
		p += adv;
		ASSERT_EQ(aml_int(p, &adv), pin);
		p += adv;
		ASSERT_EQ(aml_int(p, &adv), 0);
		p += adv;
		ASSERT_EQ(aml_int(p, &adv), PCI_INTX_GSI(slot, pin));
		p += adv;
	}
}

// The DSDT: names, device IDs, resources from layout.h, the patched window.
static void check_dsdt(const u8 *d, const struct layout *l)
{
	u32 len = rd32(d + 4);
	const char *hids[] = { "PNP0A08", "PNP0A03", "PNP0501", "PNP0B00", "PNP0303", "PNP0C02" };
	const u8 com1[] = IO_DESC(PORT_COM1, 1, 8), com1_irq[] = IRQ_DESC(IRQ_COM1);
	const u8 rtc[] = IO_DESC(PORT_CMOS, 1, 2), rtc_irq[] = IRQ_DESC(IRQ_RTC);
	const u8 kbd1[] = IO_DESC(PORT_I8042_DATA, 1, 1), kbd2[] = IO_DESC(PORT_I8042_CMD, 1, 1);
	const u8 kbd_irq[] = IRQ_DESC(IRQ_KBD);
	const u8 pm[] = IO_DESC(PORT_PM_BASE, 1, PORT_GPE0 + PORT_GPE0_LEN - PORT_PM_BASE);
	const u8 rst[] = IO_DESC(PORT_RESET_CNT, 1, 1);
	const u8 fwcfg[] = IO_DESC(PORT_FW_CFG, 1, 12);
	u8 ecam[12] = { 0x86, 0x09, 0x00, 0x01 }, win32[40] = { 0 }, win64[40] = { 0 };
	u64 v;
	const u8 *q;
	int adv;

	ASSERT_EQ(d[8], 2); /* revision 2: 64-bit integers */
	ASSERT_TRUE(find(d, len, "PCI0", 4));
	ASSERT_TRUE(find(d, len, "_PRT", 4));
	ASSERT_TRUE(find(d, len, "_S5_", 4));
	ASSERT_TRUE(find(d, len, "\x08_S0_\x12", 6));
	ASSERT_TRUE(find(d, len, "_OSC", 4));
	for (size_t i = 0; i < ARRAY_SIZE(hids); i++) {
		u8 id[5];

		eisa_id(hids[i], id);
		if (!find(d, len, id, 5)) {
			FAIL_AT("no _HID/_CID %s in the DSDT", hids[i]);
			return;
		}
	}
	ASSERT_TRUE(find(d, len, "\x0dQEMU0002", 10));
	ASSERT_TRUE(find(d, len, com1, sizeof(com1)));
	ASSERT_TRUE(find(d, len, com1_irq, sizeof(com1_irq)));
	ASSERT_TRUE(find(d, len, rtc, sizeof(rtc)));
	ASSERT_TRUE(find(d, len, rtc_irq, sizeof(rtc_irq)));
	ASSERT_TRUE(find(d, len, kbd1, sizeof(kbd1)));
	ASSERT_TRUE(find(d, len, kbd2, sizeof(kbd2)));
	ASSERT_TRUE(find(d, len, kbd_irq, sizeof(kbd_irq)));
	ASSERT_TRUE(find(d, len, pm, sizeof(pm)));
	ASSERT_TRUE(find(d, len, rst, sizeof(rst)));
	ASSERT_TRUE(find(d, len, fwcfg, sizeof(fwcfg)));
	/* Name (_S5, Package (4) { S5, S5, 0, 0 }) */
	q = find(d, len, "\x08_S5_\x12", 6);
	ASSERT_TRUE(q);
	aml_pkglen(q + 6, &adv);
	q += 6 + adv;
	ASSERT_EQ(*q++, 4);
	for (int i = 0; i < 4; i++, q += adv)
		ASSERT_EQ(aml_int(q, &adv), i < 2 ? PM_SLP_TYP_S5 : 0);
	/* Memory32Fixed (ReadWrite, ECAM base, ECAM size) */
	v = LAYOUT_ECAM_BASE;
	memcpy(ecam + 4, &v, 4);
	v = LAYOUT_ECAM_SIZE;
	memcpy(ecam + 8, &v, 4);
	ASSERT_TRUE(find(d, len, ecam, sizeof(ecam)));
	/* DWordMemory 32-bit window: granularity, min, max, translation, length */
	v = LAYOUT_MMIO32_BASE;
	memcpy(win32 + 4, &v, 4);
	v = LAYOUT_MMIO32_END - 1;
	memcpy(win32 + 8, &v, 4);
	v = LAYOUT_MMIO32_END - LAYOUT_MMIO32_BASE;
	memcpy(win32 + 16, &v, 4);
	ASSERT_TRUE(find(d, len, win32, 20));
	/* QWordMemory 64-bit window, patched in from the layout */
	v = l->mmio64_base;
	memcpy(win64 + 8, &v, 8);
	v = l->mmio64_base + l->mmio64_size - 1;
	memcpy(win64 + 16, &v, 8);
	v = l->mmio64_size;
	memcpy(win64 + 32, &v, 8);
	q = find(d, len, win64, 40);
	ASSERT_TRUE(q);
	ASSERT_TRUE(q - d >= 6);
	ASSERT_EQ(q[-6], 0x8a);                /* QWord address space descriptor */
	ASSERT_EQ(rd16(q - 5), 0x2b);
	ASSERT_EQ(q[-3], 0);                   /* memory range */
	/* no placeholder left */
	v = 0x00007A5C00000000ULL;
	ASSERT_EQ(count(d, len, &v, 8), 0);
	v = 0x000000B100000000ULL;
	ASSERT_EQ(count(d, len, &v, 8), 0);
	check_prt(d, len);
}

// The SSDT: Device (\_SB.Cxxx) { _HID "ACPI0007", _UID n } for n = 0..N-1.
static void check_ssdt(const u8 *t, int nr_cpus)
{
	u32 len = rd32(t + 4), off = 36;
	int n = 0;

	while (off < len) {
		const u8 *p = t + off, *end;
		char name[5];
		int adv;
		u32 pl;

		ASSERT_EQ(p[0], 0x5b);
		ASSERT_EQ(p[1], 0x82);                 /* DeviceOp */
		pl = aml_pkglen(p + 2, &adv);
		end = p + 2 + pl;
		ASSERT_TRUE(end <= t + len);
		p += 2 + adv;
		ASSERT_TRUE(!memcmp(p, "\\\x2e_SB_", 6));
		snprintf(name, sizeof(name), "C%03X", n & 0xfff);
		ASSERT_TRUE(!memcmp(p + 6, name, 4));
		p += 10;
		ASSERT_TRUE(!memcmp(p, "\x08_HID\x0d" "ACPI0007", 15));
		p += 15;
		ASSERT_TRUE(!memcmp(p, "\x08_UID", 5));
		ASSERT_EQ(aml_int(p + 5, &adv), n);
		ASSERT_TRUE(p + 5 + adv == end);
		off = end - t;
		n++;
	}
	ASSERT_EQ(off, len);
	ASSERT_EQ(n, nr_cpus);
}

// Walk everything from the RSDP the way the guest does.
static void check_tables(const struct gmem *m, u64 rsdp_gpa, int nr_cpus,
			 const struct layout *l)
{
	const char *want[] = { "FACP", "APIC", "MCFG", "SSDT" };
	const u8 *rsdt, *xsdt, *t[4] = { 0 }, *dsdt;
	u64 rsdt_gpa = 0, xsdt_gpa = 0, dsdt_gpa = 0;
	u32 n;

	check_rsdp(m, rsdp_gpa, &rsdt_gpa, &xsdt_gpa);
	if (test_state.cur_failed)
		return;
	xsdt = table_at(m, xsdt_gpa, "XSDT");
	rsdt = table_at(m, rsdt_gpa, "RSDT");
	ASSERT_TRUE(xsdt);
	ASSERT_TRUE(rsdt);
	n = (rd32(xsdt + 4) - 36) / 8;
	ASSERT_EQ(rd32(xsdt + 4), 36 + 8 * n);
	ASSERT_EQ(n, ARRAY_SIZE(want));
	ASSERT_EQ(rd32(rsdt + 4), 36 + 4 * n);
	/* every entry a valid table; each wanted signature exactly once */
	for (u32 i = 0; i < n; i++) {
		u64 gpa = rd64(xsdt + 36 + 8 * i);
		const u8 *h = gptr(m, gpa, 36);

		ASSERT_TRUE(h);
		ASSERT_EQ(rd32(rsdt + 36 + 4 * i), gpa);
		for (size_t k = 0; k < ARRAY_SIZE(want); k++) {
			if (memcmp(h, want[k], 4))
				continue;
			ASSERT_TRUE(!t[k]);
			t[k] = table_at(m, gpa, want[k]);
			ASSERT_TRUE(t[k]);
		}
	}
	for (size_t k = 0; k < ARRAY_SIZE(want); k++)
		ASSERT_TRUE(t[k]);
	check_fadt(m, t[0], &dsdt_gpa);
	if (test_state.cur_failed)
		return;
	dsdt = table_at(m, dsdt_gpa, "DSDT");
	ASSERT_TRUE(dsdt);
	check_dsdt(dsdt, l);
	check_madt(t[1], nr_cpus);
	check_mcfg(t[2]);
	check_ssdt(t[3], nr_cpus);
}

// Build at the direct-boot address and check; the result describes the buffer.
static void build_and_check(int nr_cpus, const struct layout *l)
{
	struct acpi_params p = { .nr_cpus = nr_cpus, .layout = l };
	struct acpi_build_result r;
	u8 *buf = malloc(BUF_SIZE);
	struct gmem m = { .n = 1 };

	ASSERT_TRUE(buf);
	memset(buf, 0xa5, BUF_SIZE);
	if (acpi_build(&p, LAYOUT_ACPI_BASE, buf, BUF_SIZE, &r)) {
		free(buf);
		FAIL_AT("acpi_build failed for %d CPUs", nr_cpus);
		return;
	}
	m.r[0].gpa = LAYOUT_ACPI_BASE;
	m.r[0].p = buf;
	m.r[0].len = r.len;  /* nothing outside out->len may be needed */
	if (r.rsdp_gpa < 0xe0000 || r.rsdp_gpa >= 0x100000 || r.len > BUF_SIZE ||
	    buf[r.len] != 0xa5) {
		free(buf);
		FAIL_AT("RSDP at 0x%llx, len %zu", (unsigned long long)r.rsdp_gpa, r.len);
		return;
	}
	check_tables(&m, r.rsdp_gpa, nr_cpus, l);
	/* the result's records match what is in the buffer */
	for (int i = 0; i < ACPI_NR_TABLES && !test_state.cur_failed; i++) {
		const u8 *h = buf + r.tables[i].off;

		if (i != ACPI_RSDP && memcmp(h, r.tables[i].sig, 4))
			FAIL_AT("table %d is %.4s, result says %s", i, h, r.tables[i].sig);
		if (i != ACPI_RSDP && rd32(h + 4) != r.tables[i].len)
			FAIL_AT("table %s length", r.tables[i].sig);
	}
	for (int i = 0; i < r.nr_ptrs && !test_state.cur_failed; i++) {
		u64 v = r.ptrs[i].size == 8 ? rd64(buf + r.ptrs[i].off) : rd32(buf + r.ptrs[i].off);

		if (v != LAYOUT_ACPI_BASE + r.tables[r.ptrs[i].target].off)
			FAIL_AT("pointer %d", i);
	}
	free(buf);
}

// A layout, or a failed test if layout_compute refuses it.
static int make_layout(struct layout *l, u64 ram, int bits, u64 need)
{
	if (layout_compute(l, ram, bits, need)) {
		FAIL_AT("layout_compute");
		return -1;
	}
	return 0;
}

/* RAM below the hole: the 64-bit window starts at 4 GiB. */
TEST(small_guest_1_2_64_cpus)
{
	struct layout l;

	if (make_layout(&l, 512 * MiB, 40, 0))
		return;
	build_and_check(1, &l);
	build_and_check(2, &l);
	build_and_check(64, &l);
}

/* RAM above 4 GiB and a large-BAR window: the patched values move. */
TEST(large_guest_1_2_64_cpus)
{
	struct layout l;

	/* 16 GiB RAM, a 64 GiB window for large BARs: base above 4 GiB */
	if (make_layout(&l, 16 * GiB, 46, 40 * GiB))
		return;
	ASSERT_TRUE(l.mmio64_base > 4 * GiB);
	build_and_check(1, &l);
	build_and_check(2, &l);
	build_and_check(64, &l);
}

/* The most vCPUs the MADT's xAPIC entries can describe. */
TEST(most_cpus)
{
	struct layout l;

	if (make_layout(&l, 1 * GiB, 40, 0))
		return;
	build_and_check(ACPI_MAX_CPUS, &l);
}

/* Refused: too small a buffer, bad alignment, above 4 GiB, CPU counts. */
TEST(bad_params)
{
	struct layout l;
	struct acpi_params p = { .nr_cpus = 1, .layout = &l };
	struct acpi_build_result r;
	static u8 buf[BUF_SIZE];

	if (make_layout(&l, 512 * MiB, 40, 0))
		return;
	ASSERT_EQ(acpi_build(&p, LAYOUT_ACPI_BASE, buf, sizeof(buf), &r), 0);
	ASSERT_EQ(acpi_build(&p, LAYOUT_ACPI_BASE, buf, r.len - 1, &r), -ENOSPC);
	ASSERT_EQ(acpi_build(&p, LAYOUT_ACPI_BASE, buf, 100, &r), -ENOSPC);
	ASSERT_EQ(acpi_build(&p, LAYOUT_ACPI_BASE + 16, buf, sizeof(buf), &r), -EINVAL);
	ASSERT_EQ(acpi_build(&p, 4 * GiB - 0x1000, buf, sizeof(buf), &r), -EINVAL);
	ASSERT_EQ(acpi_build(&p, 5 * GiB, buf, sizeof(buf), &r), -EINVAL);
	p.nr_cpus = 0;
	ASSERT_EQ(acpi_build(&p, LAYOUT_ACPI_BASE, buf, sizeof(buf), &r), -EINVAL);
	p.nr_cpus = ACPI_MAX_CPUS + 1;
	ASSERT_EQ(acpi_build(&p, LAYOUT_ACPI_BASE, buf, sizeof(buf), &r), -EINVAL);
}

/* A firmware's view of the loader files: name, contents, load address. */
struct fw_file {
	const char *name;
	u8 *data;
	size_t len;
	u64 gpa;
	bool allocated;
};

// The file named by a NUL-terminated 56-byte field, or NULL.
static struct fw_file *fw_find(struct fw_file *f, int n, const u8 *field)
{
	if (memchr(field, 0, ACPI_LOADER_FNAME_SIZE) == NULL)
		return NULL;
	for (int i = 0; i < n; i++)
		if (!strcmp((const char *)field, f[i].name))
			return &f[i];
	return NULL;
}

// Run the table-loader commands as SeaBIOS/OVMF do; 0 or -1 (test failed).
static int fw_run(struct fw_file *f, int n, const u8 *cmds, size_t len)
{
	for (size_t off = 0; off < len; off += ACPI_LOADER_ENTRY_SIZE) {
		const u8 *e = cmds + off, *a = e + 4;
		struct fw_file *d, *s;
		u64 v = 0;

		switch (rd32(e)) {
		case ACPI_LOADER_ALLOCATE:
			d = fw_find(f, n, a);
			if (!d || d->allocated || d->gpa % rd32(a + 56) ||
			    a[60] != (d->gpa < 0x100000 ? ACPI_LOADER_ZONE_FSEG : ACPI_LOADER_ZONE_HIGH))
				goto bad;
			d->allocated = true;
			break;
		case ACPI_LOADER_ADD_POINTER:
			d = fw_find(f, n, a);
			s = fw_find(f, n, a + 56);
			if (!d || !s || !d->allocated || !s->allocated ||
			    (a[116] != 4 && a[116] != 8) || rd32(a + 112) + a[116] > d->len)
				goto bad;
			memcpy(&v, d->data + rd32(a + 112), a[116]);
			if (v >= s->len)
				goto bad; /* must be an offset into the pointee */
			v += s->gpa;
			memcpy(d->data + rd32(a + 112), &v, a[116]);
			break;
		case ACPI_LOADER_ADD_CHECKSUM:
			d = fw_find(f, n, a);
			if (!d || !d->allocated || rd32(a + 56) >= d->len ||
			    rd32(a + 60) + rd32(a + 64) > d->len)
				goto bad;
			/* OVMF: CalculateCheckSum8 over the range, byte included */
			d->data[rd32(a + 56)] = -sum8(d->data + rd32(a + 60), rd32(a + 64));
			break;
		default:
			goto bad;
		}
	}
	return 0;
bad:
	FAIL_AT("bad loader command");
	return -1;
}

/* The fw_cfg files, loaded at other addresses by a simulated firmware,
 * pass every check the direct-boot tables pass. */
TEST(table_loader_gives_the_same_tables)
{
	struct layout l;
	struct acpi_params p = { .nr_cpus = 4, .layout = &l };
	struct acpi_build_result r;
	struct acpi_loader ld;
	static u8 buf[BUF_SIZE];
	struct gmem m = { .n = 2 };
	struct fw_file f[2];

	if (make_layout(&l, 8 * GiB, 40, 0))
		return;
	/* the base address of the direct-boot build must not matter */
	ASSERT_EQ(acpi_build(&p, 0x7000000, buf, sizeof(buf), &r), 0);
	ASSERT_EQ(acpi_loader_build(buf, &r, &ld), 0);
	ASSERT_EQ(ld.rsdp_len, 36);
	ASSERT_EQ(ld.cmds_len % ACPI_LOADER_ENTRY_SIZE, 0);
	ASSERT_EQ(ld.cmds_len / ACPI_LOADER_ENTRY_SIZE, 2 + r.nr_ptrs + r.nr_csums);
	f[0] = (struct fw_file){ ACPI_LOADER_FILE_RSDP, ld.rsdp, ld.rsdp_len, 0xf5a30, false };
	f[1] = (struct fw_file){ ACPI_LOADER_FILE_TABLES, ld.tables, ld.tables_len, 0x7ffb1000, false };
	if (fw_run(f, 2, ld.cmds, ld.cmds_len) == 0) {
		m.r[0].gpa = f[0].gpa;
		m.r[0].p = f[0].data;
		m.r[0].len = f[0].len;
		m.r[1].gpa = f[1].gpa;
		m.r[1].p = f[1].data;
		m.r[1].len = f[1].len;
		check_tables(&m, f[0].gpa, p.nr_cpus, &l);
	}
	acpi_loader_free(&ld);
}

/* The tables the ACPICA tools read, and the file each is written to. */
static const struct { enum acpi_table t; const char *file; } tool_tables[] = {
	{ ACPI_DSDT, "dsdt" }, { ACPI_SSDT, "ssdt" }, { ACPI_FADT, "facp" },
	{ ACPI_MADT, "apic" }, { ACPI_MCFG, "mcfg" },
};

// Write each table of tool_tables to dir/<file>.dat; 0 or -1.
static int write_tables(const char *dir, const u8 *buf, const struct acpi_build_result *r)
{
	for (size_t i = 0; i < ARRAY_SIZE(tool_tables); i++) {
		const struct acpi_table_info *ti = &r->tables[tool_tables[i].t];
		char path[256];
		FILE *f;
		int ok;

		snprintf(path, sizeof(path), "%s/%s.dat", dir, tool_tables[i].file);
		f = fopen(path, "wb");
		if (!f)
			return -1;
		ok = fwrite(buf + ti->off, 1, ti->len, f) == ti->len;
		if (fclose(f) || !ok)
			return -1;
	}
	return 0;
}

// Read dir/name into a malloc'd string with runs of spaces squeezed to one.
static char *read_squeezed(const char *dir, const char *name)
{
	char path[256], *s;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = calloc(1, n + 1);
	if (s && fread(s, 1, n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	fclose(f);
	/* the tools align their columns with spaces */
	for (char *i = s, *o = s; i; i++) {
		if (*i == ' ' && o > s && o[-1] == ' ')
			continue;
		if (!(*o++ = *i))
			break;
	}
	return s;
}

// Build tables for 2 CPUs and 4 GiB into a fresh temp dir; 0 or -1 (failed).
static int tool_setup(char *dir, struct layout *l)
{
	struct acpi_params p = { .nr_cpus = 2, .layout = l };
	struct acpi_build_result r;
	static u8 buf[BUF_SIZE];

	if (make_layout(l, 4 * GiB, 40, 0))
		return -1;
	/* the values the checks below expect */
	if (l->mmio64_base != 6 * GiB || l->mmio64_size != 32 * GiB ||
	    acpi_build(&p, LAYOUT_ACPI_BASE, buf, sizeof(buf), &r) || !mkdtemp(dir) ||
	    write_tables(dir, buf, &r)) {
		FAIL_AT("setting up %s", dir);
		return -1;
	}
	return 0;
}

// Remove the temp dir unless the test failed (then it is kept to look at).
static void tool_cleanup(const char *dir)
{
	char cmd[128];

	if (test_state.cur_failed)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		FAIL_AT("%s", cmd);
}

/* iasl -d on our output: an independent decoder of the AML and the table
 * layouts. Skipped (passes) when iasl is not installed. */
TEST(iasl_disassembles_the_tables)
{
	static const char *want[][4] = {
		{ "Device (PCI0)", "Name (_PRT, Package (0x7C)",
		  "0x0000000180000000, // Range Minimum",
		  "0x000000097FFFFFFF, // Range Maximum" },
		{ "Device (\\_SB.C001)", "\"ACPI0007\"" },
		{ "PM1A Event Block Address : 00000600", "SCI Interrupt : 0009",
		  "Value to cause reset : 06", "Address : 0000000000000CF9" },
		{ "Local Apic Address : FEE00000", "Local Apic ID : 01", "Address : FEC00000" },
		{ "Base Address : 00000000B0000000", "End Bus Number : FF" },
	};
	char dir[] = "/tmp/ptvm-test-acpi-XXXXXX", cmd[256], name[16], *dsl;
	struct layout l;

	_Static_assert(ARRAY_SIZE(want) == ARRAY_SIZE(tool_tables), "one row per table");
	if (system("iasl -v >/dev/null 2>&1") != 0) {
		printf("# iasl not installed: skipped\n");
		return;
	}
	if (tool_setup(dir, &l))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(tool_tables) && !test_state.cur_failed; i++) {
		const char *file = tool_tables[i].file;

		/* the SSDT refers to \_SB, which the DSDT defines */
		snprintf(cmd, sizeof(cmd), "cd %s && iasl -vs %s -d %s.dat >%s.log 2>&1",
			 dir, tool_tables[i].t == ACPI_SSDT ? "-e dsdt.dat" : "", file, file);
		if (system(cmd) != 0) {
			FAIL_AT("iasl -d %s.dat failed (see %s/%s.log)", file, dir, file);
			break;
		}
		snprintf(name, sizeof(name), "%s.dsl", file);
		dsl = read_squeezed(dir, name);
		if (!dsl) {
			FAIL_AT("no %s/%s", dir, name);
			break;
		}
		for (int k = 0; k < 4 && want[i][k]; k++)
			if (!strstr(dsl, want[i][k]))
				FAIL_AT("%s/%s lacks \"%s\"", dir, name, want[i][k]);
		/* bad checksums and fields are reported inside the output */
		if (strstr(dsl, "Invalid") || strstr(dsl, "Incorrect"))
			FAIL_AT("%s/%s reports a problem", dir, name);
		free(dsl);
	}
	tool_cleanup(dir);
}

/* acpiexec (ACPICA, the interpreter Linux uses) loads all tables and runs
 * the AML: no warnings, and _S5, _PRT, _OSC and the CPU devices evaluate as
 * expected. Skipped when acpiexec is not installed. */
TEST(acpiexec_runs_the_aml)
{
	static const char *want[] = {
		"2 ACPI AML tables successfully acquired and loaded",
		/* _S5 */
		"[Integer] = 0000000000000005",
		/* _PRT: the first and last entries */
		"[Package] Contains 124 Elements:",
		"[Integer] = 000000000001FFFF\n [Integer] = 0000000000000000\n"
		" [Integer] = 0000000000000000\n [Integer] = 0000000000000011\n",
		"[Integer] = 000000000001FFFF\n [Integer] = 0000000000000003\n"
		" [Integer] = 0000000000000000\n [Integer] = 0000000000000014\n",
		"[Integer] = 00000000001FFFFF\n [Integer] = 0000000000000003\n"
		" [Integer] = 0000000000000000\n [Integer] = 0000000000000012\n",
		/* _OSC asked for 0xFF: granted 0x1F, "capabilities masked" */
		"0000: 10 00 00 00 1F 00 00 00 1F 00 00 00",
		/* _OSC with a foreign UUID: "unrecognized UUID" */
		"0000: 04 00 00 00 1F 00 00 00 FF 00 00 00",
		/* \_SB.C001._UID */
		"[Integer] = 0000000000000001\n",
		"ACPI: No outstanding allocations",
	};
	/* not "Outstanding allocations after evaluation": acpiexec prints it
	 * for any method that does CreateDWordField on an argument, the usual
	 * _OSC idiom; the check at exit ("No outstanding allocations") is the
	 * one that counts */
	static const char *bad[] = { "Warning", "Error", "Exception" };
	char dir[] = "/tmp/ptvm-test-acpi-XXXXXX", cmd[1024], *out;
	struct layout l;

	if (system("acpiexec -v >/dev/null 2>&1") != 0) {
		printf("# acpiexec not installed: skipped\n");
		return;
	}
	if (tool_setup(dir, &l))
		return;
	snprintf(cmd, sizeof(cmd), "cd %s && acpiexec -b '"
		 "evaluate \\_S5; evaluate \\_SB.PCI0._PRT; "
		 "execute \\_SB.PCI0._OSC (5b 4d db 33 f7 1f 1c 40 96 57 74 41 c0 3d d7 66) 1 3 "
		 "(00 00 00 00 1f 00 00 00 ff 00 00 00); "
		 "execute \\_SB.PCI0._OSC (00 4d db 33 f7 1f 1c 40 96 57 74 41 c0 3d d7 66) 1 3 "
		 "(00 00 00 00 1f 00 00 00 ff 00 00 00); "
		 "evaluate \\_SB.C001._UID' dsdt.dat ssdt.dat facp.dat apic.dat mcfg.dat "
		 ">acpiexec.log 2>&1", dir);
	if (system(cmd) != 0)
		FAIL_AT("acpiexec failed (see %s/acpiexec.log)", dir);
	out = read_squeezed(dir, "acpiexec.log");
	if (!out) {
		FAIL_AT("no %s/acpiexec.log", dir);
		return;
	}
	for (size_t k = 0; k < ARRAY_SIZE(want); k++)
		if (!strstr(out, want[k]))
			FAIL_AT("%s/acpiexec.log lacks \"%s\"", dir, want[k]);
	for (size_t k = 0; k < ARRAY_SIZE(bad); k++)
		if (strstr(out, bad[k]))
			FAIL_AT("%s/acpiexec.log reports \"%s\"", dir, bad[k]);
	free(out);
	tool_cleanup(dir);
}

// Run every test; TAP on stdout.
int main(void)
{
	RUN(small_guest_1_2_64_cpus);
	RUN(large_guest_1_2_64_cpus);
	RUN(most_cpus);
	RUN(bad_params);
	RUN(table_loader_gives_the_same_tables);
	RUN(iasl_disassembles_the_tables);
	RUN(acpiexec_runs_the_aml);
	return test_done();
}
