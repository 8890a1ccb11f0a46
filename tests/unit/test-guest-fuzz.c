/*
 * Guest fuzz: every device machine.c (and firmware.c) puts on the bus, built
 * on a VM without KVM, takes a storm of random port and MMIO accesses from a
 * fixed-seed PRNG: addresses around every region (8 bytes before to 8 past
 * its end), lengths 1/2/4/8 and odd ones, random data, PCI config through
 * 0xCF8/0xCFC and ECAM, fw_cfg selection and hostile DMA descriptors, flash
 * command sequences. Afterwards every device must still answer, guest RAM
 * that no valid DMA names (the canary half) and the host bytes around guest
 * RAM must be untouched, and the read-only flash must be unchanged.
 *
 *   PTVM_FUZZ_SEED=N   another seed (printed either way, to replay a failure)
 *   PTVM_FUZZ_ITERS=N  another number of operations
 *
 * Guest RAM: [0, PLAY_END) is where fw_cfg DMA may write; [PLAY_END,
 * RAM_SIZE) is a canary no descriptor we let through points at (a DMA
 * request that would legitimately write there is skipped, not sent).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "devices/debug-exit.h"
#include "devices/debugcon.h"
#include "devices/i8042.h"
#include "devices/ivshmem.h"
#include "devices/pci/host-bridge.h"
#include "devices/pci/lpc.h"
#include "devices/pci/pci.h"
#include "devices/pflash.h"
#include "devices/pm.h"
#include "devices/port-sinks.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "firmware/firmware.h"
#include "firmware/fw-cfg.h"
#include "firmware/fw-kernel.h"
#include "tests/unit/fake-vm.h"
#include "tests/unit/harness.h"
#include "vmm/layout.h"
#include "vmm/log.h"

#define RAM_SIZE (2 * MiB)
#define PLAY_END (1 * MiB)       /* DMA playground: [0, PLAY_END) */
#define CANARY 0x3c              /* every byte of [PLAY_END, RAM_SIZE) */
#define GUARD_SIZE 4096          /* host bytes before and after guest RAM */
#define GUARD 0xa5
#define DEBUG_EXIT_PORT 0xf4
#define CODE_SIZE (16 * PFLASH_SECTOR_SIZE)
#define VARS_SIZE (4 * PFLASH_SECTOR_SIZE)
#define CODE_GPA (4 * GiB - CODE_SIZE)
#define VARS_GPA (CODE_GPA - VARS_SIZE)
#define DATA_MAX 16              /* bus_access buffer; bytes past len must stay */
#define DATA_FILL 0x77
#define DEFAULT_SEED 0x70746d76667a7aULL
#define DEFAULT_ITERS 1000000
#define MAX_REGIONS 64
#define FW_DMA_PORT (FW_CFG_PORT_SEL + 4)
#define SHM_SLOT 3
#define SHM_SIZE (1 * MiB)

struct fuzz {
	struct vm vm;
	u8 *ram_block;           /* guard, RAM, guard */
	u8 *ram;
	int null_fd;
	struct serial *serial;
	struct rtc *rtc;
	struct i8042 *i8042;
	struct pm *pm;
	struct port_sinks *sinks;
	struct debug_exit *debug_exit;
	struct debugcon *debugcon;
	struct pci_bus *pci;
	struct fw_cfg cfg;
	struct pci_lpc lpc;
	struct pflash code, vars;
	u8 *code_map, *vars_map; /* guard page, flash, guard page (PROT_NONE guards) */
	u8 *code_copy;           /* what the read-only flash must keep */
	int vars_fd;
	char vars_path[64];
	struct ivshmem *shm;     /* --device ivshmem (machine.c, after passthrough) */
	char shm_path[64];
	/* the storm */
	u64 rng;
	struct bus_region *regions[MAX_REGIONS];
	int nr_regions;
	u64 ops, dma_sent, dma_skipped, failures;
	char first_failure[256];
};

static struct fuzz z;

/* UBSan only prints by default (and meson does not change that): a report
 * from the storm must fail the test. The runtime calls this hook if present. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

// splitmix64: small, fast, and the same sequence everywhere for a seed.
static u64 rnd(void)
{
	u64 x = (z.rng += 0x9e3779b97f4a7c15ULL);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

// Uniform in [0, n) (n > 0; the bias of % is irrelevant here).
static u64 below(u64 n)
{
	return rnd() % n;
}

// Record a failure inside the storm (the first one is kept for the report).
static void storm_fail(const char *what, enum bus_space s, u64 addr, u32 len, bool write)
{
	if (!z.failures++)
		snprintf(z.first_failure, sizeof(z.first_failure), "op %llu: %s (%s %s 0x%llx len %u)",
			 (unsigned long long)z.ops, what, s == BUS_PIO ? "pio" : "mmio",
			 write ? "write" : "read", (unsigned long long)addr, len);
}

// The n-byte big-endian number at p.
static u64 get_be(const u8 *p, int n)
{
	u64 v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

// Store v as an n-byte big-endian number at p.
static void put_be(u8 *p, u64 v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (u8)(v >> (8 * (n - 1 - i)));
}

// True if [a, a + len) lies in guest RAM (no wrap).
static bool in_ram(u64 a, u64 len)
{
	return a < RAM_SIZE && len <= RAM_SIZE - a;
}

// True if [a, a + len) (len > 0, inside RAM) overlaps the canary.
static bool hits_canary(u64 a, u64 len)
{
	return len && a + len > PLAY_END;
}

// True if some byte of [p, p + n) is not c.
static bool memchr_inv(const u8 *p, u8 c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != c)
			return true;
	return false;
}

/*
 * A DMA request at gpa is about to start. Returns false if a correct device
 * would write into the canary (status word or READ target): the caller
 * skips it. Otherwise fills *expect with the status a correct device leaves
 * (-1: depends on the item, not checked; -2: the descriptor is not in RAM).
 */
