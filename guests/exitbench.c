/*
 * Exit cost: times N guest accesses that each leave the guest for the VMM
 * (an unclaimed I/O port, the PCI config ports, the UART's scratch register)
 * with the TSC, and prints cycles per access. bench/exits runs it under ptvm
 * and QEMU in one lab run. Command line: n=N (default 20000).
 */
#include "lib/libguest.h"

// Read the time-stamp counter (no exit).
static u64 rdtsc(void)
{
	u32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

// Cycles per iteration of one access kind.
static u64 per_access(const char *name, u64 n, int kind)
{
	u64 t0 = rdtsc(), dt;

	for (u64 i = 0; i < n; i++) {
		switch (kind) {
		case 0:
			(void)inb(0x2000); /* no device: the VMM answers all ones */
			break;
		case 1:
			outl(0xcf8, 0x80000000u | (3u << 11)); /* empty slot 3 */
			(void)inl(0xcfc);
			break;
		case 2:
			outb(0x3ff, (u8)i); /* COM1 scratch register */
			break;
		case 3:
			(void)inb(0x61); /* the PIT's speaker port: answered inside KVM */
			break;
		}
	}
	dt = (rdtsc() - t0) / n;
	printf("EXITBENCH %s cycles=%lu n=%lu\n", name, dt, n);
	return dt;
}

// Time each access kind and report that each was measured.
int main(void)
{
	u64 n = cmdline_get_u64("n", 20000);

	report(per_access("unclaimed-port-read", n, 0) > 0, "timed unclaimed port reads");
	report(per_access("pci-cf8-cfc-pair", n, 1) > 0, "timed CF8/CFC config reads");
	report(per_access("uart-scratch-write", n, 2) > 0, "timed UART scratch writes");
	report(per_access("in-kernel-port-read", n, 3) > 0, "timed port 0x61 reads (no exit to the VMM)");
	return report_summary();
}
