/*
 * The ACPI tables ptvm gives the guest: RSDP, XSDT and RSDT, FADT, FACS, DSDT
 * (compiled from firmware/acpi/dsdt.asl, 64-bit PCI window patched in), MADT,
 * MCFG and an SSDT with one processor device per vCPU. See docs/acpi.md.
 *
 * acpi_build() lays every table out in one buffer as if the buffer sat at a
 * guest-physical address, with all pointers and checksums final: copy it to
 * guest RAM for direct kernel boot. It also records where every table,
 * pointer field and checksum is, so the same bytes can be turned into
 * QEMU's fw_cfg table-loader files for firmware (acpi_loader_build() in
 * firmware/acpi/loader.h).
 */
#ifndef PTVM_ACPI_H
#define PTVM_ACPI_H

#include "vmm/common.h"
#include "vmm/layout.h"

/* The MADT's Processor Local APIC entries carry 8-bit APIC IDs and 0xFF is
 * the broadcast ID: more vCPUs would need x2APIC entries. */
#define ACPI_MAX_CPUS 254
/* The MADT's IOAPIC ID: KVM's in-kernel IOAPIC resets its ID register to 0,
 * and the table agrees with the register (as QEMU, Firecracker and
 * cloud-hypervisor do). */
#define ACPI_IOAPIC_ID 0

struct acpi_params {
	int nr_cpus;                 /* 1..ACPI_MAX_CPUS; APIC ID = vCPU index */
	const struct layout *layout; /* for the 64-bit PCI window */
};

/* Tables in the order acpi_build() lays them out (the RSDP first, at
 * offset 0, so it sits on a 16-byte boundary and can be split off). */
enum acpi_table {
	ACPI_RSDP,
	ACPI_FACS,
	ACPI_DSDT,
	ACPI_FADT,
	ACPI_MADT,
	ACPI_MCFG,
	ACPI_SSDT,
	ACPI_RSDT,
	ACPI_XSDT,
	ACPI_NR_TABLES
};

struct acpi_table_info {
	char sig[9]; /* "RSD PTR ", "FACP", ... NUL-terminated */
	u32 off;     /* offset in buf */
	u32 len;
};

/* A pointer field: the size bytes at off (inside table) hold
 * base_gpa + tables[target].off, little-endian. */
struct acpi_pointer {
	u32 off;
	u8 size;   /* 4 or 8 */
	u8 table;  /* enum acpi_table holding the field */
	u8 target; /* enum acpi_table pointed at */
};

/* A checksum byte at off (inside table) that makes the bytes
 * [start, start + len) sum to zero. Listed in the order they must be
 * computed (the RSDP's extended checksum covers its first one). */
struct acpi_checksum {
	u32 off, start, len;
	u8 table;
};

#define ACPI_MAX_POINTERS 24
#define ACPI_MAX_CHECKSUMS 12

struct acpi_build_result {
	u64 rsdp_gpa; /* base_gpa + tables[ACPI_RSDP].off */
	size_t len;   /* bytes of buf used, from 0 */
	struct acpi_table_info tables[ACPI_NR_TABLES];
	struct acpi_pointer ptrs[ACPI_MAX_POINTERS];
	int nr_ptrs;
	struct acpi_checksum csums[ACPI_MAX_CHECKSUMS];
	int nr_csums;
};

/*
 * Build all tables into buf[0..cap) for a buffer at guest-physical base_gpa
 * (direct boot: LAYOUT_ACPI_BASE and LAYOUT_ACPI_SIZE, where the guest's
 * RSDP scan of 0xE0000-0xFFFFF finds it). Only buf[0..out->len) is written.
 * base_gpa must be 64-byte aligned (the FACS needs it) and the whole buffer
 * below 4 GiB (RSDT and FADT hold 32-bit pointers).
 * Returns 0; -EINVAL for bad parameters or a DSDT template whose
 * placeholders are not each found exactly once; -ENOSPC if cap is too small.
 */
int acpi_build(const struct acpi_params *p, u64 base_gpa, u8 *buf, size_t cap,
	       struct acpi_build_result *out);

/* The sum of len bytes modulo 256 (0 for a valid ACPI checksum range). */
u8 acpi_sum(const u8 *p, size_t len);

#endif