static bool dma_allowed(u64 gpa, int *expect)
{
	const u8 *d;
	u32 control, len;
	u64 addr;

	if (!in_ram(gpa, 16)) {
		*expect = -2; /* nothing may be read or written */
		return true;
	}
	d = z.ram + gpa;
	control = (u32)get_be(d, 4);
	len = (u32)get_be(d + 4, 4);
	addr = get_be(d + 8, 8);
	if (hits_canary(gpa, 4))
		return false;
	if (control & FW_CFG_DMA_READ) {
		if (len && in_ram(addr, len) && hits_canary(addr, len))
			return false;
		*expect = len && !in_ram(addr, len) ? FW_CFG_DMA_ERROR : 0;
	} else if (control & FW_CFG_DMA_WRITE) {
		*expect = len && !in_ram(addr, len) ? FW_CFG_DMA_ERROR : -1;
	} else {
		*expect = 0; /* select and/or skip: nothing can fail */
	}
	return true;
}

/*
 * One guest access, as the vCPU loop makes it, with checks: bytes past len
 * in the data buffer stay as they were, and a fw_cfg DMA kick is filtered
 * (see dma_allowed) and its status word checked.
 */
static void io(enum bus_space s, u64 addr, u32 len, bool write, u64 val, u64 *out)
{
	u8 data[DATA_MAX];
	struct bus_access a = { .addr = addr, .data = data, .len = len, .is_write = write, .vcpu = 0 };
	bool dma = s == BUS_PIO && write && addr == FW_DMA_PORT + 4 && len == 4;
	u64 gpa = 0;
	int expect = -1;

	memset(data, DATA_FILL, sizeof(data));
	for (u32 i = 0; i < len && i < 8; i++)
		data[i] = (u8)(val >> (8 * i));
	if (dma) {
		gpa = (u64)z.cfg.dma_hi << 32 | get_be(data, 4);
		if (!dma_allowed(gpa, &expect)) {
			z.dma_skipped++;
			z.cfg.dma_hi = 0; /* as if it had run */
			return;
		}
		z.dma_sent++;
	}
	z.ops++;
	vm_lock(&z.vm);
	bus_dispatch(&z.vm.bus, s, &a);
	vm_unlock(&z.vm);
	for (u32 i = len; i < DATA_MAX; i++)
		if (data[i] != DATA_FILL) {
			storm_fail("device wrote past the access length", s, addr, len, write);
			break;
		}
	if (dma && expect >= 0 && get_be(z.ram + gpa, 4) != (u64)expect)
		storm_fail("fw_cfg DMA status is not what the request deserves", s, gpa, len, write);
	if (out) {
		*out = 0;
		memcpy(out, data, MIN(len, 8u));
	}
}

// A checked read; returns what the device gave.
static u64 rd(enum bus_space s, u64 addr, u32 len)
{
	u64 v;

	io(s, addr, len, false, 0, &v);
	return v;
}

// A checked write of val (little-endian).
static void wr(enum bus_space s, u64 addr, u32 len, u64 val)
{
	io(s, addr, len, true, val, NULL);
}

// A length a vCPU can produce (and sometimes one it cannot: 3).
static u32 rand_len(enum bus_space s)
{
	static const u32 pio[] = { 1, 2, 4, 1, 2, 4, 3 };
	static const u32 mmio[] = { 1, 2, 4, 8, 1, 2, 4, 8, 3 };

	return s == BUS_PIO ? pio[below(ARRAY_SIZE(pio))] : mmio[below(ARRAY_SIZE(mmio))];
}

// A random access near a registered region: from base - 8 to base + size + 8.
static void op_region(void)
{
	struct bus_region *r = z.regions[below(z.nr_regions)];
	u64 span = r->size + 16, off;
	u32 len = rand_len(r->space);

	/* big regions (ECAM): half the time near the start or the end */
	if (span > 256 && below(2))
		off = below(2) ? below(64) : span - 1 - below(64);
	else
		off = below(span);
	io(r->space, r->base - 8 + off, len, below(2), rnd(), NULL);
}

// A random access anywhere (claimed or not).
static void op_anywhere(void)
{
	enum bus_space s = below(2) ? BUS_PIO : BUS_MMIO;
	u64 addr = s == BUS_PIO ? below(0x10000) : below(3) ? below(8 * GiB) : rnd();

	io(s, addr, rand_len(s), below(2), rnd(), NULL);
}

// A devfn that is usually a plugged-in function.
static u8 rand_devfn(void)
{
	static const u8 slots[] = { 0, PCI_LPC_SLOT, SHM_SLOT };
	u8 slot = below(3) ? slots[below(ARRAY_SIZE(slots))] : (u8)below(32);

	return (u8)(slot << 3 | below(8));
}

