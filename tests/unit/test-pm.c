/* ACPI PM block and reset control: register logic and the bus glue. */
#include <unistd.h>

#include "devices/pm.h"
#include "tests/unit/fake-vm.h"
#include "tests/unit/harness.h"

#define NS 1000000000ULL

// Write a 16-bit value to the PM block byte by byte, as the bus splits it;
// returns the last non-NONE action.
static enum pm_action write16(struct pm_regs *r, unsigned int off, u16 v)
{
	enum pm_action a = pm_regs_write(r, off, (u8)v), b = pm_regs_write(r, off + 1, (u8)(v >> 8));

	return b != PM_ACT_NONE ? b : a;
}

TEST(sleep_type_decode)
{
	ASSERT_EQ(pm_cnt_sleep_type(PM1_CNT_SLP_EN | (PM_SLP_TYP_S5 << PM1_CNT_SLP_TYP_SHIFT)),
		  PM_SLP_TYP_S5);
	ASSERT_EQ(pm_cnt_sleep_type(PM1_CNT_SLP_EN), 0);
	ASSERT_EQ(pm_cnt_sleep_type(7 << PM1_CNT_SLP_TYP_SHIFT), -1); /* no SLP_EN */
}

TEST(pm1_cnt_s5_and_others)
{
	struct pm_regs r;

	pm_regs_init(&r, 0);
	ASSERT_EQ(write16(&r, PM_OFF_CNT, PM1_CNT_SLP_EN | (PM_SLP_TYP_S5 << PM1_CNT_SLP_TYP_SHIFT)),
		  PM_ACT_POWEROFF);
	/* SLP_TYP alone (no SLP_EN) does nothing */
	ASSERT_EQ(write16(&r, PM_OFF_CNT, PM_SLP_TYP_S5 << PM1_CNT_SLP_TYP_SHIFT), PM_ACT_NONE);
	/* S3 (here type 1) is not supported: reported, no poweroff */
	ASSERT_EQ(write16(&r, PM_OFF_CNT, PM1_CNT_SLP_EN | (1 << PM1_CNT_SLP_TYP_SHIFT)), PM_ACT_SLEEP);
	/* the high byte alone is a complete request */
	ASSERT_EQ(pm_regs_write(&r, PM_OFF_CNT + 1,
				(PM1_CNT_SLP_EN | (PM_SLP_TYP_S5 << PM1_CNT_SLP_TYP_SHIFT)) >> 8),
		  PM_ACT_POWEROFF);
}

TEST(pm1_cnt_readback)
{
	struct pm_regs r;

	pm_regs_init(&r, 0);
	/* SCI_EN always reads 1, SLP_EN reads 0, SLP_TYP reads back */
	write16(&r, PM_OFF_CNT, 0);
	ASSERT_EQ(pm_regs_read(&r, PM_OFF_CNT, 0), PM1_CNT_SCI_EN);
	write16(&r, PM_OFF_CNT, PM1_CNT_SLP_EN | (3 << PM1_CNT_SLP_TYP_SHIFT));
	ASSERT_EQ(pm_regs_read(&r, PM_OFF_CNT + 1, 0), (3 << PM1_CNT_SLP_TYP_SHIFT) >> 8);
}

TEST(pm1_evt_w1c_and_enable)
{
	struct pm_regs r;

	pm_regs_init(&r, 0);
	r.pm1_sts = PM1_STS_TMR | PM1_STS_PWRBTN;
	ASSERT_FALSE(pm_regs_sci(&r));
	write16(&r, PM_OFF_EVT + 2, PM1_STS_PWRBTN); /* PM1_EN */
	ASSERT_EQ(pm_regs_read(&r, PM_OFF_EVT + 3, 0), PM1_STS_PWRBTN >> 8);
	ASSERT_TRUE(pm_regs_sci(&r));
	write16(&r, PM_OFF_EVT, PM1_STS_TMR); /* clears TMR only */
	ASSERT_EQ(r.pm1_sts, PM1_STS_PWRBTN);
	ASSERT_TRUE(pm_regs_sci(&r));
	write16(&r, PM_OFF_EVT, 0xffff);
	ASSERT_EQ(pm_regs_read(&r, PM_OFF_EVT, 0) | pm_regs_read(&r, PM_OFF_EVT + 1, 0), 0);
	ASSERT_FALSE(pm_regs_sci(&r));
}

