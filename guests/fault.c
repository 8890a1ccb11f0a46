/*
 * Checks the guests' own safety net: a deliberate CPU exception must be
 * caught by the library's IDT, printed with its vector and RIP (and CR2 for
 * a page fault), and end the VM with EXIT_EXCEPTION, not a triple fault.
 * Command line: fault=ud (invalid opcode, default) or fault=pf (a read of
 * an unmapped address above the 4 GiB identity map).
 */
#include "lib/libguest.h"

#define UNMAPPED 0x8000000000UL /* PML4 entry 1: never present in the boot map */

// Raise the requested exception; reaching the end is a failure.
int main(void)
{
	char kind[8] = "ud";

	cmdline_get("fault", kind, sizeof(kind));
	printf("fault: raising %s\n", kind);
	if (!strncmp(kind, "pf", 3))
		(void)mmio_read32(UNMAPPED);
	else
		__asm__ volatile("ud2");
	report(false, "the %s exception was not delivered", kind);
	return report_summary();
}