// A config register offset, biased to the header and the last bytes.
static u16 rand_reg(void)
{
	switch (below(4)) {
	case 0: return (u16)below(0x40);
	case 1: return (u16)below(0x100);
	case 2: return (u16)(0xff0 + below(16));
	default: return (u16)below(4096);
	}
}

// Mechanism #1: a CONFIG_ADDRESS write, then a few data port accesses.
static void op_cf8(void)
{
	u16 reg = rand_reg();
	u32 ca = (below(10) ? 0x80000000u : 0) | (u32)(reg >> 8) << 24 |
		 (u32)(below(4) ? 0 : below(256)) << 16 | (u32)rand_devfn() << 8 | (reg & 0xfc);

	if (!below(8))
		ca = (u32)rnd();
	if (!below(10))
		wr(BUS_PIO, 0xcf8 + below(4), rand_len(BUS_PIO), ca); /* not a CONFIG_ADDRESS write */
	else
		wr(BUS_PIO, 0xcf8, 4, ca);
	for (int n = 1 + (int)below(3); n > 0; n--)
		io(BUS_PIO, 0xcfc + below(6), rand_len(BUS_PIO), below(2), rnd(), NULL);
}

// ECAM: any bus, devfn, register; sometimes misaligned or over the end.
static void op_ecam(void)
{
	u64 off = (below(4) ? 0 : below(256)) << 20 | (u64)rand_devfn() << 12 | rand_reg();
	u32 len = rand_len(BUS_MMIO);

	if (!below(3))
		off &= ~(u64)(len - 1) | (len == 3 ? ~0ULL : 0); /* aligned, mostly */
	if (!below(50))
		off = LAYOUT_ECAM_SIZE - 1 - below(16); /* the last bytes */
	io(BUS_MMIO, LAYOUT_ECAM_BASE + off, len, below(2), rnd(), NULL);
}

// A fw_cfg key: an existing one, with stray high bits, or anything.
static u16 rand_key(void)
{
	u16 k = below(4) ? z.cfg.items[below(z.cfg.nr)].key : (u16)rnd();

	if (!below(8))
		k |= below(2) ? FW_CFG_WRITE_CHANNEL : FW_CFG_ARCH_LOCAL;
	return k;
}

// A DMA target: valid in the playground, straddling RAM's end, or far out.
static void rand_target(u64 *addr, u32 *len)
{
	static const u64 far[] = {
		RAM_SIZE, 4 * GiB, LAYOUT_ECAM_BASE, CODE_GPA, VARS_GPA, ~0ULL, ~0ULL - 7,
		0xffffffff00000000ULL, 1ULL << 63,
	};

	switch (below(6)) {
	case 0: case 1: case 2:
		*len = (u32)(below(8) ? below(256) : below(0x10000));
		/* sometimes flush against the canary, so one byte too many shows */
		*addr = below(4) ? below(PLAY_END - *len + 1) : PLAY_END - *len;
		return;
	case 3: /* lengths that run past RAM or wrap */
		*addr = below(RAM_SIZE);
		*len = below(2) ? (u32)(RAM_SIZE - *addr + 1 + below(64)) : 0xffffffffu - (u32)below(4);
		return;
	case 4:
		*addr = far[below(ARRAY_SIZE(far))] - below(4);
		*len = (u32)(below(2) ? 1 + below(4096) : rnd());
		return;
	default:
		*addr = rnd();
		*len = (u32)rnd();
	}
}

// A DMA descriptor location: in the playground, or hostile (outside RAM, straddling its end).
static u64 rand_desc_gpa(void)
{
	static const u64 far[] = { RAM_SIZE - 8, RAM_SIZE - 15, RAM_SIZE, 4 * GiB - 8, ~0ULL - 7,
				   LAYOUT_ECAM_BASE, CODE_GPA };

	if (below(5))
		return below(8) ? below(PLAY_END - 16) : PLAY_END - 16;
	return below(2) ? far[below(ARRAY_SIZE(far))] : rnd();
}

// fw_cfg: select, read the data port, or run a (often hostile) DMA request.
static void op_fw_cfg(void)
{
	u64 gpa, addr;
	u32 len, control;
	int n;

	switch (below(4)) {
	case 0:
		io(BUS_PIO, FW_CFG_PORT_SEL, below(5) ? 2 : rand_len(BUS_PIO), true, rand_key(), NULL);
		return;
	case 1:
		for (n = 1 + (int)below(16); n > 0; n--)
			rd(BUS_PIO, FW_CFG_PORT_DATA - below(2), rand_len(BUS_PIO));
		return;
	default:
		break;
	}
	gpa = rand_desc_gpa();
	rand_target(&addr, &len);
	switch (below(5)) {
	case 0: control = (u32)rnd(); break;
	case 1: control = 0xffffffffu; break;
	default:
		control = (u32)(below(2) ? FW_CFG_DMA_SELECT | (u32)rand_key() << 16 : 0) |
			  (u32)(below(8) ? (u32)((const u8[]){ FW_CFG_DMA_READ, FW_CFG_DMA_SKIP,
							FW_CFG_DMA_WRITE })[below(3)] : rnd() & 0xff);
	}
	if (!below(10)) { /* a WRITE the writable file can take, or just not */
		control = FW_CFG_DMA_SELECT | FW_CFG_DMA_WRITE |
			  (u32)fw_cfg_find_file(&z.cfg, "etc/fuzz-writable")->key << 16;
		len = (u32)below(72);
		addr = below(PLAY_END - len);
		for (u32 i = 0; i < len; i++)
			z.ram[addr + i] = (u8)(rnd() | 1);
	}
	if (in_ram(gpa, 16)) {
		put_be(z.ram + gpa, control, 4);
		put_be(z.ram + gpa + 4, len, 4);
		put_be(z.ram + gpa + 8, addr, 8);
	}
	if (below(8))
		wr(BUS_PIO, FW_DMA_PORT, 4, __builtin_bswap32((u32)(gpa >> 32)));
	wr(BUS_PIO, FW_DMA_PORT + 4, 4, __builtin_bswap32((u32)gpa));
}

