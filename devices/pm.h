/*
 * The ACPI fixed-hardware PM block (q35 style, at PORT_PM_BASE) and the
 * reset control register at 0xCF9.
 *
 *   PM1a_EVT  base+0x00  PM1_STS (w1c) and PM1_EN, 16 bits each
 *   PM1a_CNT  base+0x04  SCI_EN always reads 1; SLP_EN with SLP_TYP == S5 powers off
 *   PM_TMR    base+0x08  24-bit free-running counter, 3.579545 MHz, read-only
 *   GPE0      base+0x20  8 status bytes (w1c), then 8 enable bytes
 *   RST_CNT   0xCF9      1 byte; a write with bit 2 set resets the machine
 *
 * struct pm_regs is the pure register file (tests use it directly); the
 * timer is computed from a nanosecond clock the caller passes in.
 */
#ifndef PTVM_PM_H
#define PTVM_PM_H

#include "vmm/common.h"

struct vm;
struct pm;

#define PM_BLOCK_SIZE 0x30 /* PORT_PM_BASE .. end of GPE0 */
#define PM_OFF_EVT 0x00
#define PM_OFF_CNT 0x04
#define PM_OFF_TMR 0x08
#define PM_OFF_GPE0 0x20

#define PM_TIMER_HZ 3579545ULL
#define PM_TIMER_MASK 0xffffffU

#define PM1_STS_TMR 0x0001
#define PM1_STS_PWRBTN 0x0100
#define PM1_STS_WAK 0x8000
#define PM1_CNT_SCI_EN 0x0001
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_TYP_MASK 0x1c00
#define PM1_CNT_SLP_EN 0x2000
#define PM_RST_CNT_RST_CPU 0x04

#define PM_GPE0_BYTES 8 /* status bytes; as many enable bytes follow */

struct pm_regs {
	u16 pm1_sts, pm1_en, pm1_cnt;
	u8 gpe_sts[PM_GPE0_BYTES], gpe_en[PM_GPE0_BYTES];
	u64 timer_base_ns; /* clock value at which the timer read 0 */
	u8 rst_cnt;
};

enum pm_action {
	PM_ACT_NONE,
	PM_ACT_POWEROFF, /* SLP_EN with SLP_TYP == PM_SLP_TYP_S5 */
	PM_ACT_SLEEP,    /* SLP_EN with another sleep type: unsupported */
	PM_ACT_RESET,    /* RST_CNT bit 2 */
};

void pm_regs_init(struct pm_regs *r, u64 now_ns);
/* PM timer value at now_ns: ticks since timer_base_ns, 24 bits. */
u32 pm_timer_read(const struct pm_regs *r, u64 now_ns);
/* One byte of the PM block at off (0 .. PM_BLOCK_SIZE-1). */
u8 pm_regs_read(const struct pm_regs *r, unsigned int off, u64 now_ns);
enum pm_action pm_regs_write(struct pm_regs *r, unsigned int off, u8 val);
/* RST_CNT: the register keeps bits 1-3 (bit 2 self-clears on reset). */
enum pm_action pm_rst_cnt_write(struct pm_regs *r, u8 val);
/* SLP_TYP of a PM1_CNT value whose SLP_EN is set, -1 if SLP_EN is clear. */
int pm_cnt_sleep_type(u16 cnt);
/* Level of the SCI: any enabled PM1 or GPE0 status bit. */
bool pm_regs_sci(const struct pm_regs *r);

/* Claim the PM block and 0xCF9 (length 1). NULL on error (logged). */
struct pm *pm_create(struct vm *vm);
void pm_destroy(struct pm *pm);
/* Press the power button: PWRBTN_STS, and an SCI if the guest enabled it
 * (a polite ACPI shutdown request, e.g. on SIGTERM). Takes vm->lock. */
void pm_power_button(struct pm *pm);

#endif
