/*
 * Interrupt controllers for guests: the IOAPIC (indirect registers at
 * 0xFEC00000: select at +0, window at +0x10) and masking the 8259 PICs.
 */
#include "libguest.h"

#define IOAPIC_REGSEL 0x00
#define IOAPIC_WINDOW 0x10
#define IOAPIC_VER 0x01
#define IOAPIC_REDTBL 0x10
#define RTE_LEVEL (1u << 15)
#define RTE_ACTIVE_LOW (1u << 13)
#define RTE_MASKED (1u << 16)

// Read an IOAPIC register.
u32 ioapic_read(u32 reg)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	return mmio_read32(IOAPIC_BASE + IOAPIC_WINDOW);
}

// Write an IOAPIC register.
void ioapic_write(u32 reg, u32 v)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	mmio_write32(IOAPIC_BASE + IOAPIC_WINDOW, v);
}

// Maximum redirection entry (version register bits 23..16) + 1.
int ioapic_pins(void)
{
	return (int)((ioapic_read(IOAPIC_VER) >> 16) & 0xff) + 1;
}

// Program a redirection entry: destination first, then the low half unmasked.
void ioapic_route(int gsi, int vector, bool level, bool active_low, u32 apic_id)
{
	u32 lo = (u32)vector | (level ? RTE_LEVEL : 0) | (active_low ? RTE_ACTIVE_LOW : 0);

	ioapic_write(IOAPIC_REDTBL + 2 * gsi, RTE_MASKED);
	ioapic_write(IOAPIC_REDTBL + 2 * gsi + 1, apic_id << 24);
	ioapic_write(IOAPIC_REDTBL + 2 * gsi, lo);
}

// Set or clear the mask bit of a pin.
void ioapic_mask(int gsi, bool masked)
{
	u32 lo = ioapic_read(IOAPIC_REDTBL + 2 * gsi);

	ioapic_write(IOAPIC_REDTBL + 2 * gsi, masked ? lo | RTE_MASKED : lo & ~RTE_MASKED);
}

// OCW1 = 0xff on both controllers.
void pic_mask_all(void)
{
	outb(0xa1, 0xff);
	outb(0x21, 0xff);
}