// Flash: a command, maybe its second cycle, some reads, maybe back to array mode.
static void op_pflash(void)
{
	static const u8 cmds[] = { 0xff, 0x00, 0x10, 0x40, 0x20, 0xd0, 0x50, 0x70, 0x90, 0x98 };
	struct pflash *p = below(4) ? &z.vars : &z.code;
	u64 off = below(4) ? below(p->size) : p->size - 1 - below(16);
	u8 cmd = below(8) ? cmds[below(ARRAY_SIZE(cmds))] : (u8)rnd();

	wr(BUS_MMIO, p->gpa + off, below(4) ? 1 : rand_len(BUS_MMIO), cmd);
	if (below(2)) {
		off = below(4) ? below(p->size) : p->size - below(16);
		wr(BUS_MMIO, p->gpa + off, rand_len(BUS_MMIO), below(2) ? 0xd0 : rnd());
	}
	for (int n = (int)below(4); n > 0; n--)
		rd(BUS_MMIO, p->gpa + below(p->size + 8), rand_len(BUS_MMIO));
	if (below(2))
		wr(BUS_MMIO, p->gpa, 1, 0xff);
}

// CMOS: an index (time, control, century, NVRAM) and a value, often a plausible one.
static void op_rtc(void)
{
	static const u8 regs[] = { RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_MONTH, RTC_MONTH,
				   RTC_YEAR, RTC_CENTURY, RTC_REG_A, RTC_REG_B, RTC_REG_C, RTC_SECONDS_ALARM };
	static const u8 vals[] = { 0x00, 0x19, 0x20, 0x59, 0x99, 0xff, 0x80, 0x26, 0x2f, 0x72, 0x86 };
	u8 reg = below(4) ? regs[below(ARRAY_SIZE(regs))] : (u8)rnd();

	wr(BUS_PIO, PORT_CMOS, 1, reg);
	if (below(2))
		wr(BUS_PIO, PORT_CMOS + 1, 1, below(2) ? vals[below(ARRAY_SIZE(vals))] : rnd());
	else
		rd(BUS_PIO, PORT_CMOS + 1, rand_len(BUS_PIO));
}

// Legacy controllers: 8042 commands with data, PM1 control and GPE writes, UART setup.
static void op_legacy(void)
{
	static const u8 kbd[] = { 0xaa, 0xab, 0xa9, 0x20, 0x60, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xfe, 0xad, 0xae };

	switch (below(3)) {
	case 0:
		wr(BUS_PIO, PORT_I8042_CMD, 1, below(4) ? kbd[below(ARRAY_SIZE(kbd))] : rnd());
		if (below(2))
			wr(BUS_PIO, PORT_I8042_DATA, 1, rnd());
		rd(BUS_PIO, PORT_I8042_DATA, 1);
		return;
	case 1:
		wr(BUS_PIO, PORT_PM1A_CNT, 2, below(8) << PM1_CNT_SLP_TYP_SHIFT | (below(2) ? PM1_CNT_SLP_EN : 0));
		wr(BUS_PIO, PORT_PM_BASE + below(PM_BLOCK_SIZE), rand_len(BUS_PIO), rnd());
		return;
	default:
		wr(BUS_PIO, PORT_COM1 + SERIAL_LCR, 1, below(2) ? 0x83 : 0x03);
		wr(BUS_PIO, PORT_COM1 + below(SERIAL_NR_REGS), 1, rnd());
		wr(BUS_PIO, PORT_COM1 + SERIAL_MCR, 1, below(2) ? SERIAL_MCR_LOOP | 0x0f : 0x0b);
		for (int n = (int)below(20); n > 0; n--)
			io(BUS_PIO, PORT_COM1 + below(SERIAL_NR_REGS), 1, below(2), rnd(), NULL);
	}
}

