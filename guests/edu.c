/*
 * QEMU's edu device passed through with --device vfio,host=...: the guest
 * finds 1234:11e8 on bus 0, reads the identification register through BAR0
 * (a directly mapped BAR under ptvm: no exit), checks the liveness and
 * factorial registers, makes the DMA engine copy a buffer from guest RAM into
 * the device and back (through the host IOMMU, IOVA = guest-physical), and
 * takes the device's interrupt as MSI and as INTx (the IOAPIC input ptvm
 * writes into the interrupt line register).
 *
 * edu registers (QEMU docs/specs/edu.rst): 0x00 ID 0x010000ed, 0x04 liveness
 * (reads back ~value), 0x08 factorial, 0x20 status (bit 0 busy, bit 7 raise
 * IRQ when done), 0x24 IRQ status, 0x60 raise IRQ, 0x64 ack IRQ, 0x80 DMA
 * source, 0x88 DMA destination, 0x90 DMA count, 0x98 DMA command (bit 0
 * start, bit 1 device->RAM, bit 2 IRQ when done). The DMA window inside the
 * device is 4 KiB at 0x40000; the device only reaches the first 256 MiB.
 *
 * edu_bench=N (bench/vfio/run; default 0): after the checks, N reads of the
 * ID register and N MSIs, waited for by spinning (no port I/O, no timer), so
 * that the VMM's exit counters, compared with a run with N = 0, show what
 * they cost (goal: no exits at all).
 */
#include "lib/libguest.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_ID 0x00
#define EDU_LIVE 0x04
#define EDU_FACT 0x08
#define EDU_STATUS 0x20
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_BUF 0x40000
#define DMA_LEN 1024

#define VEC_MSI 50
#define VEC_INTX 51
#define FALLBACK_BAR0 0xc0000000u /* only if nothing assigned BAR0 (never under ptvm) */

static u8 src_buf[DMA_LEN] __attribute__((aligned(4096)));
static u8 dst_buf[DMA_LEN] __attribute__((aligned(4096)));
static volatile int msi_hits, intx_hits;
static volatile u32 last_irq_status;
static u64 bar0;

// 64-bit register write as two 32-bit halves (edu accepts both widths).
static void edu_write64(u32 reg, u64 v)
{
	mmio_write32(bar0 + reg, (u32)v);
	mmio_write32(bar0 + reg + 4, (u32)(v >> 32));
}

// Spin until bit in reg clears, or about 1 s passes.
static bool edu_wait_clear(u32 reg, u32 bit)
{
	for (int i = 0; i < 100000; i++) {
		if (!(mmio_read32(bar0 + reg) & bit))
			return true;
		udelay(10);
	}
	return false;
}

// The interrupt handler: acknowledge the device so the line drops.
static void edu_irq(int vector)
{
	last_irq_status = mmio_read32(bar0 + EDU_IRQ_STATUS);
	mmio_write32(bar0 + EDU_IRQ_ACK, last_irq_status);
	if (vector == VEC_MSI)
		msi_hits++;
	else
		intx_hits++;
}

// Find the first edu function on bus 0; returns its slot or -1.
static int find_edu(void)
{
	for (int dev = 0; dev < 32; dev++)
		if (pci_cf8_read32(0, dev, 0, 0) == (EDU_DEVICE << 16 | EDU_VENDOR))
			return dev;
	return -1;
}

// The capability of type id in the standard list, or 0.
static int find_cap(int dev, u8 id)
{
	int pos = pci_cf8_read32(0, dev, 0, 0x34) & 0xfc;

	for (int n = 0; pos && n < 48; n++) {
		u32 hdr = pci_cf8_read32(0, dev, 0, pos);

		if ((hdr & 0xff) == id)
			return pos;
		pos = (hdr >> 8) & 0xfc;
	}
	return 0;
}

// Registers reached through BAR0.
static void check_registers(void)
{
	u32 id = mmio_read32(bar0 + EDU_ID);

	report(id == 0x010000ed, "edu ID register through BAR0 reads 0x010000ed (got 0x%08x)", id);
	mmio_write32(bar0 + EDU_LIVE, 0x12345678);
	report(mmio_read32(bar0 + EDU_LIVE) == ~0x12345678u, "liveness register inverts 0x12345678 "
	       "(got 0x%08x)", mmio_read32(bar0 + EDU_LIVE));
	u32 fact;
	bool done;

	mmio_write32(bar0 + EDU_FACT, 10);
	done = edu_wait_clear(EDU_STATUS, 1);
	fact = mmio_read32(bar0 + EDU_FACT);
	report(done && fact == 3628800, "factorial of 10 computed by the device (got %u)", fact);
}

