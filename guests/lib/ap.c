/*
 * Local APIC access and AP start-up: copy the trampoline (start.S) below
 * 1 MiB, give it the BSP's CR3/CR4/EFER, send INIT-SIPI-SIPI and wait for
 * the AP to reach ap_start() in long mode. One AP at a time, so the
 * trampoline and the hand-over variables are never shared.
 */
#include "libguest.h"

#define LAPIC_ID 0x020
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define ICR_INIT 0x00000500
#define ICR_STARTUP 0x00000600
#define ICR_LEVEL_ASSERT 0x00004000
#define ICR_BUSY 0x00001000
#define MSR_EFER 0xc0000080
#define EFER_LMA 0x400

extern const u8 ap_tramp_start[], ap_tramp_end[];
extern const u8 ap_tramp_cr3[], ap_tramp_cr4[], ap_tramp_efer[];

void ap_start(int slot);
void idt_load(void);

static void (*volatile ap_fn)(int slot);
static volatile int ap_arrived;

// Read a local APIC register.
u32 lapic_read(u32 reg)
{
	return mmio_read32(LAPIC_BASE + reg);
}

// Write a local APIC register.
void lapic_write(u32 reg, u32 v)
{
	mmio_write32(LAPIC_BASE + reg, v);
}

// This CPU's xAPIC ID.
u32 lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

// Software-enable the local APIC, spurious interrupts on SPURIOUS_VECTOR.
void lapic_enable(void)
{
	lapic_write(LAPIC_SVR, 0x100 | SPURIOUS_VECTOR);
}

// End of interrupt for the one in service.
void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

// Send an IPI and wait (bounded) until the APIC has delivered it.
void lapic_ipi(u32 apic_id, u32 icr)
{
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr);
	for (int i = 0; i < 100000 && (lapic_read(LAPIC_ICR_LO) & ICR_BUSY); i++)
		cpu_relax();
}

// Put the trampoline at AP_TRAMPOLINE with this CPU's paging state in it.
static void trampoline_install(void)
{
	u8 *dst = (u8 *)(uintptr_t)AP_TRAMPOLINE;
	u64 cr3, cr4;
	u32 lo, hi, v;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_EFER));
	memcpy(dst, ap_tramp_start, ap_tramp_end - ap_tramp_start);
	v = (u32)cr3;
	memcpy(dst + (ap_tramp_cr3 - ap_tramp_start), &v, 4);
	v = (u32)cr4;
	memcpy(dst + (ap_tramp_cr4 - ap_tramp_start), &v, 4);
	v = lo & ~EFER_LMA; /* LMA follows from LME + paging */
	memcpy(dst + (ap_tramp_efer - ap_tramp_start), &v, 4);
	__asm__ volatile("" ::: "memory");
}

// INIT, 10 ms, SIPI, 200 us, SIPI; then wait for the AP.
int smp_start_ap(u32 apic_id, void (*fn)(int slot), u32 timeout_ms)
{
	int before = ap_arrived;

	trampoline_install();
	ap_fn = fn;
	lapic_enable();
	lapic_ipi(apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
	udelay(10000);
	for (int i = 0; i < 2; i++) {
		lapic_ipi(apic_id, ICR_STARTUP | (AP_TRAMPOLINE >> 12));
		udelay(200);
		if (ap_arrived != before)
			return 0;
	}
	for (u32 ms = 0; ms < timeout_ms; ms++) {
		if (ap_arrived != before)
			return 0;
		udelay(1000);
	}
	return ap_arrived != before ? 0 : -1;
}

// An AP in long mode on its own stack (from ap_entry64): run fn, then idle
// with interrupts on, so IPIs reach the handlers set with trap_set_handler().
void ap_start(int slot)
{
	idt_load();
	lapic_enable();
	if (slot < AP_MAX - 1 && ap_fn)
		ap_fn(slot);
	__atomic_fetch_add(&ap_arrived, 1, __ATOMIC_SEQ_CST);
	for (;;)
		__asm__ volatile("sti; hlt" ::: "memory");
}
