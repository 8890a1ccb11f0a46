/*
 * The e820 map in boot_params against the RAM size given as mem=SIZE:
 * RAM below 640 KiB, from 1 MiB to the low-RAM top (all of it when it fits
 * below the 0xB0000000 ECAM window, else 2 GiB) and the rest from 4 GiB;
 * nothing usable in the legacy hole or the PCI hole; ECAM reserved.
 * The top pages of both RAM ranges are written and read back.
 * Command line: mem=SIZE (required); allow-fw-reserved accepts a reserved
 * tail at the top of low RAM (SeaBIOS keeps its tables there).
 */
#include "lib/libguest.h"

#define LOW_RAM_MAX_SMALL 0xb0000000UL
#define LOW_RAM_SPLIT 0x80000000UL
#define HIGH_RAM_BASE (4 * GiB)
#define FW_TAIL_MAX (1 * MiB)

/* Page directories mapping 4..8 GiB, for touching high RAM. */
static u64 high_pd[4][512] __attribute__((aligned(4096)));

// Bytes of [start, end) that e820 entries of this type cover (entries are disjoint).
static u64 e820_covered(u64 start, u64 end, u32 type)
{
	u64 sum = 0;

	for (int i = 0; i < e820_count(); i++) {
		struct e820 e = e820_get(i);
		u64 s = e.addr > start ? e.addr : start;
		u64 t = e.addr + e.size < end ? e.addr + e.size : end;

		if (e.type == type && t > s)
			sum += t - s;
	}
	return sum;
}

// Print the map; check it is sorted, disjoint, non-empty and of known types.
static void check_shape(void)
{
	int n = e820_count(), bad_order = 0, bad_type = 0;
	u64 prev_end = 0;

	report(n > 0, "boot_params has %d e820 entries", n);
	for (int i = 0; i < n; i++) {
		struct e820 e = e820_get(i);

		printf("  [0x%016lx-0x%016lx) type %u\n", e.addr, e.addr + e.size, e.type);
		if (!e.size || e.addr < prev_end || e.addr + e.size < e.addr)
			bad_order++;
		if (e.type < 1 || e.type > 5)
			bad_type++;
		prev_end = e.addr + e.size;
	}
	report(!bad_order, "entries sorted, disjoint and non-empty");
	report(!bad_type, "entry types known (1..5)");
}

// Map 4..8 GiB with 2 MiB pages in the live page tables (the boot map stops at 4 GiB).
static void map_high(void)
{
	u64 cr3, *pml4, *pdpt;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (u64 *)(cr3 & ~0xfffUL);
	pdpt = (u64 *)(pml4[0] & 0xffffffffff000UL);
	for (int i = 0; i < 4; i++) {
		for (int j = 0; j < 512; j++)
			high_pd[i][j] = (HIGH_RAM_BASE + (u64)i * GiB + (u64)j * 2 * MiB) | 0x83;
		pdpt[4 + i] = (u64)(uintptr_t)high_pd[i] | 0x3;
	}
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

// Write a pattern over the page at a and read it back.
static bool touch_page(u64 a)
{
	volatile u64 *p = (volatile u64 *)a;

	for (int i = 0; i < 512; i++)
		p[i] = a ^ (0x9e3779b97f4a7c15UL * (i + 1));
	for (int i = 0; i < 512; i++)
		if (p[i] != (a ^ (0x9e3779b97f4a7c15UL * (i + 1))))
			return false;
	return true;
}

// Run all e820 checks.
int main(void)
{
	char buf[32];
	u64 mem = 0, low_end, high, ram_low, tail, total = 0;
	bool fw = cmdline_has("allow-fw-reserved");

	check_shape();
	report(cmdline_get("mem", buf, sizeof(buf)) && parse_size(buf, &mem) && mem >= 16 * MiB,
	       "mem=SIZE on the command line (0x%lx bytes)", mem);
	if (mem < 16 * MiB)
		return report_summary();
	low_end = mem <= LOW_RAM_MAX_SMALL ? mem : LOW_RAM_SPLIT;
	high = mem - low_end;
	printf("expect RAM [0, 0x9fc00) [1 MiB, 0x%lx) and 0x%lx bytes from 4 GiB\n", low_end,
	       high);
	for (int i = 0; i < e820_count(); i++)
		if (e820_get(i).type == E820_TYPE_RAM)
			total += e820_get(i).size;

	report(e820_covered(0, 0x80000, E820_TYPE_RAM) == 0x80000,
	       "RAM covers the first 512 KiB");
	report(e820_covered(0xa0000, 1 * MiB, E820_TYPE_RAM) == 0,
	       "no RAM in the legacy hole 0xA0000..1 MiB");
	ram_low = e820_covered(1 * MiB, low_end, E820_TYPE_RAM);
	tail = low_end - 1 * MiB - ram_low;
	if (tail && fw && tail <= FW_TAIL_MAX &&
	    e820_covered(low_end - tail, low_end, E820_TYPE_RESERVED) == tail)
		report_skip("top 0x%lx bytes of low RAM reserved by firmware (allow-fw-reserved)", tail);
	else
		report(!tail, "RAM covers [1 MiB, 0x%lx) (0x%lx bytes missing)", low_end, tail);
	report(e820_covered(low_end, HIGH_RAM_BASE, E820_TYPE_RAM) == 0,
	       "no RAM between 0x%lx and 4 GiB", low_end);
	report(e820_covered(HIGH_RAM_BASE, HIGH_RAM_BASE + high, E820_TYPE_RAM) == high,
	       "RAM covers [4 GiB, 4 GiB + 0x%lx)", high);
	report(e820_covered(HIGH_RAM_BASE + high, ~0UL, E820_TYPE_RAM) == 0,
	       "no RAM beyond 4 GiB + 0x%lx", high);
	report(total <= mem && total + 1 * MiB + (fw ? FW_TAIL_MAX : 0) >= mem,
	       "total RAM 0x%lx within 1 MiB of mem=0x%lx", total, mem);
	report(e820_covered(ECAM_BASE, ECAM_BASE + 256 * MiB, E820_TYPE_RESERVED) == 256 * MiB,
	       "ECAM 0xB0000000..0xC0000000 reserved");

	report(touch_page(low_end - tail - 4096), "last page of low RAM (0x%lx) holds data",
	       low_end - tail - 4096);
	if (high && high <= 4 * GiB) {
		map_high();
		report(touch_page(HIGH_RAM_BASE), "first page of high RAM holds data");
		report(touch_page(HIGH_RAM_BASE + high - 4096), "last page of high RAM (0x%lx) holds data",
		       HIGH_RAM_BASE + high - 4096);
	}
	return report_summary();
}
