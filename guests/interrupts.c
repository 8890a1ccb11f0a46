/*
 * Interrupt delivery on the BSP: the local APIC timer, the PIT (IRQ 0)
 * and COM1 (IRQ 4) through the IOAPIC at the inputs the MADT names, a
 * masked IOAPIC pin that must stay silent, and the IOAPIC's 24 pins.
 * Rates are checked against the ACPI PM timer with wide margins, since a
 * software KVM may be slow (KVM's PIT makes up for missed ticks; QEMU's TCG
 * PIT does not: timing=loose accepts as few as 10% of the ticks).
 */
#include "lib/acpi.h"

#define VEC_LAPIC_TIMER 40
#define VEC_PIT 41
#define VEC_COM1 42
#define PIT_HZ 1193182
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define COM1_IER (PORT_COM1 + 1)
#define COM1_IIR (PORT_COM1 + 2)
#define IER_THRE 0x02
#define IIR_THRE 0x02

static volatile int hits[64];
static volatile u8 com1_iir;

// Count an interrupt.
static void count(int vector)
{
	hits[vector]++;
}

// COM1: the IIR read acknowledges the THRE interrupt; then stop asking for more.
static void com1_irq(int vector)
{
	com1_iir = inb(COM1_IIR);
	outb(COM1_IER, 0);
	hits[vector]++;
}

// Let interrupts in for ms milliseconds of PM-timer time.
static void run_for_ms(u32 ms)
{
	irq_enable();
	udelay(ms * 1000);
	irq_disable();
}

// One-shot then periodic LAPIC timer (divide by 16).
static void check_lapic_timer(void)
{
	trap_set_handler(VEC_LAPIC_TIMER, count);
	lapic_write(LAPIC_TIMER_DIV, 0x3);
	lapic_write(LAPIC_LVT_TIMER, VEC_LAPIC_TIMER);	/* one-shot */
	lapic_write(LAPIC_TIMER_INIT, 100000);
	run_for_ms(50);
	report(hits[VEC_LAPIC_TIMER] == 1, "LAPIC timer one-shot fired once (%d)",
	       hits[VEC_LAPIC_TIMER]);
	hits[VEC_LAPIC_TIMER] = 0;
	lapic_write(LAPIC_LVT_TIMER, VEC_LAPIC_TIMER | (1 << 17));	/* periodic */
	lapic_write(LAPIC_TIMER_INIT, 100000);
	run_for_ms(50);
	lapic_write(LAPIC_LVT_TIMER, 1 << 16);	/* masked */
	lapic_write(LAPIC_TIMER_INIT, 0);
	report(hits[VEC_LAPIC_TIMER] >= 2, "LAPIC timer periodic fired repeatedly (%d in 50 ms)",
	       hits[VEC_LAPIC_TIMER]);
}

// PIT channel 0 at 1 kHz (mode 2) through the IOAPIC: ~200 ticks in 200 ms.
static void check_pit(const u8 *madt)
{
	u16 flags;
	int gsi = madt_isa_gsi(madt, 0, &flags);
	u32 divisor = PIT_HZ / 1000;
	int n;

	printf("IRQ 0 -> GSI %d (flags 0x%x)\n", gsi, flags);
	trap_set_handler(VEC_PIT, count);
	outb(PIT_CMD, 0x34);	/* channel 0, lobyte/hibyte, mode 2 */
	outb(PIT_CH0, divisor & 0xff);
	outb(PIT_CH0, divisor >> 8);

	ioapic_route(gsi, VEC_PIT, false, false, lapic_id());
	ioapic_mask(gsi, true);
	run_for_ms(50);
	report(hits[VEC_PIT] == 0, "masked IOAPIC pin %d delivers nothing (%d)", gsi, hits[VEC_PIT]);

	ioapic_mask(gsi, false);
	run_for_ms(200);
	ioapic_mask(gsi, true);
	n = hits[VEC_PIT];
	report(n >= (cmdline_has("timing=loose") ? 10 : 100) && n <= 300,
	       "PIT IRQ 0 via IOAPIC pin %d: %d ticks in 200 ms at 1 kHz", gsi, n);
}

// COM1 THRE interrupt (IER bit 1; MCR OUT2 gates the line) via the IOAPIC.
static void check_com1(const u8 *madt)
{
	u16 flags;
	int gsi = madt_isa_gsi(madt, 4, &flags);

	trap_set_handler(VEC_COM1, com1_irq);
	ioapic_route(gsi, VEC_COM1, false, false, lapic_id());
	outb(COM1_IER, IER_THRE);
	run_for_ms(100);
	outb(COM1_IER, 0);
	ioapic_mask(gsi, true);
	report(hits[VEC_COM1] >= 1, "COM1 THRE interrupt via IOAPIC pin %d (%d)", gsi,
	       hits[VEC_COM1]);
	report(hits[VEC_COM1] == 0 || (com1_iir & 0x0f) == IIR_THRE,
	       "COM1 IIR named THRE as the source (0x%02x)", com1_iir);
}

// Run all interrupt checks.
int main(void)
{
	const u8 *root = acpi_root(acpi_rsdp_scan(), cmdline_has("allow-rsdt"));
	const u8 *madt = root ? acpi_find(root, "APIC") : NULL;

	report(madt != NULL, "MADT found");
	if (!madt)
		return report_summary();
	pic_mask_all();
	lapic_enable();
	report(ioapic_pins() == 24, "IOAPIC has 24 pins (%d)", ioapic_pins());
	for (int i = 0; i < ioapic_pins() && i < 24; i++)
		ioapic_mask(i, true);
	check_lapic_timer();
	check_pit(madt);
	check_com1(madt);
	return report_summary();
}
