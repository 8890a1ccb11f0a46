/*
 * ivshmem-plain (--device ivshmem,path=FILE,size=SIZE): the guest finds
 * 1af4:1110 on bus 0, checks QEMU's identity and that the BAR0 registers
 * behave as QEMU's (interrupt mask and status are storage, a status read
 * clears it, IV position and doorbell read 0). Then it moves BAR2 the way
 * firmware would (decode off, sizing, new address, decode on) into the
 * 32-bit window, where the library's identity map reaches (ptvm places it
 * above 4 GiB at setup). Through the moved BAR it writes a per-run pattern
 * (from the TSC) at both ends, moves the BAR once more and reads the same
 * pattern at the new place: the mapping moved and it is the same memory.
 * With decode off, or at the old place, the pattern is gone (ptvm reads all
 * ones there, QEMU zeros). Runs under QEMU too, with its ivshmem-plain, as a
 * check of the guest's expectations.
 */
#include "lib/libguest.h"

#define IVSHMEM_ID 0x11101af4u    /* device << 16 | vendor */
#define PLACE_A 0xd0000000u       /* free in ptvm's 32-bit window, 256 MiB aligned */
#define PLACE_B 0xe0000000u
#define PCI_COMMAND 0x04
#define PCI_CMD_MEM 0x2
#define BAR0 0x10
#define BAR2 0x18
#define BAR3 0x1c

static int slot = -1;

// Config read/write of the ivshmem function.
static u32 cfg_rd(int off) { return pci_cf8_read32(0, slot, 0, off); }
static void cfg_wr(int off, u32 v) { pci_cf8_write32(0, slot, 0, off, v); }

// The time-stamp counter: a value that differs from run to run.
static u64 rdtsc(void)
{
	u32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (u64)hi << 32 | lo;
}

// Find 1af4:1110 on bus 0.
static bool find_device(void)
{
	for (int s = 1; s < 32 && slot < 0; s++)
		if (pci_cf8_read32(0, s, 0, 0) == IVSHMEM_ID)
			slot = s;
	report(slot > 0, "ivshmem 1af4:1110 found on bus 0 (slot %d)", slot);
	return slot > 0;
}

// Identity, setup state and registers.
static void check_identity_and_regs(void)
{
	u32 bar0 = cfg_rd(BAR0) & ~0xfu;
	u64 bar2 = (cfg_rd(BAR2) & ~0xfu) | (u64)cfg_rd(BAR3) << 32;

	report(cfg_rd(0x08) == 0x05000001, "class 0x0500 RAM memory, revision 1 (0x%08x)",
	       cfg_rd(0x08));
	report(cfg_rd(0x2c) == 0x11001af4, "subsystem 1af4:1100 (0x%08x)", cfg_rd(0x2c));
	report(((cfg_rd(0x3c) >> 8) & 0xff) == 0, "no interrupt pin");
	report((cfg_rd(BAR2) & 0xf) == 0xc, "BAR2 is 64-bit prefetchable memory");
	report(bar0 && bar2 && (cfg_rd(PCI_COMMAND) & PCI_CMD_MEM),
	       "BAR0 at 0x%x and BAR2 at 0x%lx placed, memory decode on", bar0, bar2);
	report(mmio_read32(bar0) == 0 && mmio_read32(bar0 + 4) == 0 && mmio_read32(bar0 + 8) == 0 &&
	       mmio_read32(bar0 + 12) == 0, "registers (mask, status, position, doorbell) read 0");
	mmio_write32(bar0, 0xffffffff);
	mmio_write32(bar0 + 4, 0x5);
	mmio_write32(bar0 + 12, 0x10001);
	report(mmio_read32(bar0) == 0xffffffff && mmio_read32(bar0 + 4) == 0x5 &&
	       mmio_read32(bar0 + 4) == 0 && mmio_read32(bar0 + 12) == 0,
	       "interrupt mask and status keep writes, a status read clears it, doorbell reads 0");
	mmio_write32(bar0, 0);
}

// Size BAR2 as firmware does; decode must be off. Returns the size.
static u64 size_bar2(void)
{
	u32 lo, hi;

	cfg_wr(BAR2, 0xffffffff);
	cfg_wr(BAR3, 0xffffffff);
	lo = cfg_rd(BAR2) & ~0xfu;
	hi = cfg_rd(BAR3);
	return ~((u64)hi << 32 | lo) + 1;
}

// Program BAR2 to addr (below 4 GiB) with decode off, then turn decode on.
static void place_bar2(u32 addr)
{
	cfg_wr(PCI_COMMAND, cfg_rd(PCI_COMMAND) & ~PCI_CMD_MEM);
	cfg_wr(BAR2, addr);
	cfg_wr(BAR3, 0);
	cfg_wr(PCI_COMMAND, cfg_rd(PCI_COMMAND) | PCI_CMD_MEM);
}

// Move BAR2 twice and check the memory goes along.
static void check_moves(void)
{
	u32 pat = (u32)rdtsc() | 1, want = cmdline_get_u64("size", 0);
	u64 size;

	cfg_wr(PCI_COMMAND, cfg_rd(PCI_COMMAND) & ~PCI_CMD_MEM);
	size = size_bar2();
	report(size == want, "BAR2 sizes to %lu bytes (size=%u on the command line)", size, want);
	if (size != want || size > 256 * MiB)
		return;
	place_bar2(PLACE_A);
	mmio_write32(PLACE_A, pat);
	mmio_write32(PLACE_A + size - 4, ~pat);
	report(mmio_read32(PLACE_A) == pat && mmio_read32(PLACE_A + size - 4) == ~pat,
	       "BAR2 at 0x%x: the pattern 0x%08x written at both ends reads back", PLACE_A, pat);
	place_bar2(PLACE_B);
	report(mmio_read32(PLACE_B) == pat && mmio_read32(PLACE_B + size - 4) == ~pat,
	       "BAR2 moved to 0x%x: the same memory, pattern still there", PLACE_B);
	report(mmio_read32(PLACE_A) != pat, "the old place 0x%x no longer holds it (0x%08x)", PLACE_A,
	       mmio_read32(PLACE_A));
	cfg_wr(PCI_COMMAND, cfg_rd(PCI_COMMAND) & ~PCI_CMD_MEM);
	report(mmio_read32(PLACE_B) != pat, "memory decode off: BAR2 is gone (0x%08x)",
	       mmio_read32(PLACE_B));
	cfg_wr(PCI_COMMAND, cfg_rd(PCI_COMMAND) | PCI_CMD_MEM);
	report(mmio_read32(PLACE_B) == pat, "memory decode on again: the pattern is back");
}

// Run all checks.
int main(void)
{
	if (find_device()) {
		check_identity_and_regs();
		check_moves();
	}
	return report_summary();
}