// ivshmem: its BARs and decode bit programmed anywhere (over RAM, ECAM, the flash, each other).
static void op_ivshmem(void)
{
	static const u64 where[] = { 0, PLAY_END, RAM_SIZE - 4096, LAYOUT_ECAM_BASE, VARS_GPA, CODE_GPA,
				     0xfffff000, 0xffffffff, LAYOUT_MMIO32_BASE, 4 * GiB };
	static const u16 regs[] = { PCI_COMMAND, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_2,
				    PCI_BASE_ADDRESS_2 + 4 };
	u16 reg = regs[below(ARRAY_SIZE(regs))];
	u32 v = below(2) ? (u32)where[below(ARRAY_SIZE(where))] : (u32)rnd();

	if (reg == PCI_COMMAND)
		v = below(2) ? PCI_COMMAND_MEMORY : (u32)rnd() & 0xffff;
	if (reg == PCI_BASE_ADDRESS_2 + 4)
		v = below(2) ? 0 : (u32)below(4);
	wr(BUS_PIO, 0xcf8, 4, 0x80000000u | SHM_SLOT << 11 | reg);
	wr(BUS_PIO, 0xcfc, 4, v);
	if (z.shm->regs_mapped)
		io(BUS_MMIO, z.shm->regs.base + below(IVSHMEM_REG_SIZE + 8) - below(8), rand_len(BUS_MMIO),
		   below(2), rnd(), NULL);
}

// One operation of the storm.
static void storm_op(void)
{
	u64 r = below(100);

	if (r < 35)
		op_region();
	else if (r < 40)
		op_anywhere();
	else if (r < 52)
		op_cf8();
	else if (r < 64)
		op_ecam();
	else if (r < 80)
		op_fw_cfg();
	else if (r < 88)
		op_pflash();
	else if (r < 92)
		op_rtc();
	else if (r < 96)
		op_ivshmem();
	else
		op_legacy();
}

