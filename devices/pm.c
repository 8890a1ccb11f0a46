/*
 * ACPI PM block and reset control register. Register logic first (pure),
 * then the bus glue that turns actions into vm_stop() and the SCI line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/pm.h"
#include "vmm/log.h"
#include "vmm/vm.h"

/* ---- register logic ---- */

// Reset state: everything clear, SCI_EN set (there is no SMI to hand over from).
void pm_regs_init(struct pm_regs *r, u64 now_ns)
{
	memset(r, 0, sizeof(*r));
	r->pm1_cnt = PM1_CNT_SCI_EN;
	r->timer_base_ns = now_ns;
}

// 24-bit PM timer value: 3.579545 MHz ticks since timer_base_ns.
u32 pm_timer_read(const struct pm_regs *r, u64 now_ns)
{
	u64 ns = now_ns - r->timer_base_ns;
	/* split so ns * 3579545 cannot overflow 64 bits */
	u64 ticks = (ns / 1000000000ULL) * PM_TIMER_HZ +
		    (ns % 1000000000ULL) * PM_TIMER_HZ / 1000000000ULL;

	return (u32)(ticks & PM_TIMER_MASK);
}

// SLP_TYP of a PM1_CNT value, -1 unless SLP_EN is set.
int pm_cnt_sleep_type(u16 cnt)
{
	if (!(cnt & PM1_CNT_SLP_EN))
		return -1;
	return (cnt & PM1_CNT_SLP_TYP_MASK) >> PM1_CNT_SLP_TYP_SHIFT;
}

// SCI level: an enabled PM1 or GPE0 status bit is set.
bool pm_regs_sci(const struct pm_regs *r)
{
	if (r->pm1_sts & r->pm1_en)
		return true;
	for (int i = 0; i < PM_GPE0_BYTES; i++)
		if (r->gpe_sts[i] & r->gpe_en[i])
			return true;
	return false;
}

// One byte of the PM block.
u8 pm_regs_read(const struct pm_regs *r, unsigned int off, u64 now_ns)
{
	unsigned int shift = (off & 1) * 8;

	if (off < PM_OFF_EVT + 2)
		return (u8)(r->pm1_sts >> shift);
	if (off < PM_OFF_EVT + 4)
		return (u8)(r->pm1_en >> shift);
	if (off < PM_OFF_CNT + 2)
		return (u8)((r->pm1_cnt | PM1_CNT_SCI_EN) >> shift);
	if (off >= PM_OFF_TMR && off < PM_OFF_TMR + 4)
		return (u8)(pm_timer_read(r, now_ns) >> ((off - PM_OFF_TMR) * 8));
	if (off >= PM_OFF_GPE0 && off < PM_OFF_GPE0 + PM_GPE0_BYTES)
		return r->gpe_sts[off - PM_OFF_GPE0];
	if (off >= PM_OFF_GPE0 + PM_GPE0_BYTES && off < PM_OFF_GPE0 + 2 * PM_GPE0_BYTES)
		return r->gpe_en[off - PM_OFF_GPE0 - PM_GPE0_BYTES];
	return 0xff; /* holes in the block read as unclaimed ports */
}

// One byte written to the PM block; returns what the machine must do.
enum pm_action pm_regs_write(struct pm_regs *r, unsigned int off, u8 val)
{
	unsigned int shift = (off & 1) * 8;
	u16 v16 = (u16)(val << shift);
	int typ;

	if (off < PM_OFF_EVT + 2) {
		r->pm1_sts &= ~v16; /* write 1 to clear */
	} else if (off < PM_OFF_EVT + 4) {
		r->pm1_en = (r->pm1_en & ~(0xff << shift)) | v16;
	} else if (off < PM_OFF_CNT + 2) {
		/* SLP_TYP and SLP_EN are both in the high byte, so a byte write
		 * of it is a complete sleep request */
		u16 cnt = (r->pm1_cnt & ~(0xff << shift)) | v16;

		typ = pm_cnt_sleep_type(cnt);
		r->pm1_cnt = (cnt & ~PM1_CNT_SLP_EN) | PM1_CNT_SCI_EN; /* SLP_EN reads 0 */
		if (typ == PM_SLP_TYP_S5)
			return PM_ACT_POWEROFF;
		if (typ >= 0)
			return PM_ACT_SLEEP;
	} else if (off >= PM_OFF_GPE0 && off < PM_OFF_GPE0 + PM_GPE0_BYTES) {
		r->gpe_sts[off - PM_OFF_GPE0] &= ~val;
	} else if (off >= PM_OFF_GPE0 + PM_GPE0_BYTES && off < PM_OFF_GPE0 + 2 * PM_GPE0_BYTES) {
		r->gpe_en[off - PM_OFF_GPE0 - PM_GPE0_BYTES] = val;
	}
	/* PM_TMR is read-only; holes ignore writes */
	return PM_ACT_NONE;
}