TEST(gpe0_block)
{
	struct pm_regs r;

	pm_regs_init(&r, 0);
	for (unsigned int i = 0; i < 2 * PM_GPE0_BYTES; i++)
		ASSERT_EQ(pm_regs_read(&r, PM_OFF_GPE0 + i, 0), 0);
	pm_regs_write(&r, PM_OFF_GPE0 + PM_GPE0_BYTES + 1, 0x84); /* enable byte 1 */
	ASSERT_EQ(pm_regs_read(&r, PM_OFF_GPE0 + PM_GPE0_BYTES + 1, 0), 0x84);
	r.gpe_sts[1] = 0x03; /* not enabled */
	ASSERT_FALSE(pm_regs_sci(&r));
	r.gpe_sts[1] = 0x04;
	ASSERT_TRUE(pm_regs_sci(&r));
	pm_regs_write(&r, PM_OFF_GPE0 + 1, 0x04);
	ASSERT_EQ(pm_regs_read(&r, PM_OFF_GPE0 + 1, 0), 0);
	ASSERT_FALSE(pm_regs_sci(&r));
	/* holes read as unclaimed */
	ASSERT_EQ(pm_regs_read(&r, 0x06, 0), 0xff);
	ASSERT_EQ(pm_regs_read(&r, 0x10, 0), 0xff);
}

TEST(timer_rate_monotonic_and_wrap)
{
	struct pm_regs r;
	u64 base = 5 * NS, wrap_ns;
	u32 prev = 0;

	pm_regs_init(&r, base);
	ASSERT_EQ(pm_timer_read(&r, base), 0);
	ASSERT_EQ(pm_timer_read(&r, base + NS), PM_TIMER_HZ);
	ASSERT_EQ(pm_timer_read(&r, base + NS / 1000), 3579);
	/* strictly increasing within one wrap, in 1 ms steps */
	for (u64 ns = base; ns < base + 4 * NS; ns += NS / 1000) {
		u32 v = pm_timer_read(&r, ns);

		ASSERT_TRUE(ns == base || v > prev);
		prev = v;
	}
	/* 2^24 ticks take 4.687 s: the counter wraps to 0 there */
	wrap_ns = ((1ULL << 24) * NS + PM_TIMER_HZ - 1) / PM_TIMER_HZ;
	ASSERT_EQ(pm_timer_read(&r, base + wrap_ns - 1), 0xffffff);
	ASSERT_EQ(pm_timer_read(&r, base + wrap_ns), 0);
	/* and never exceeds 24 bits, even after days (no 64-bit overflow) */
	ASSERT_EQ(pm_timer_read(&r, base + 1000000ULL * NS), (1000000ULL * PM_TIMER_HZ) & 0xffffff);
	/* the bytes of a 32-bit read: the top byte is always 0 */
	ASSERT_EQ(pm_regs_read(&r, PM_OFF_TMR + 3, base + 3 * NS), 0);
	ASSERT_EQ(pm_regs_read(&r, PM_OFF_TMR, base + NS), PM_TIMER_HZ & 0xff);
	/* read-only */
	pm_regs_write(&r, PM_OFF_TMR, 0);
	ASSERT_EQ(pm_timer_read(&r, base + NS), PM_TIMER_HZ);
}

TEST(reset_control)
{
	struct pm_regs r;

	pm_regs_init(&r, 0);
	ASSERT_EQ(pm_rst_cnt_write(&r, 0x02), PM_ACT_NONE);
	ASSERT_EQ(r.rst_cnt, 0x02);
	ASSERT_EQ(pm_rst_cnt_write(&r, 0x06), PM_ACT_RESET);
	ASSERT_EQ(pm_rst_cnt_write(&r, 0x04), PM_ACT_RESET);
	ASSERT_EQ(r.rst_cnt & PM_RST_CNT_RST_CPU, 0);
}

