/*
 * The guests' runtime: port and MMIO access, COM1 output, report() and the
 * exit through the debug-exit port, boot_params and command-line access,
 * PCI config access (CF8/CFC and ECAM), a PM-timer delay and AP start-up.
 * Freestanding: no libc; gcc may still emit memcpy/memset calls, which
 * libguest.c provides.
 */
#ifndef GUEST_LIBGUEST_H
#define GUEST_LIBGUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bootparam.h"

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KiB 1024UL
#define MiB (1024UL * KiB)
#define GiB (1024UL * MiB)

/* Fixed addresses of the q35-like machine (see vmm/layout.h). */
#define PORT_COM1 0x3f8
#define PORT_DEBUG_EXIT 0xf4
#define PORT_CMOS_INDEX 0x70
#define PORT_CMOS_DATA 0x71
#define PORT_PCI_ADDR 0xcf8
#define PORT_PCI_DATA 0xcfc
#define PORT_PM1A_CNT 0x604
#define PORT_PM_TMR 0x608
#define ECAM_BASE 0xb0000000UL
#define LAPIC_BASE 0xfee00000UL

/* Exit statuses the library itself uses (guests return their failure count). */
#define EXIT_EXCEPTION 0x70	/* an unexpected CPU exception */
#define EXIT_BAD_BOOT 0x71	/* boot_params unusable */

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u16 inw(u16 port) { u16 v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 inl(u16 port) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

/* MMIO through volatile accesses of exactly the named width. */
static inline u8 mmio_read8(u64 a) { return *(volatile u8 *)a; }
static inline u16 mmio_read16(u64 a) { return *(volatile u16 *)a; }
static inline u32 mmio_read32(u64 a) { return *(volatile u32 *)a; }
static inline void mmio_write32(u64 a, u32 v) { *(volatile u32 *)a = v; }

static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }

/* C library subset */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

/* Output to COM1 (the whole line is written under a lock, so APs may print). */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);

/* Record one check: prints "PASS: ..." or "FAIL: ...". */
void report(bool pass, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record a check that could not run: prints "SKIP: ...", not a failure. */
void report_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "SUMMARY: N tests, F failures, S skipped" and return F (capped at 0x6f). */
int report_summary(void);

/* Leave the VM with status through the debug-exit port; never returns. */
void guest_exit(int status) __attribute__((noreturn));

/* boot_params as the loader gave it (a copy taken at entry). */
const u8 *boot_params(void);
u64 boot_params_addr(void);
/* The command line (empty string if the loader gave none). */
const char *cmdline(void);
/* Copy the value of key=VALUE from the command line into buf; false if absent. */
bool cmdline_get(const char *key, char *buf, size_t len);
/* key=NUMBER (decimal or 0x hex) or def when absent or malformed. */
u64 cmdline_get_u64(const char *key, u64 def);
/* A bare word (or key=...) present on the command line. */
bool cmdline_has(const char *word);
/* "512M", "3G", "4096K", "65536" -> bytes; false on bad syntax. */
bool parse_size(const char *s, u64 *out);
/* Parse a number (decimal or 0x hex) from *s, advancing *s. */
bool parse_u64(const char **s, u64 *out);

struct e820 {
	u64 addr;
	u64 size;
	u32 type;
};
/* Number of e820 entries in boot_params, and entry i. */
int e820_count(void);
struct e820 e820_get(int i);

/* PCI configuration space, mechanism #1 (CF8/CFC) and ECAM (MMCONFIG). */
u32 pci_cf8_read32(int bus, int dev, int fn, int off);
void pci_cf8_write32(int bus, int dev, int fn, int off, u32 v);
u16 pci_cf8_read16(int bus, int dev, int fn, int off);
u32 pci_ecam_read32(int bus, int dev, int fn, int off);
u16 pci_ecam_read16(int bus, int dev, int fn, int off);

/* ACPI PM timer (3.579545 MHz, 24 bits). */
u32 pmtimer_read(void);
/* True if the PM timer ticks (checked once, remembered). */
bool pmtimer_works(void);
/* Busy-wait about us microseconds (PM timer; a calibrated-nothing loop without it). */
void udelay(u32 us);

/* Local APIC (xAPIC MMIO). */
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0
u32 lapic_read(u32 reg);
void lapic_write(u32 reg, u32 v);
u32 lapic_id(void);
/* Software-enable this CPU's local APIC (guest_start and ap_start do). */
#define SPURIOUS_VECTOR 63
void lapic_enable(void);
void lapic_eoi(void);
/* Write ICR (high: destination APIC ID) and wait for delivery. */
#define ICR_FIXED 0x00000000
#define ICR_ASSERT 0x00004000
#define ICR_ALL_BUT_SELF 0x000c0000
void lapic_ipi(u32 apic_id, u32 icr);

/*
 * Traps: vectors 0..31 are exceptions, IRQ_VECTOR_FIRST.. (32 of them)
 * interrupts. A vector without a handler ends the VM with EXIT_EXCEPTION;
 * handlers of interrupt vectors are followed by a local APIC EOI. The 8259s
 * are masked at start; SPURIOUS_VECTOR is ignored.
 */
void trap_set_handler(int vector, void (*fn)(int vector));
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }

/* The IOAPIC at 0xFEC00000 and the legacy 8259 PICs (lib/irq.c). */
#define IOAPIC_BASE 0xfec00000UL
u32 ioapic_read(u32 reg);
void ioapic_write(u32 reg, u32 v);
/* Number of redirection entries (pins). */
int ioapic_pins(void);
/* Route pin gsi to vector on the CPU with this APIC ID (fixed, physical). */
void ioapic_route(int gsi, int vector, bool level, bool active_low, u32 apic_id);
void ioapic_mask(int gsi, bool masked);
/* Mask both 8259s so only the IOAPIC delivers legacy IRQs. */
void pic_mask_all(void);

/*
 * Start the AP with this APIC ID (INIT, SIPI, SIPI) and wait up to
 * timeout_ms for it to call fn(slot) on its own stack; slot counts the
 * APs that reached long mode, from 0. Returns 0, -1 if the AP did not
 * arrive in time. APs are started one at a time; afterwards they halt with
 * interrupts enabled.
 */
int smp_start_ap(u32 apic_id, void (*fn)(int slot), u32 timeout_ms);

/* Provided by each guest. */
int main(void);

#endif
