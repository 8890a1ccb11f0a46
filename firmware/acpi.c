/*
 * Builds the guest's ACPI tables (see acpi.h and docs/acpi.md).
 *
 * Layout in the buffer, each table aligned to 16 bytes (the FACS to 64):
 *   RSDP | FACS | DSDT | FADT | MADT | MCFG | SSDT | RSDT | XSDT
 * Every pointer field and checksum is written through a record in the
 * result (ptr_add, csum_add), so acpi_build_result describes all of them and
 * the fw_cfg table-loader can be generated from it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "devices/pci/pci.h"
#include "firmware/acpi.h"
#include "firmware/acpi/dsdt.h"
#include "vmm/log.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the packed ACPI structs below assume a little-endian host"
#endif

#define ACPI_OEM_ID "PTVM  "        /* 6 bytes */
#define ACPI_CREATOR_ID "PTVM"
#define ACPI_CREATOR_REV 1

/*
 * The 64-bit window placeholders of PCI0._CRS in dsdt.asl (QWordMemory Min,
 * Max, Length). Each must occur exactly once in the compiled AML.
 */
#define ACPI_DSDT_PH_MIN 0x00007A5C00000000ULL
#define ACPI_DSDT_PH_MAX 0x00007B0CFFFFFFFFULL
#define ACPI_DSDT_PH_LEN 0x000000B100000000ULL

struct acpi_header {
	char sig[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	char creator_id[4];
	u32 creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_header) == 36, "ACPI header");