// RAM -> device -> RAM through the DMA engine and the host IOMMU.
static void check_dma(void)
{
	u64 src = (u64)(uintptr_t)src_buf, dst = (u64)(uintptr_t)dst_buf;
	int bad = 0;

	report(src + DMA_LEN <= 256 * MiB && dst + DMA_LEN <= 256 * MiB,
	       "DMA buffers below 256 MiB (0x%llx, 0x%llx)", (unsigned long long)src,
	       (unsigned long long)dst);
	for (int i = 0; i < DMA_LEN; i++) {
		src_buf[i] = (u8)(i * 7 + 3);
		dst_buf[i] = 0;
	}
	edu_write64(EDU_DMA_SRC, src);
	edu_write64(EDU_DMA_DST, EDU_DMA_BUF);
	edu_write64(EDU_DMA_CNT, DMA_LEN);
	edu_write64(EDU_DMA_CMD, 1);
	report(edu_wait_clear(EDU_DMA_CMD, 1), "DMA guest RAM -> device finished");
	edu_write64(EDU_DMA_SRC, EDU_DMA_BUF);
	edu_write64(EDU_DMA_DST, dst);
	edu_write64(EDU_DMA_CNT, DMA_LEN);
	edu_write64(EDU_DMA_CMD, 1 | 2);
	report(edu_wait_clear(EDU_DMA_CMD, 1), "DMA device -> guest RAM finished");
	__asm__ volatile("" ::: "memory");
	for (int i = 0; i < DMA_LEN; i++)
		if (dst_buf[i] != (u8)(i * 7 + 3))
			bad++;
	report(bad == 0, "DMA round trip of %d bytes intact (%d bytes differ)", DMA_LEN, bad);
}

// MSI: program the capability for this CPU and vector, raise, count.
static void check_msi(int dev)
{
	int cap = find_cap(dev, 0x05);
	u32 ctrl;

	if (!cap) {
		report(false, "edu has an MSI capability");
		return;
	}
	ctrl = pci_cf8_read32(0, dev, 0, cap) >> 16;
	pci_cf8_write32(0, dev, 0, cap + 4, 0xfee00000 | (lapic_id() << 12));
	if (ctrl & 0x80) {
		pci_cf8_write32(0, dev, 0, cap + 8, 0);
		pci_cf8_write32(0, dev, 0, cap + 12, VEC_MSI);
	} else {
		pci_cf8_write32(0, dev, 0, cap + 8, VEC_MSI);
	}
	pci_cf8_write32(0, dev, 0, cap, (pci_cf8_read32(0, dev, 0, cap) & 0xffff) |
			(u32)(ctrl | 1) << 16);
	trap_set_handler(VEC_MSI, edu_irq);
	irq_enable();
	mmio_write32(bar0 + EDU_IRQ_RAISE, 0x5a);
	for (int i = 0; i < 100000 && !msi_hits; i++)
		udelay(10);
	irq_disable();
	report(msi_hits == 1 && last_irq_status == 0x5a, "MSI delivered once (%d), status 0x%x",
	       msi_hits, last_irq_status);
	/* factorial with completion interrupt */
	mmio_write32(bar0 + EDU_STATUS, 0x80);
	mmio_write32(bar0 + EDU_FACT, 5);
	irq_enable();
	for (int i = 0; i < 100000 && msi_hits < 2; i++)
		udelay(10);
	irq_disable();
	report(msi_hits == 2 && mmio_read32(bar0 + EDU_FACT) == 120,
	       "factorial completion MSI (%d hits, result %u)", msi_hits,
	       mmio_read32(bar0 + EDU_FACT));
	mmio_write32(bar0 + EDU_STATUS, 0);
	/* MSI off again, so INTx is used next */
	pci_cf8_write32(0, dev, 0, cap, (pci_cf8_read32(0, dev, 0, cap) & 0xffff) |
			(u32)(ctrl & ~1u) << 16);
}

