/*
 * Checks the guests' own safety net: a deliberate CPU exception must be
 * caught by the library's IDT, printed with its vector and RIP (and CR2 for
 * a page fault), and end the VM with EXIT_EXCEPTION, not a triple fault.
 * Command line: fault=ud (invalid opcode, default) or fault=pf (a read of
 * an unmapped address above the 4 GiB identity map), or fault=triple: an
 * empty IDT and then #UD, so the CPU shuts down and ptvm must report the
 * triple fault with the registers and exit 1.
 */
#include "lib/libguest.h"

#define UNMAPPED 0x8000000000UL /* PML4 entry 1: never present in the boot map */

// Raise the requested exception; reaching the end is a failure.
int main(void)
{
	char kind[8] = "ud";

	cmdline_get("fault", kind, sizeof(kind));
	printf("fault: raising %s\n", kind);
	if (!strncmp(kind, "pf", 3)) {
		(void)mmio_read32(UNMAPPED);
	} else if (!strncmp(kind, "triple", 7)) {
		static const struct { u16 limit; u64 base; } __attribute__((packed)) no_idt = { 0, 0 };

		__asm__ volatile("lidt %0; ud2" : : "m"(no_idt));
	} else {
		__asm__ volatile("ud2");
	}
	report(false, "the %s exception was not delivered", kind);
	return report_summary();
}