struct acpi_rsdp {
	char sig[8];
	u8 checksum; /* bytes 0..19 */
	char oem_id[6];
	u8 revision; /* 2: ACPI 2.0+, has the fields below */
	u32 rsdt_addr;
	u32 length;
	u64 xsdt_addr;
	u8 ext_checksum; /* all 36 bytes */
	u8 reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");

/* Generic Address Structure */
struct acpi_gas {
	u8 space_id; /* 1: system I/O */
	u8 bit_width;
	u8 bit_offset;
	u8 access_size; /* 1 byte, 2 word, 3 dword */
	u64 address;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS");

#define ACPI_GAS_IO 1
#define ACPI_ACCESS_BYTE 1
#define ACPI_ACCESS_WORD 2
#define ACPI_ACCESS_DWORD 3

/* FADT, revision 6 (ACPI 6.0 layout: 276 bytes) */
struct acpi_fadt {
	struct acpi_header h;
	u32 firmware_ctrl;
	u32 dsdt;
	u8 reserved0;
	u8 preferred_pm_profile;
	u16 sci_int;
	u32 smi_cmd;
	u8 acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	u32 pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	u32 pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	u8 pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	u8 gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	u16 p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	u8 duty_offset, duty_width, day_alrm, mon_alrm, century;
	u16 iapc_boot_arch;
	u8 reserved1;
	u32 flags;
	struct acpi_gas reset_reg;
	u8 reset_value;
	u16 arm_boot_arch;
	u8 minor_version;
	u64 x_firmware_ctrl;
	u64 x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg, sleep_status_reg;
	u64 hypervisor_vendor_id;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT flags");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT");
_Static_assert(offsetof(struct acpi_fadt, x_gpe0_blk) == 220, "FADT X_GPE0");

#define FADT_F_WBINVD (1u << 0)
#define FADT_F_PROC_C1 (1u << 2)
#define FADT_F_SLP_BUTTON (1u << 5)     /* no fixed-feature sleep button */
#define FADT_F_FIX_RTC (1u << 6)        /* no RTC wake status in PM1 */
#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_BOOT_LEGACY_DEVICES (1u << 0)
#define FADT_BOOT_8042 (1u << 1)

struct acpi_facs {
	char sig[4];
	u32 length;
	u32 hardware_signature;
	u32 firmware_waking_vector;
	u32 global_lock;
	u32 flags;
	u64 x_firmware_waking_vector;
	u8 version;
	u8 reserved0[3];
	u32 ospm_flags;
	u8 reserved1[24];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS");

struct acpi_madt {
	struct acpi_header h;
	u32 lapic_addr;
	u32 flags;
} __attribute__((packed));

#define MADT_PCAT_COMPAT 1u
#define MADT_LAPIC_ENABLED 1u

struct madt_lapic {
	u8 type, length; /* 0, 8 */
	u8 processor_uid;
	u8 apic_id;
	u32 flags;
} __attribute__((packed));

struct madt_ioapic {
	u8 type, length; /* 1, 12 */
	u8 id;
	u8 reserved;
	u32 address;
	u32 gsi_base;
} __attribute__((packed));

struct madt_iso {
	u8 type, length; /* 2, 10 */
	u8 bus;          /* 0: ISA */
	u8 source;       /* ISA IRQ */
	u32 gsi;
	u16 flags;       /* bits 0-1 polarity, 2-3 trigger mode */
} __attribute__((packed));

#define MADT_POLARITY_HIGH 0x1
#define MADT_TRIGGER_LEVEL (0x3 << 2)

struct madt_lapic_nmi {
	u8 type, length; /* 4, 6 */
	u8 processor_uid; /* 0xFF: all processors */
	u16 flags;
	u8 lint;
} __attribute__((packed));

struct acpi_mcfg {
	struct acpi_header h;
	u64 reserved;
	u64 base;
	u16 segment;
	u8 start_bus, end_bus;
	u32 reserved1;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_mcfg) == 60, "MCFG");

/* The state of one acpi_build() call. */
struct builder {
	u8 *buf;
	size_t cap, pos;
	u64 base;
	struct acpi_build_result *r;
};

// The sum of len bytes modulo 256.
u8 acpi_sum(const u8 *p, size_t len)
{
	u8 s = 0;

	while (len--)
		s += *p++;
	return s;
}

// Reserve len zeroed bytes for table t at the next multiple of align.
static void *table_alloc(struct builder *b, enum acpi_table t, const char *sig,
			 size_t len, size_t align)
{
	size_t off = ALIGN_UP(b->pos, align);
	struct acpi_table_info *ti = &b->r->tables[t];

	if (off > b->cap || len > b->cap - off)
		return NULL;
	memset(b->buf + off, 0, len);
	b->pos = off + len;
	snprintf(ti->sig, sizeof(ti->sig), "%s", sig);
	ti->off = off;
	ti->len = len;
	return b->buf + off;
}

// Record a pointer field at byte off of table t that must point at target.
static void ptr_add(struct builder *b, enum acpi_table t, const void *field,
		    u8 size, enum acpi_table target)
{
	struct acpi_build_result *r = b->r;

	/* the table set is fixed, so running out is a bug, not an input error */
	if (r->nr_ptrs == ACPI_MAX_POINTERS)
		die("acpi: internal error: more than %d pointer fields", ACPI_MAX_POINTERS);
	r->ptrs[r->nr_ptrs++] = (struct acpi_pointer){
		.off = (const u8 *)field - b->buf,
		.size = size,
		.table = t,
		.target = target,
	};
}

// Record the checksum byte of table t over [start, start + len) of the buffer.
static void csum_add(struct builder *b, enum acpi_table t, const u8 *field,
		     const void *start, u32 len)
{
	struct acpi_build_result *r = b->r;

	if (r->nr_csums == ACPI_MAX_CHECKSUMS)
		die("acpi: internal error: more than %d checksums", ACPI_MAX_CHECKSUMS);
	r->csums[r->nr_csums++] = (struct acpi_checksum){
		.off = field - b->buf,
		.start = (const u8 *)start - b->buf,
		.len = len,
		.table = t,
	};
}

// Fill a standard table header; the checksum is recorded for later.
static void header_init(struct builder *b, enum acpi_table t, struct acpi_header *h,
			const char *sig, u32 len, u8 rev, const char *table_id)
{
	memcpy(h->sig, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, table_id, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = ACPI_CREATOR_REV;
	csum_add(b, t, &h->checksum, h, len);
}

// A GAS for an I/O port block of len bytes.
static struct acpi_gas gas_io(u16 port, u8 len, u8 access)
{
	return (struct acpi_gas){
		.space_id = ACPI_GAS_IO,
		.bit_width = len * 8,
		.access_size = access,
		.address = port,
	};
}

// The FACS: no content the OS needs from us, but some OSes insist on one.
static int build_facs(struct builder *b)
{
	struct acpi_facs *f = table_alloc(b, ACPI_FACS, "FACS", sizeof(*f), 64);

	if (!f)
		return -ENOSPC;
	memcpy(f->sig, "FACS", 4);
	f->length = sizeof(*f);
	f->version = 2;
	return 0;
}

// Find the 8-byte little-endian value v exactly once in aml; its offset or -1.
static long find_unique_u64(const u8 *aml, size_t len, u64 v)
{
	long at = -1;

	for (size_t i = 0; i + 8 <= len; i++) {
		u64 x;

		memcpy(&x, aml + i, 8);
		if (x != v)
			continue;
		if (at >= 0)
			return -1;
		at = i;
	}
	return at;
}

// Copy the compiled DSDT and patch the 64-bit PCI window into PCI0._CRS.
static int build_dsdt(struct builder *b, const struct layout *l)
{
	const struct { u64 ph, val; } patch[] = {
		{ ACPI_DSDT_PH_MIN, l->mmio64_base },
		{ ACPI_DSDT_PH_MAX, l->mmio64_base + l->mmio64_size - 1 },
		{ ACPI_DSDT_PH_LEN, l->mmio64_size },
	};
	struct acpi_header *h;
	size_t len;
	const u8 *tpl = acpi_dsdt_template(&len);
	u8 *aml;

	if (len < sizeof(*h) || memcmp(tpl, "DSDT", 4) ||
	    ((const struct acpi_header *)tpl)->length != len) {
		pr_err("acpi: the compiled DSDT is not a DSDT; rebuild firmware/acpi/dsdt.asl");
		return -EINVAL;
	}
	aml = table_alloc(b, ACPI_DSDT, "DSDT", len, 16);
	if (!aml)
		return -ENOSPC;
	memcpy(aml, tpl, len);
	for (size_t i = 0; i < ARRAY_SIZE(patch); i++) {
		long at = find_unique_u64(aml, len, patch[i].ph);

		if (at < 0) {
			pr_err("acpi: DSDT placeholder 0x%llx not found exactly once; keep firmware/acpi/dsdt.asl and acpi.c in step",
			       (unsigned long long)patch[i].ph);
			return -EINVAL;
		}
		memcpy(aml + at, &patch[i].val, 8);
	}
	h = (struct acpi_header *)aml;
	h->checksum = 0;
	csum_add(b, ACPI_DSDT, &h->checksum, h, len);
	return 0;
}

// The FADT: PM block ports, SCI, reset register, DSDT and FACS pointers.
static int build_fadt(struct builder *b)
{
	struct acpi_fadt *f = table_alloc(b, ACPI_FADT, "FACP", sizeof(*f), 16);

	if (!f)
		return -ENOSPC;
	header_init(b, ACPI_FADT, &f->h, "FACP", sizeof(*f), 6, "PTVMFACP");
	/* FIRMWARE_CTRL only: X_FIRMWARE_CTRL stays 0, the spec allows one of
	 * them, and 32 bits reach the whole buffer */
	ptr_add(b, ACPI_FADT, &f->firmware_ctrl, 4, ACPI_FACS);
	ptr_add(b, ACPI_FADT, &f->dsdt, 4, ACPI_DSDT);
	ptr_add(b, ACPI_FADT, &f->x_dsdt, 8, ACPI_DSDT);
	f->sci_int = IRQ_SCI;
	/* SMI_CMD 0: there is no SMM; the PM device reports SCI_EN set from
	 * reset, so the OS finds ACPI mode already on */
	f->smi_cmd = 0;
	f->pm1a_evt_blk = PORT_PM1A_EVT;
	f->pm1a_cnt_blk = PORT_PM1A_CNT;
	f->pm_tmr_blk = PORT_PM_TMR;
	f->gpe0_blk = PORT_GPE0;
	f->pm1_evt_len = 4;
	f->pm1_cnt_len = 2;
	f->pm_tmr_len = 4;
	f->gpe0_blk_len = PORT_GPE0_LEN;
	/* above 100 and 1000 us: C2 and C3 are not supported */
	f->p_lvl2_lat = 0xfff;
	f->p_lvl3_lat = 0xfff;
	f->iapc_boot_arch = FADT_BOOT_LEGACY_DEVICES | FADT_BOOT_8042;
	f->century = 0x32; /* the CMOS century register devices/rtc.c keeps */
	/* PWR_BUTTON stays clear: devices/pm.c has the fixed-feature power
	 * button (PWRBTN_STS/EN), which pm_power_button() presses. There is no
	 * sleep button, and no RTC wake status in PM1. */
	f->flags = FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON |
		   FADT_F_FIX_RTC | FADT_F_RESET_REG_SUP;
	f->reset_reg = gas_io(PORT_RESET_CNT, 1, ACPI_ACCESS_BYTE);
	f->reset_value = 0x06; /* full reset: SYS_RST | RST_CPU */
	f->minor_version = 0;
	f->x_pm1a_evt_blk = gas_io(PORT_PM1A_EVT, 4, ACPI_ACCESS_WORD);
	f->x_pm1a_cnt_blk = gas_io(PORT_PM1A_CNT, 2, ACPI_ACCESS_WORD);
	f->x_pm_tmr_blk = gas_io(PORT_PM_TMR, 4, ACPI_ACCESS_DWORD);
	f->x_gpe0_blk = gas_io(PORT_GPE0, PORT_GPE0_LEN, ACPI_ACCESS_BYTE);
	memcpy(&f->hypervisor_vendor_id, "PTVM\0\0\0\0", 8);
	return 0;
}

/*
 * The MADT: one enabled local APIC per vCPU (APIC ID and processor UID =
 * vCPU index), the IOAPIC with GSIs 0-23, and one interrupt source override:
 * the SCI (ISA IRQ 9) is level-triggered, active high.
 *
 * There is deliberately no override for IRQ 0. Real chipsets wire the PIT to
 * IOAPIC pin 2 and say "IRQ 0 -> GSI 2" here, but KVM's in-kernel PIT raises
 * GSI 0 and KVM's default routes (kept by vmm/irq.c) send GSI 0 to IOAPIC
 * pin 0; an override to GSI 2 would make the guest wait on a pin that never
 * fires. Without one, the guest assumes the identity mapping, which is what
 * KVM does.
 */
static int build_madt(struct builder *b, const struct acpi_params *p)
{
	size_t len = sizeof(struct acpi_madt) + p->nr_cpus * sizeof(struct madt_lapic) +
		     sizeof(struct madt_ioapic) + sizeof(struct madt_iso) +
		     sizeof(struct madt_lapic_nmi);
	struct acpi_madt *m = table_alloc(b, ACPI_MADT, "APIC", len, 16);
	struct madt_lapic *lapic;
	struct madt_ioapic *io;
	struct madt_iso *iso;
	struct madt_lapic_nmi *nmi;

	if (!m)
		return -ENOSPC;
	header_init(b, ACPI_MADT, &m->h, "APIC", len, 4, "PTVMAPIC");
	m->lapic_addr = LAYOUT_LAPIC_BASE;
	m->flags = MADT_PCAT_COMPAT; /* the 8259 PICs exist: the OS masks them */
	lapic = (struct madt_lapic *)(m + 1);
	for (int i = 0; i < p->nr_cpus; i++, lapic++) {
		lapic->type = 0;
		lapic->length = sizeof(*lapic);
		lapic->processor_uid = i;
		lapic->apic_id = i;
		lapic->flags = MADT_LAPIC_ENABLED;
	}
	io = (struct madt_ioapic *)lapic;
	io->type = 1;
	io->length = sizeof(*io);
	io->id = ACPI_IOAPIC_ID;
	io->address = LAYOUT_IOAPIC_BASE;
	io->gsi_base = 0;
	iso = (struct madt_iso *)(io + 1);
	iso->type = 2;
	iso->length = sizeof(*iso);
	iso->bus = 0;
	iso->source = IRQ_SCI;
	iso->gsi = IRQ_SCI;
	iso->flags = MADT_POLARITY_HIGH | MADT_TRIGGER_LEVEL;
	/* LINT1 of every local APIC is the NMI input, as on PCs */
	nmi = (struct madt_lapic_nmi *)(iso + 1);
	nmi->type = 4;
	nmi->length = sizeof(*nmi);
	nmi->processor_uid = 0xff;
	nmi->flags = 0;
	nmi->lint = 1;
	return 0;
}

// The MCFG: one ECAM allocation for segment 0, buses 0-255.
static int build_mcfg(struct builder *b)
{
	struct acpi_mcfg *m = table_alloc(b, ACPI_MCFG, "MCFG", sizeof(*m), 16);

	if (!m)
		return -ENOSPC;
	header_init(b, ACPI_MCFG, &m->h, "MCFG", sizeof(*m), 1, "PTVMMCFG");
	m->base = LAYOUT_ECAM_BASE;
	m->segment = 0;
	m->start_bus = 0;
	m->end_bus = LAYOUT_ECAM_BUSES - 1;
	return 0;
}

/*
 * One processor device per vCPU, in AML (this is the part of the namespace
 * that varies with the VM, so it is not in dsdt.asl):
 *   Device (\_SB.Cxxx) { Name (_HID, "ACPI0007") Name (_UID, n) }
 * with xxx = n in hex. _UID matches the MADT's processor UID; Windows needs
 * these objects to start the processors.
 */
#define CPU_DEV_BODY 32 /* name string 10 + _HID 15 + _UID 7 */
#define CPU_DEV_LEN (2 + 1 + CPU_DEV_BODY) /* DeviceOp, PkgLength, body */
_Static_assert(CPU_DEV_BODY + 1 < 64, "one-byte PkgLength");

// Write the AML for processor device n at p.
static void aml_cpu_device(u8 *p, int n)
{
	static const char hex[] = "0123456789ABCDEF";
	static const u8 hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0d,
				  'A', 'C', 'P', 'I', '0', '0', '0', '7', 0 };

	*p++ = 0x5b; /* ExtOpPrefix */
	*p++ = 0x82; /* DeviceOp */
	*p++ = CPU_DEV_BODY + 1; /* PkgLength counts itself */
	*p++ = '\\'; /* RootChar */
	*p++ = 0x2e; /* DualNamePrefix */
	memcpy(p, "_SB_", 4);
	p += 4;
	*p++ = 'C';
	*p++ = hex[(n >> 8) & 0xf];
	*p++ = hex[(n >> 4) & 0xf];
	*p++ = hex[n & 0xf];
	memcpy(p, hid, sizeof(hid));
	p += sizeof(hid);
	*p++ = 0x08; /* NameOp */
	memcpy(p, "_UID", 4);
	p += 4;
	*p++ = 0x0a; /* BytePrefix */
	*p++ = n;
}

// The SSDT with the processor devices.
static int build_ssdt(struct builder *b, const struct acpi_params *p)
{
	size_t len = sizeof(struct acpi_header) + (size_t)p->nr_cpus * CPU_DEV_LEN;
	struct acpi_header *h = table_alloc(b, ACPI_SSDT, "SSDT", len, 16);
	u8 *aml;

	if (!h)
		return -ENOSPC;
	/* revision 2: 64-bit integers, like the DSDT */
	header_init(b, ACPI_SSDT, h, "SSDT", len, 2, "PTVMCPUS");
	aml = (u8 *)(h + 1);
	for (int i = 0; i < p->nr_cpus; i++)
		aml_cpu_device(aml + i * CPU_DEV_LEN, i);
	return 0;
}

/* The tables the RSDT and XSDT list (the FADT leads to the DSDT and FACS). */
static const enum acpi_table listed[] = { ACPI_FADT, ACPI_MADT, ACPI_MCFG, ACPI_SSDT };

// The RSDT (32-bit entries) or XSDT (64-bit entries).
static int build_sdt(struct builder *b, enum acpi_table t, u8 entry)
{
	const char *sig = t == ACPI_XSDT ? "XSDT" : "RSDT";
	size_t len = sizeof(struct acpi_header) + ARRAY_SIZE(listed) * entry;
	struct acpi_header *h = table_alloc(b, t, sig, len, 16);
	u8 *e;

	if (!h)
		return -ENOSPC;
	header_init(b, t, h, sig, len, 1, t == ACPI_XSDT ? "PTVMXSDT" : "PTVMRSDT");
	e = (u8 *)(h + 1);
	for (size_t i = 0; i < ARRAY_SIZE(listed); i++)
		ptr_add(b, t, e + i * entry, entry, listed[i]);
	return 0;
}

// The RSDP (ACPI 2.0, 36 bytes) at offset 0; its pointers are recorded.
static int build_rsdp(struct builder *b)
{
	struct acpi_rsdp *r = table_alloc(b, ACPI_RSDP, "RSD PTR ", sizeof(*r), 16);

	if (!r)
		return -ENOSPC;
	memcpy(r->sig, "RSD PTR ", 8);
	memcpy(r->oem_id, ACPI_OEM_ID, 6);
	r->revision = 2;
	r->length = sizeof(*r);
	ptr_add(b, ACPI_RSDP, &r->rsdt_addr, 4, ACPI_RSDT);
	ptr_add(b, ACPI_RSDP, &r->xsdt_addr, 8, ACPI_XSDT);
	csum_add(b, ACPI_RSDP, &r->checksum, r, 20);
	csum_add(b, ACPI_RSDP, &r->ext_checksum, r, sizeof(*r));
	return 0;
}

// Write every recorded pointer, then every checksum in order.
static void finish(struct builder *b)
{
	const struct acpi_build_result *r = b->r;

	for (int i = 0; i < r->nr_ptrs; i++) {
		const struct acpi_pointer *pt = &r->ptrs[i];
		u64 v = b->base + r->tables[pt->target].off;

		memcpy(b->buf + pt->off, &v, pt->size); /* little-endian */
	}
	for (int i = 0; i < r->nr_csums; i++) {
		const struct acpi_checksum *c = &r->csums[i];

		b->buf[c->off] = 0;
		b->buf[c->off] = -acpi_sum(b->buf + c->start, c->len);
	}
}

// Build all tables into buf for a buffer at guest-physical base_gpa.
int acpi_build(const struct acpi_params *p, u64 base_gpa, u8 *buf, size_t cap,
	       struct acpi_build_result *out)
{
	struct builder b = { .buf = buf, .cap = cap, .base = base_gpa, .r = out };
	int ret;

	memset(out, 0, sizeof(*out));
	if (p->nr_cpus < 1 || p->nr_cpus > ACPI_MAX_CPUS || !p->layout ||
	    !p->layout->mmio64_size || !IS_ALIGNED(base_gpa, 64) ||
	    cap > 4 * GiB || base_gpa > 4 * GiB - cap)
		return -EINVAL;
	ret = build_rsdp(&b);
	if (!ret)
		ret = build_facs(&b);
	if (!ret)
		ret = build_dsdt(&b, p->layout);
	if (!ret)
		ret = build_fadt(&b);
	if (!ret)
		ret = build_madt(&b, p);
	if (!ret)
		ret = build_mcfg(&b);
	if (!ret)
		ret = build_ssdt(&b, p);
	if (!ret)
		ret = build_sdt(&b, ACPI_RSDT, 4);
	if (!ret)
		ret = build_sdt(&b, ACPI_XSDT, 8);
	if (ret)
		return ret;
	finish(&b);
	out->rsdp_gpa = base_gpa + out->tables[ACPI_RSDP].off;
	out->len = b.pos;
	return 0;
}
