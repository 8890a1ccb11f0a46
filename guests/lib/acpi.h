/* Finding and checking ACPI tables from inside a guest (shared by acpi.c and smp.c). */
#ifndef GUEST_ACPI_H
#define GUEST_ACPI_H

#include "libguest.h"

#define ACPI_HDR_LEN 36
#define MADT_MAX_CPUS 256

/* Sum of len bytes is 0 mod 256. */
bool acpi_checksum_ok(const void *p, u32 len);
/* Scan 0xE0000..0xFFFFF on 16-byte boundaries for a valid RSDP; 0 if none. */
u64 acpi_rsdp_scan(void);
/* The XSDT (or, with allow_rsdt and no XSDT, the RSDT) named by rsdp; NULL if none. */
const u8 *acpi_root(u64 rsdp, bool allow_rsdt);
/* Number of entries of root and the address of entry i. */
int acpi_root_count(const u8 *root);
u64 acpi_root_entry(const u8 *root, int i);
/* The first table with this signature under root; NULL if none. */
const u8 *acpi_find(const u8 *root, const char *sig);
/* The APIC IDs of the enabled CPUs in the MADT; returns their number. */
int madt_cpus(const u8 *madt, u32 *ids, int max);

/*
 * The IOAPIC input of ISA IRQ irq: its interrupt source override in the
 * MADT, or irq itself. *flags gets the MPS INTI flags (0 = ISA default:
 * edge, active high).
 */
int madt_isa_gsi(const u8 *madt, int irq, u16 *flags);

/* Unaligned little-endian readers. */
static inline u16 get16(const u8 *p) { u16 v; memcpy(&v, p, 2); return v; }
static inline u32 get32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static inline u64 get64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

#endif