// A file-backed or anonymous flash mapping between two PROT_NONE guard pages.
static u8 *guarded_map(u64 size, int fd, u8 **block)
{
	long page = sysconf(_SC_PAGESIZE);
	u8 *b = mmap(NULL, size + 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	u8 *p;

	if (b == MAP_FAILED)
		return NULL;
	p = fd >= 0 ? mmap(b + page, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) :
		      mmap(b + page, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	*block = b;
	return p == MAP_FAILED ? NULL : p;
}

// A minimal bzImage for fw_kernel_add: 4 setup sectors, 8 KiB of kernel.
static u8 *fake_kernel(size_t *len)
{
	size_t setup = 5 * 512, pm = 8192;
	u8 *b = calloc(1, setup + pm);

	if (!b)
		return NULL;
	b[0x1f1] = 4;
	b[0x1fe] = 0x55;
	b[0x1ff] = 0xaa;
	memcpy(b + 0x202, "HdrS", 4);
	b[0x206] = 0x0f;
	b[0x207] = 0x02;
	b[0x211] = 0x01;
	memcpy(b + 0x22c, "\xff\xff\xff\x7f", 4);
	memcpy(b + 0x230, "\x00\x00\x20\x00", 4);
	b[0x236] = 0x03;
	memcpy(b + 0x238, "\xff\x07\x00\x00", 4);
	for (size_t i = 0; i < pm; i++)
		b[setup + i] = (u8)(i * 7 + 3);
	*len = setup + pm;
	return b;
}

// fw_cfg as firmware.c fills it (items, e820, ACPI loader files, SMBIOS, a kernel), plus one writable file.
static int fill_fw_cfg(void)
{
	struct fw_cfg *f = &z.cfg;
	static const u8 uuid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	/* the items only name addresses: a 64 MiB machine's, so the initrd has room */
	struct fw_kernel k = { .cmdline = "console=ttyS0 fuzz", .low_ram_size = 64 * MiB };
	u8 initrd[3000], wait[4] = { 0xff, 0xff, 0xff, 0xff }, scratch[64] = { 0 };
	char err[256];
	int ret = fw_cfg_init(f, &z.vm.mem);

	if (ret)
		return ret;
	ret = fw_cfg_add_u64(f, FW_CFG_RAM_SIZE, RAM_SIZE);
	ret = ret ?: fw_cfg_add_u16(f, FW_CFG_NB_CPUS, 1);
	ret = ret ?: fw_cfg_add_u16(f, FW_CFG_MAX_CPUS, 1);
	ret = ret ?: fw_cfg_add_bytes(f, FW_CFG_UUID, uuid, sizeof(uuid));
	ret = ret ?: fw_cfg_add_u16(f, FW_CFG_NOGRAPHIC, 1);
	ret = ret ?: fw_cfg_add_u16(f, FW_CFG_BOOT_MENU, 0);
	ret = ret ?: fw_cfg_add_file(f, "etc/boot-fail-wait", wait, sizeof(wait));
	ret = ret ?: firmware_add_e820(f, &z.vm.layout);
	ret = ret ?: firmware_add_acpi(f, &z.vm.layout, 1);
	ret = ret ?: firmware_add_smbios(f, &z.vm.layout, 1, NULL);
	ret = ret ?: fw_cfg_add_file(f, "bootorder", "/rom@genroms/linuxboot_dma.bin\n", 31);
	/* nothing in firmware.c is writable yet; one file exercises DMA WRITE */
	ret = ret ?: fw_cfg_add_file(f, "etc/fuzz-writable", scratch, sizeof(scratch));
	ret = ret ?: fw_cfg_set_writable(f, "etc/fuzz-writable");
	if (ret)
		return ret;
	memset(initrd, 0x42, sizeof(initrd));
	k.kernel = fake_kernel(&k.kernel_len);
	k.initrd = initrd;
	k.initrd_len = sizeof(initrd);
	ret = k.kernel ? fw_kernel_add(f, &k, err, sizeof(err)) : -ENOMEM;
	free((void *)k.kernel);
	if (ret) {
		printf("# fw_kernel_add: %s\n", err);
		return ret;
	}
	return fw_cfg_register(f, &z.vm);
}

// The two flashes OVMF has: a read-only code flash and a writable vars file.
static int make_flashes(void)
{
	u8 *block, *code, *vars, fill[VARS_SIZE];
	int ret;

	z.code_copy = malloc(CODE_SIZE);
	code = guarded_map(CODE_SIZE, -1, &z.code_map);

	if (!code || !z.code_copy)
		return -ENOMEM;
	for (u32 i = 0; i < CODE_SIZE; i++)
		code[i] = (u8)(i * 13 + (i >> 8));
	memcpy(z.code_copy, code, CODE_SIZE);
	ret = pflash_init(&z.code, &z.vm, "fuzz-code", CODE_GPA, code, CODE_SIZE, -1, true);
	if (ret)
		return ret;
	snprintf(z.vars_path, sizeof(z.vars_path), "%s/ptvm-fuzz-vars-XXXXXX",
		 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
	z.vars_fd = mkstemp(z.vars_path);
	memset(fill, 0x5a, sizeof(fill));
	if (z.vars_fd < 0 || write(z.vars_fd, fill, sizeof(fill)) != VARS_SIZE)
		return -EIO;
	vars = guarded_map(VARS_SIZE, z.vars_fd, &block);

	z.vars_map = block;
	if (!vars)
		return -ENOMEM;
	return pflash_init(&z.vars, &z.vm, "fuzz-vars", VARS_GPA, vars, VARS_SIZE, z.vars_fd, false);
}

// Every device machine_create() and firmware_create() put on the bus.
static int setup(void)
{
	struct mem_region r = { .name = "ram", .gpa = 0, .size = RAM_SIZE, .kind = MEM_RAM };
	int ret;

	fake_vm_init(&z.vm);
	mem_init(&z.vm.mem);
	if (layout_compute(&z.vm.layout, RAM_SIZE, 40, 0))
		return -EINVAL;
	z.ram_block = malloc(RAM_SIZE + 2 * GUARD_SIZE);
	if (!z.ram_block)
		return -ENOMEM;
	memset(z.ram_block, GUARD, GUARD_SIZE);
	memset(z.ram_block + GUARD_SIZE + RAM_SIZE, GUARD, GUARD_SIZE);
	z.ram = z.ram_block + GUARD_SIZE;
	memset(z.ram, 0, PLAY_END);
	memset(z.ram + PLAY_END, CANARY, RAM_SIZE - PLAY_END);
	z.vm.ram = z.ram;
	r.hva = z.ram;
	ret = mem_add(&z.vm.mem, &r);
	if (ret)
		return ret;
	z.null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (z.null_fd < 0)
		return -errno;
	z.serial = serial_create(&z.vm, PORT_COM1, IRQ_COM1, z.null_fd, -1);
	z.rtc = rtc_create(&z.vm, &z.vm.layout, 1, false);
	z.i8042 = i8042_create(&z.vm);
	z.pm = pm_create(&z.vm);
	z.sinks = port_sinks_create(&z.vm);
	z.debug_exit = debug_exit_create(&z.vm, DEBUG_EXIT_PORT);
	z.debugcon = debugcon_create(&z.vm, PORT_DEBUGCON, z.null_fd);
	z.pci = pci_bus_create(&z.vm);
	if (!z.serial || !z.rtc || !z.i8042 || !z.pm || !z.sinks || !z.debug_exit || !z.debugcon || !z.pci)
		return -ENODEV;
	ret = fill_fw_cfg();
	if (ret)
		return ret;
	pci_lpc_init(&z.lpc);
	ret = pci_register(z.pci, &z.lpc.dev, PCI_LPC_SLOT, 0);
	ret = ret ?: make_flashes();
	if (ret)
		return ret;
	snprintf(z.shm_path, sizeof(z.shm_path), "%s/ptvm-fuzz-shm-%d",
		 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm", (int)getpid());
	return ivshmem_create(&z.vm, z.pci,
			      &(struct shm_dev_config){ .path = z.shm_path, .size = SHM_SIZE,
							.slot = SHM_SLOT, .fn = 0 }, &z.shm);
}

// Undo setup() (in machine_destroy's order).
static void teardown(void)
{
	pflash_destroy(&z.vars);
	pflash_destroy(&z.code);
	fw_cfg_destroy(&z.cfg);
	ivshmem_destroy(z.shm);
	if (z.shm_path[0])
		unlink(z.shm_path);
	if (z.pci) {
		pci_unregister(z.pci, &z.lpc.dev);
		pci_bus_destroy(z.pci);
	}
	debugcon_destroy(z.debugcon);
	if (z.debug_exit)
		debug_exit_destroy(z.debug_exit);
	if (z.sinks)
		port_sinks_destroy(z.sinks);
	if (z.pm)
		pm_destroy(z.pm);
	if (z.i8042)
		i8042_destroy(z.i8042);
	rtc_destroy(z.rtc);
	if (z.serial)
		serial_destroy(z.serial);
	if (z.vars_fd >= 0) {
		close(z.vars_fd);
		unlink(z.vars_path);
	}
	if (z.code_map)
		munmap(z.code_map, CODE_SIZE + 2 * sysconf(_SC_PAGESIZE));
	if (z.vars_map)
		munmap(z.vars_map, VARS_SIZE + 2 * sysconf(_SC_PAGESIZE));
	mem_del(&z.vm.mem, 0);
	fake_vm_destroy(&z.vm);
	free(z.code_copy);
	free(z.ram_block);
	if (z.null_fd >= 0)
		close(z.null_fd);
}

// A config dword through CF8/CFC.
static u32 cf8_read(u8 devfn, u16 reg)
{
	wr(BUS_PIO, 0xcf8, 4, 0x80000000u | (u32)devfn << 8 | reg);
	return (u32)rd(BUS_PIO, 0xcfc, 4);
}

// Read fw_cfg item key's first n bytes through the data port.
static void fw_cfg_port_read(u16 key, u8 *out, int n)
{
	wr(BUS_PIO, FW_CFG_PORT_SEL, 2, key);
	for (int i = 0; i < n; i++)
		out[i] = (u8)rd(BUS_PIO, FW_CFG_PORT_DATA, 1);
}

TEST(devices_created)
{
	int ret = setup();

	if (ret)
		printf("# setup failed: %s\n", strerror(-ret));
	ASSERT_EQ(ret, 0);
	/* the storm aims at every region on the bus */
	for (int s = 0; s < BUS_NR_SPACES; s++)
		for (size_t i = 0; i < z.vm.bus.maps[s].nr && z.nr_regions < MAX_REGIONS; i++)
			z.regions[z.nr_regions++] = z.vm.bus.maps[s].regions[i];
	printf("# %d regions:", z.nr_regions);
	for (int i = 0; i < z.nr_regions; i++)
		printf(" %s", z.regions[i]->name);
	printf("\n");
	ASSERT_TRUE(z.nr_regions >= 17);
	/* before the storm, the checks below pass (so they can tell) */
	ASSERT_EQ(cf8_read(0, 0), 0x29c08086);
}

TEST(storm)
{
	const char *seed_env = getenv("PTVM_FUZZ_SEED"), *iters_env = getenv("PTVM_FUZZ_ITERS");
	u64 seed = seed_env ? strtoull(seed_env, NULL, 0) : DEFAULT_SEED;
	u64 iters = iters_env ? strtoull(iters_env, NULL, 0) : DEFAULT_ITERS;
	struct timespec t0, t1;

	ASSERT_TRUE(z.nr_regions > 0);
	z.rng = seed;
	printf("# seed 0x%llx (PTVM_FUZZ_SEED), %llu operations (PTVM_FUZZ_ITERS)\n",
	       (unsigned long long)seed, (unsigned long long)iters);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (u64 i = 0; i < iters; i++)
		storm_op();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# %llu accesses in %.2f s; fw_cfg DMA kicks %llu sent, %llu skipped (would write the canary); vm_stop reason %d\n",
	       (unsigned long long)z.ops,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       (unsigned long long)z.dma_sent, (unsigned long long)z.dma_skipped, (int)z.vm.stop_reason);
	if (z.failures)
		printf("# %llu failures, first: %s\n", (unsigned long long)z.failures, z.first_failure);
	ASSERT_EQ(z.failures, 0);
	ASSERT_TRUE(z.dma_sent > 0);
	/* the storm got deep enough: flash programs or erases landed, a DMA WRITE too */
	ASSERT_TRUE(memchr_inv(z.vars.mem, 0x5a, VARS_SIZE));
	ASSERT_TRUE(memchr_inv(fw_cfg_find_file(&z.cfg, "etc/fuzz-writable")->data, 0, 64));
}

TEST(pci_still_works)
{
	ASSERT_EQ(cf8_read(0, 0), 0x29c08086);
	ASSERT_EQ(cf8_read(0, 8) >> 8, PCI_HOST_CLASS);
	ASSERT_EQ(rd(BUS_MMIO, LAYOUT_ECAM_BASE, 4), 0x29c08086);
	ASSERT_EQ(rd(BUS_MMIO, LAYOUT_ECAM_BASE, 2), 0x8086);
	ASSERT_EQ(cf8_read(PCI_LPC_SLOT << 3, 0), 0x29188086);
	ASSERT_EQ(rd(BUS_MMIO, LAYOUT_ECAM_BASE + (PCI_LPC_SLOT << 15), 4), 0x29188086);
	ASSERT_EQ(cf8_read(SHM_SLOT << 3, 0), 0x11101af4);
	/* an empty slot and another bus still read all ones */
	ASSERT_EQ(rd(BUS_MMIO, LAYOUT_ECAM_BASE + (5 << 15), 4), 0xffffffff);
	ASSERT_EQ(rd(BUS_MMIO, LAYOUT_ECAM_BASE + (1 << 20), 4), 0xffffffff);
}

TEST(serial_still_works)
{
	wr(BUS_PIO, PORT_COM1 + SERIAL_LCR, 1, 0x03);
	wr(BUS_PIO, PORT_COM1 + SERIAL_SCR, 1, 0x5a);
	ASSERT_EQ(rd(BUS_PIO, PORT_COM1 + SERIAL_SCR, 1), 0x5a);
	wr(BUS_PIO, PORT_COM1 + SERIAL_SCR, 1, 0xa5);
	ASSERT_EQ(rd(BUS_PIO, PORT_COM1 + SERIAL_SCR, 1), 0xa5);
}

TEST(fw_cfg_still_works)
{
	u8 sig[4], *req = z.ram + 0x1000;

	fw_cfg_port_read(FW_CFG_SIGNATURE, sig, 4);
	ASSERT_TRUE(!memcmp(sig, "QEMU", 4));
	/* the same through DMA: select + read 4 bytes to 0x2000 */
	memset(z.ram + 0x2000, 0, 8);
	put_be(req, (u32)FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, 4);
	put_be(req + 4, 4, 4);
	put_be(req + 8, 0x2000, 8);
	wr(BUS_PIO, FW_DMA_PORT, 4, 0);
	wr(BUS_PIO, FW_DMA_PORT + 4, 4, __builtin_bswap32(0x1000));
	ASSERT_EQ(get_be(req, 4), 0);
	ASSERT_TRUE(!memcmp(z.ram + 0x2000, "QEMU\0\0\0\0", 8));
	ASSERT_EQ(rd(BUS_PIO, FW_DMA_PORT, 4), 0x554d4551); /* "QEMU", the first half of "QEMU CFG" */
}

TEST(legacy_devices_still_work)
{
	u32 t;

	/* CMOS memory byte round-trips */
	wr(BUS_PIO, PORT_CMOS, 1, 0x40);
	wr(BUS_PIO, PORT_CMOS + 1, 1, 0x3c);
	wr(BUS_PIO, PORT_CMOS, 1, 0x40);
	ASSERT_EQ(rd(BUS_PIO, PORT_CMOS + 1, 1), 0x3c);
	/* 8042 self-test */
	wr(BUS_PIO, PORT_I8042_CMD, 1, 0xaa);
	ASSERT_TRUE(rd(BUS_PIO, PORT_I8042_CMD, 1) & I8042_STR_OBF);
	ASSERT_EQ(rd(BUS_PIO, PORT_I8042_DATA, 1), 0x55);
	/* PM timer: 24 bits */
	t = (u32)rd(BUS_PIO, PORT_PM_TMR, 4);
	ASSERT_EQ(t & ~PM_TIMER_MASK, 0);
	ASSERT_EQ(rd(BUS_PIO, PORT_DEBUGCON, 1), DEBUGCON_READBACK);
	ASSERT_EQ(rd(BUS_PIO, PORT_POST_CODE, 1), 0xff);
}

TEST(flash_still_works)
{
	/* the vars flash programs a byte, the code flash kept every byte */
	/* the storm may have left a command waiting for its second cycle */
	wr(BUS_MMIO, VARS_GPA, 1, 0xff);
	wr(BUS_MMIO, VARS_GPA + 100, 1, 0x10);
	wr(BUS_MMIO, VARS_GPA + 100, 1, 0x42);
	wr(BUS_MMIO, VARS_GPA, 1, 0xff);
	ASSERT_EQ(rd(BUS_MMIO, VARS_GPA + 100, 1), 0x42);
	wr(BUS_MMIO, VARS_GPA, 1, 0x98);
	ASSERT_EQ(rd(BUS_MMIO, VARS_GPA + 0x10, 1), 'Q');
	wr(BUS_MMIO, VARS_GPA, 1, 0xff);
	ASSERT_TRUE(!memcmp(z.code.mem, z.code_copy, CODE_SIZE));
}

TEST(memory_untouched)
{
	size_t bad = 0;

	for (size_t i = PLAY_END; i < RAM_SIZE; i++)
		bad += z.ram[i] != CANARY;
	ASSERT_EQ(bad, 0);
	for (size_t i = 0; i < GUARD_SIZE; i++)
		bad += z.ram_block[i] != GUARD || z.ram[RAM_SIZE + i] != GUARD;
	ASSERT_EQ(bad, 0);
	/* no BAR took guest RAM's place in the memory map */
	ASSERT_TRUE(mem_find(&z.vm.mem, 0) && mem_find(&z.vm.mem, 0)->hva == z.ram);
	ASSERT_EQ(mem_find(&z.vm.mem, 0)->size, RAM_SIZE);
	ASSERT_EQ(mem_find(&z.vm.mem, 0)->kind, MEM_RAM);
	/* the stop requests (debug-exit, S5, 0xCF9, 8042 reset) only recorded a reason */
	ASSERT_TRUE(z.vm.stop_reason == VM_RUNNING || z.vm.stop_reason == VM_STOP_EXIT ||
		    z.vm.stop_reason == VM_STOP_POWEROFF || z.vm.stop_reason == VM_STOP_RESET);
}

int main(void)
{
	z.null_fd = z.vars_fd = -1;
	/* S3 requests, flash and fw_cfg rejections would log thousands of lines */
	log_set_level(LOG_ERR);
	RUN(devices_created);
	RUN(storm);
	RUN(pci_still_works);
	RUN(serial_still_works);
	RUN(fw_cfg_still_works);
	RUN(legacy_devices_still_work);
	RUN(flash_still_works);
	RUN(memory_untouched);
	teardown();
	return test_done();
}