TEST(glue_poweroff)
{
	struct vm vm;
	struct pm *pm;
	u32 t1, t2;

	fake_vm_init(&vm);
	pm = pm_create(&vm);
	ASSERT_TRUE(pm != NULL);
	ASSERT_EQ(fake_pio(&vm, PORT_PM1A_CNT, 2, false, 0) & PM1_CNT_SCI_EN, PM1_CNT_SCI_EN);
	t1 = fake_pio(&vm, PORT_PM_TMR, 4, false, 0);
	usleep(2000);
	t2 = fake_pio(&vm, PORT_PM_TMR, 4, false, 0);
	ASSERT_TRUE(t2 - t1 >= 7000 && t1 <= 0xffffff && t2 <= 0xffffff);
	fake_pio(&vm, PORT_PM1A_CNT, 2, true, PM1_CNT_SLP_EN | (2 << PM1_CNT_SLP_TYP_SHIFT));
	ASSERT_EQ(vm.stop_reason, VM_RUNNING);
	fake_pio(&vm, PORT_PM1A_CNT, 2, true,
		 PM1_CNT_SLP_EN | (PM_SLP_TYP_S5 << PM1_CNT_SLP_TYP_SHIFT));
	ASSERT_EQ(vm.stop_reason, VM_STOP_POWEROFF);
	ASSERT_EQ(vm.exit_status, 0);
	pm_destroy(pm);
	fake_vm_destroy(&vm);
}

TEST(glue_reset_claims_only_cf9)
{
	struct vm vm;
	struct pm *pm;

	fake_vm_init(&vm);
	pm = pm_create(&vm);
	ASSERT_TRUE(pm != NULL);
	ASSERT_TRUE(bus_find(&vm.bus, BUS_PIO, 0xcf8) == NULL);
	ASSERT_TRUE(bus_find(&vm.bus, BUS_PIO, 0xcfa) == NULL);
	ASSERT_TRUE(bus_find(&vm.bus, BUS_PIO, 0xcf9) != NULL);
	fake_outb(&vm, PORT_RESET_CNT, 0x02);
	ASSERT_EQ(fake_inb(&vm, PORT_RESET_CNT), 0x02);
	ASSERT_EQ(vm.stop_reason, VM_RUNNING);
	fake_outb(&vm, PORT_RESET_CNT, 0x06);
	ASSERT_EQ(vm.stop_reason, VM_STOP_RESET);
	pm_destroy(pm);
	ASSERT_TRUE(bus_find(&vm.bus, BUS_PIO, 0xcf9) == NULL);
	fake_vm_destroy(&vm);
}

TEST(glue_power_button)
{
	struct vm vm;
	struct pm *pm;

	fake_vm_init(&vm);
	pm = pm_create(&vm);
	ASSERT_TRUE(pm != NULL);
	fake_pio(&vm, PORT_PM1A_EVT + 2, 2, true, PM1_STS_PWRBTN); /* PWRBTN_EN */
	ASSERT_EQ(fake_pio(&vm, PORT_PM1A_EVT, 2, false, 0), 0);
	pm_power_button(pm);
	ASSERT_EQ(fake_pio(&vm, PORT_PM1A_EVT, 2, false, 0), PM1_STS_PWRBTN);
	ASSERT_EQ(vm.stop_reason, VM_RUNNING); /* a request to the guest, not a stop */
	fake_pio(&vm, PORT_PM1A_EVT, 2, true, PM1_STS_PWRBTN);
	ASSERT_EQ(fake_pio(&vm, PORT_PM1A_EVT, 2, false, 0), 0);
	pm_destroy(pm);
	fake_vm_destroy(&vm);
}

int main(void)
{
	RUN(sleep_type_decode);
	RUN(pm1_cnt_s5_and_others);
	RUN(pm1_cnt_readback);
	RUN(pm1_evt_w1c_and_enable);
	RUN(gpe0_block);
	RUN(timer_rate_monotonic_and_wrap);
	RUN(reset_control);
	RUN(glue_poweroff);
	RUN(glue_reset_claims_only_cf9);
	RUN(glue_power_button);
	return test_done();
}