// The benchmark loops: BAR reads, then MSIs one at a time, nothing else.
static void bench(int dev, u64 n)
{
	int cap = find_cap(dev, 0x05), got = 0;
	u32 ctrl = pci_cf8_read32(0, dev, 0, cap) >> 16;
	u64 sum = 0;

	/* fixed widths: the console output (port I/O exits) is the same for any n */
	printf("BENCH start n=%8llu\n", (unsigned long long)n);
	for (u64 i = 0; i < n; i++)
		sum += mmio_read32(bar0 + EDU_ID);
	pci_cf8_write32(0, dev, 0, cap, (pci_cf8_read32(0, dev, 0, cap) & 0xffff) |
			(u32)(ctrl | 1) << 16);
	msi_hits = 0;
	irq_enable();
	for (u64 i = 0; i < n; i++) {
		mmio_write32(bar0 + EDU_IRQ_RAISE, 1);
		for (u32 spin = 0; msi_hits <= (int)i && spin < 100000000; spin++)
			cpu_relax();
	}
	irq_disable();
	got = msi_hits;
	pci_cf8_write32(0, dev, 0, cap, (pci_cf8_read32(0, dev, 0, cap) & 0xffff) |
			(u32)(ctrl & ~1u) << 16);
	report(sum == n * 0x010000ed && got == (int)n, "bench: %8llu BAR reads and %8d of %8llu MSIs",
	       (unsigned long long)n, got, (unsigned long long)n);
}

// INTx, level-triggered, through the IOAPIC input the interrupt line names.
static void check_intx(int dev)
{
	u32 r3c = pci_cf8_read32(0, dev, 0, 0x3c);
	int pin = (r3c >> 8) & 0xff;
	int gsi;

	if (!pin) {
		report_skip("edu reports no INTx pin");
		return;
	}
	/* ptvm writes the IOAPIC input (16..23, as its _PRT says) into the
	 * interrupt line; elsewhere (QEMU + SeaBIOS: a PIC IRQ) give edu_gsi=N */
	gsi = (r3c & 0xff) >= 16 ? (int)(r3c & 0xff) : (int)cmdline_get_u64("edu_gsi", 0);
	printf("edu INTx: pin %d, interrupt line %d, GSI %d\n", pin, r3c & 0xff, gsi);
	if (gsi < 16 || gsi > 23) {
		report_skip("INTx: the interrupt line is not an IOAPIC input; no edu_gsi= given");
		return;
	}
	trap_set_handler(VEC_INTX, edu_irq);
	pic_mask_all();
	ioapic_route(gsi, VEC_INTX, true, false, lapic_id());
	irq_enable();
	mmio_write32(bar0 + EDU_IRQ_RAISE, 0x33);
	for (int i = 0; i < 100000 && !intx_hits; i++)
		udelay(10);
	udelay(20000); /* a level interrupt that was not acked would come back now */
	irq_disable();
	report(intx_hits == 1 && last_irq_status == 0x33, "INTx delivered once (%d), status 0x%x",
	       intx_hits, last_irq_status);
	/* a second one after the first was acked (the resample path unmasked it) */
	irq_enable();
	mmio_write32(bar0 + EDU_IRQ_RAISE, 0x44);
	for (int i = 0; i < 100000 && intx_hits < 2; i++)
		udelay(10);
	irq_disable();
	report(intx_hits == 2 && last_irq_status == 0x44, "second INTx after EOI (%d), status 0x%x",
	       intx_hits, last_irq_status);
	ioapic_mask(gsi, true);
}

int main(void)
{
	int dev = find_edu();
	u32 cmd;

	report(dev >= 0, "edu 1234:11e8 found on bus 0 (slot %d)", dev);
	if (dev < 0)
		return report_summary();
	bar0 = pci_cf8_read32(0, dev, 0, 0x10) & ~0xfu;
	if (!bar0) {
		pci_cf8_write32(0, dev, 0, 0x10, FALLBACK_BAR0);
		bar0 = FALLBACK_BAR0;
	}
	printf("edu at 00:%02x.0, BAR0 0x%llx\n", dev, (unsigned long long)bar0);
	cmd = pci_cf8_read32(0, dev, 0, 4);
	pci_cf8_write32(0, dev, 0, 4, (cmd & 0xffff) | 0x2 | 0x4); /* memory + bus master */
	lapic_enable();
	check_registers();
	check_dma();
	check_msi(dev);
	check_intx(dev);
	bench(dev, cmdline_get_u64("edu_bench", 0)); /* n = 0: the same output, no loops */
	return report_summary();
}