// RST_CNT write: bit 2 asks for a reset.
enum pm_action pm_rst_cnt_write(struct pm_regs *r, u8 val)
{
	r->rst_cnt = val & 0x0e;
	if (val & PM_RST_CNT_RST_CPU) {
		r->rst_cnt &= ~PM_RST_CNT_RST_CPU;
		return PM_ACT_RESET;
	}
	return PM_ACT_NONE;
}

/* ---- glue ---- */

struct pm {
	struct vm *vm;
	struct bus_region block, reset;
	struct pm_regs regs;
	bool sci_level;
};

// CLOCK_MONOTONIC in nanoseconds: the PM timer must never go backwards.
static u64 pm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

// Carry out what a register write asked for (SLP_TYP stays in pm1_cnt). vm->lock held.
static void pm_act(struct pm *pm, enum pm_action act)
{
	switch (act) {
	case PM_ACT_POWEROFF:
		pr_info("pm: guest powered off (S5)");
		vm_stop(pm->vm, VM_STOP_POWEROFF, 0);
		break;
	case PM_ACT_RESET:
		pr_info("pm: guest reset through 0xcf9");
		vm_stop(pm->vm, VM_STOP_RESET, 0);
		break;
	case PM_ACT_SLEEP:
		pr_warn("pm: guest asked for sleep type %d; only S5 (poweroff) is supported, ignored",
			(pm->regs.pm1_cnt & PM1_CNT_SLP_TYP_MASK) >> PM1_CNT_SLP_TYP_SHIFT);
		break;
	case PM_ACT_NONE:
		break;
	}
}

// Drive IRQ_SCI to the register level when it changed. vm->lock held.
static void pm_update_sci(struct pm *pm)
{
	bool level = pm_regs_sci(&pm->regs);

	if (level != pm->sci_level) {
		pm->sci_level = level;
		irq_line(pm->vm, IRQ_SCI, level);
	}
}

// Bus callback for the PM block: byte by byte, with one clock sample so a
// 32-bit PM_TMR read is consistent.
static void pm_block_access(void *opaque, struct bus_access *a)
{
	struct pm *pm = opaque;
	u64 now = pm_now_ns();

	for (u32 i = 0; i < a->len; i++) {
		u64 off = a->offset + i;

		if (off >= PM_BLOCK_SIZE) {
			if (!a->is_write)
				a->data[i] = 0xff;
			continue;
		}
		if (a->is_write) {
			pm_act(pm, pm_regs_write(&pm->regs, (unsigned int)off, a->data[i]));
		} else {
			a->data[i] = pm_regs_read(&pm->regs, (unsigned int)off, now);
		}
	}
	pm_update_sci(pm);
}

// Bus callback for RST_CNT at 0xCF9 (one byte; only data[0] counts).
static void pm_reset_access(void *opaque, struct bus_access *a)
{
	struct pm *pm = opaque;

	if (!a->is_write) {
		a->data[0] = pm->regs.rst_cnt;
		memset(a->data + 1, 0xff, a->len - 1);
		return;
	}
	pm_act(pm, pm_rst_cnt_write(&pm->regs, a->data[0]));
}

// Register the PM block and RST_CNT.
struct pm *pm_create(struct vm *vm)
{
	struct pm *pm = calloc(1, sizeof(*pm));
	int ret;

	if (!pm) {
		pr_err("pm: out of memory");
		return NULL;
	}
	pm->vm = vm;
	pm_regs_init(&pm->regs, pm_now_ns());
	pm->block = (struct bus_region){
		.name = "acpi-pm", .space = BUS_PIO, .base = PORT_PM_BASE,
		.size = PM_BLOCK_SIZE, .access = pm_block_access, .opaque = pm,
	};
	pm->reset = (struct bus_region){
		.name = "reset-cnt", .space = BUS_PIO, .base = PORT_RESET_CNT,
		.size = 1, .access = pm_reset_access, .opaque = pm,
	};
	ret = bus_register(&vm->bus, &pm->block);
	if (ret < 0) {
		pr_err("pm: ports 0x%x-0x%x are taken (%s)", PORT_PM_BASE,
		       PORT_PM_BASE + PM_BLOCK_SIZE - 1, strerror(-ret));
		free(pm);
		return NULL;
	}
	ret = bus_register(&vm->bus, &pm->reset);
	if (ret < 0) {
		pr_err("pm: port 0x%x (reset control) is taken (%s); the PCI config "
		       "address region must cover only 0xcf8", PORT_RESET_CNT, strerror(-ret));
		bus_unregister(&vm->bus, &pm->block);
		free(pm);
		return NULL;
	}
	return pm;
}

// Set PWRBTN_STS and update the SCI (from any thread).
void pm_power_button(struct pm *pm)
{
	vm_lock(pm->vm);
	pm->regs.pm1_sts |= PM1_STS_PWRBTN;
	pm_update_sci(pm);
	vm_unlock(pm->vm);
}

// Unregister both regions.
void pm_destroy(struct pm *pm)
{
	if (!pm)
		return;
	bus_unregister(&pm->vm->bus, &pm->reset);
	bus_unregister(&pm->vm->bus, &pm->block);
	free(pm);
}
