/* MC146818 RTC/CMOS: encodings, clock reads and writes, interrupts, memory fields. */
#include <time.h>

#include "devices/rtc.h"
#include "tests/unit/fake-vm.h"
#include "tests/unit/harness.h"
#include "vmm/layout.h"

#define NS 1000000000LL

// Seconds since the epoch of a UTC date.
static s64 utc(int y, int mon, int d, int h, int m, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = m, .tm_sec = s };

	return (s64)timegm(&tm);
}

// A chip for a 512 MiB, 1-CPU machine, created at host time now.
static void chip(struct rtc_state *c, s64 now)
{
	struct layout l;

	layout_compute(&l, 512 * MiB, 40, 0);
	rtc_state_init(c, &l, 1, now);
}

TEST(bcd_and_binary)
{
	ASSERT_EQ(rtc_to_reg(0, 59), 0x59);
	ASSERT_EQ(rtc_to_reg(0, 7), 0x07);
	ASSERT_EQ(rtc_from_reg(0, 0x59), 59);
	ASSERT_EQ(rtc_to_reg(RTC_B_DM_BINARY, 59), 59);
	ASSERT_EQ(rtc_from_reg(RTC_B_DM_BINARY, 59), 59);
	for (unsigned int v = 0; v < 100; v++) {
		ASSERT_EQ(rtc_from_reg(0, rtc_to_reg(0, v)), v);
		ASSERT_EQ(rtc_from_reg(RTC_B_DM_BINARY, rtc_to_reg(RTC_B_DM_BINARY, v)), v);
	}
}

TEST(hours_12_and_24)
{
	const u8 b12 = 0, b12bin = RTC_B_DM_BINARY;

	ASSERT_EQ(rtc_hour_to_reg(b12, 0), 0x12);  /* 12 AM */
	ASSERT_EQ(rtc_hour_to_reg(b12, 1), 0x01);
	ASSERT_EQ(rtc_hour_to_reg(b12, 11), 0x11);
	ASSERT_EQ(rtc_hour_to_reg(b12, 12), 0x92); /* 12 PM */
	ASSERT_EQ(rtc_hour_to_reg(b12, 13), 0x81);
	ASSERT_EQ(rtc_hour_to_reg(b12, 23), 0x91);
	ASSERT_EQ(rtc_hour_to_reg(b12bin, 23), 0x80 | 11);
	ASSERT_EQ(rtc_hour_to_reg(RTC_B_24H, 23), 0x23);
	ASSERT_EQ(rtc_hour_to_reg(RTC_B_24H | RTC_B_DM_BINARY, 23), 23);
	for (unsigned int h = 0; h < 24; h++) {
		ASSERT_EQ(rtc_hour_from_reg(b12, rtc_hour_to_reg(b12, h)), h);
		ASSERT_EQ(rtc_hour_from_reg(b12bin, rtc_hour_to_reg(b12bin, h)), h);
		ASSERT_EQ(rtc_hour_from_reg(RTC_B_24H, rtc_hour_to_reg(RTC_B_24H, h)), h);
	}
}

TEST(reads_host_time_in_each_format)
{
	struct rtc_state c;
	s64 t = utc(2024, 2, 29, 13, 45, 7) * NS + NS / 2; /* a Thursday */

	chip(&c, t);
	ASSERT_EQ(rtc_state_read(&c, RTC_SECONDS, t), 0x07);
	ASSERT_EQ(rtc_state_read(&c, RTC_MINUTES, t), 0x45);
	ASSERT_EQ(rtc_state_read(&c, RTC_HOURS, t), 0x13);
	ASSERT_EQ(rtc_state_read(&c, RTC_DAY_OF_WEEK, t), 5);
	ASSERT_EQ(rtc_state_read(&c, RTC_DAY_OF_MONTH, t), 0x29);
	ASSERT_EQ(rtc_state_read(&c, RTC_MONTH, t), 0x02);
	ASSERT_EQ(rtc_state_read(&c, RTC_YEAR, t), 0x24);
	ASSERT_EQ(rtc_state_read(&c, RTC_CENTURY, t), 0x20);
	rtc_state_write(&c, RTC_REG_B, RTC_B_DM_BINARY, t); /* binary, 12h */
	ASSERT_EQ(rtc_state_read(&c, RTC_HOURS, t), 0x80 | 1);
	ASSERT_EQ(rtc_state_read(&c, RTC_MINUTES, t), 45);
	ASSERT_EQ(rtc_state_read(&c, RTC_YEAR, t), 24);
	/* the index ignores bit 7 (NMI mask) */
	ASSERT_EQ(rtc_state_read(&c, 0x80 | RTC_MINUTES, t), 45);
	/* time moves with the host clock */
	ASSERT_EQ(rtc_state_read(&c, RTC_SECONDS, t + 2 * NS), 9);
	ASSERT_EQ(rtc_state_read(&c, RTC_REG_D, t), RTC_D_VRT);
}

TEST(uip_before_each_update)
{
	struct rtc_state c;
	s64 t = utc(2030, 1, 1, 0, 0, 0) * NS;

	chip(&c, t);
	ASSERT_EQ(rtc_state_read(&c, RTC_REG_A, t), RTC_A_DV_NORMAL | 0x06);
	ASSERT_EQ(rtc_state_read(&c, RTC_REG_A, t + NS - RTC_UIP_NS - 1) & RTC_A_UIP, 0);
	ASSERT_EQ(rtc_state_read(&c, RTC_REG_A, t + NS - RTC_UIP_NS) & RTC_A_UIP, RTC_A_UIP);
	ASSERT_EQ(rtc_state_read(&c, RTC_REG_A, t + NS - 1) & RTC_A_UIP, RTC_A_UIP);
	/* during UIP the registers still show the old second */
	ASSERT_EQ(rtc_state_read(&c, RTC_SECONDS, t + NS - 1), 0);
	ASSERT_EQ(rtc_state_read(&c, RTC_REG_A, t + NS) & RTC_A_UIP, 0);
	/* stopped while SET */
	rtc_state_write(&c, RTC_REG_B, RTC_B_24H | RTC_B_SET, t);
	ASSERT_EQ(rtc_state_read(&c, RTC_REG_A, t + NS - 1) & RTC_A_UIP, 0);
}

TEST(guest_sets_the_clock)
{
	struct rtc_state c;
	s64 t = utc(2024, 6, 1, 10, 0, 0) * NS;

	chip(&c, t);
	/* hwclock style: SET, write every field, clear SET */
	rtc_state_write(&c, RTC_REG_B, RTC_B_24H | RTC_B_SET, t);
	rtc_state_write(&c, RTC_SECONDS, 0x30, t);
	rtc_state_write(&c, RTC_MINUTES, 0x15, t);
	rtc_state_write(&c, RTC_HOURS, 0x08, t);
	rtc_state_write(&c, RTC_DAY_OF_MONTH, 0x31, t);
	rtc_state_write(&c, RTC_MONTH, 0x12, t);
	rtc_state_write(&c, RTC_YEAR, 0x99, t);
	rtc_state_write(&c, RTC_CENTURY, 0x19, t);
	/* while SET, reads return what was written and the clock stands still */
	ASSERT_EQ(rtc_state_read(&c, RTC_MINUTES, t + 100 * NS), 0x15);
	rtc_state_write(&c, RTC_REG_B, RTC_B_24H, t + 5 * NS);
	ASSERT_EQ(rtc_state_read(&c, RTC_SECONDS, t + 5 * NS), 0x30);
	ASSERT_EQ(rtc_state_read(&c, RTC_SECONDS, t + 8 * NS), 0x33);
	ASSERT_EQ(rtc_state_read(&c, RTC_YEAR, t + 8 * NS), 0x99);
	ASSERT_EQ(rtc_state_read(&c, RTC_CENTURY, t + 8 * NS), 0x19);
	ASSERT_EQ(rtc_state_read(&c, RTC_DAY_OF_WEEK, t + 8 * NS), 6); /* 1999-12-31: Friday */
	/* one field written while running changes only that field */
	rtc_state_write(&c, RTC_HOURS, 0x20, t + 8 * NS);
	ASSERT_EQ(rtc_state_read(&c, RTC_HOURS, t + 9 * NS), 0x20);
	ASSERT_EQ(rtc_state_read(&c, RTC_MINUTES, t + 9 * NS), 0x15);
	ASSERT_EQ(rtc_state_read(&c, RTC_DAY_OF_MONTH, t + 9 * NS), 0x31);
	ASSERT_EQ(rtc_state_read(&c, RTC_SECONDS, t + 9 * NS), 0x34);
}

// A date past what the clock can hold (9999, or BCD garbage) becomes 2200-01-01, no overflow.
TEST(far_future_date_is_clamped)
{
	struct rtc_state c;
	s64 t = utc(2024, 6, 1, 10, 0, 0) * NS;

	chip(&c, t);
	rtc_state_write(&c, RTC_REG_B, RTC_B_24H | RTC_B_SET, t);
	rtc_state_write(&c, RTC_SECONDS, 0x59, t);
	rtc_state_write(&c, RTC_MINUTES, 0x59, t);
	rtc_state_write(&c, RTC_HOURS, 0x23, t);
	rtc_state_write(&c, RTC_DAY_OF_MONTH, 0x31, t);
	rtc_state_write(&c, RTC_MONTH, 0x12, t);
	rtc_state_write(&c, RTC_YEAR, 0x99, t);
	rtc_state_write(&c, RTC_CENTURY, 0x99, t);
	rtc_state_write(&c, RTC_REG_B, RTC_B_24H | RTC_B_UIE, t);
	ASSERT_EQ(rtc_state_read(&c, RTC_CENTURY, t + NS), 0x22);
	ASSERT_EQ(rtc_state_read(&c, RTC_YEAR, t + NS), 0x00);
	ASSERT_EQ(rtc_state_read(&c, RTC_MONTH, t + NS), 0x01);
	ASSERT_EQ(rtc_state_read(&c, RTC_SECONDS, t + NS), 0x01);
	ASSERT_EQ(rtc_next_event(&c, t), t + NS);
	ASSERT_TRUE(rtc_tick(&c, t + NS));
	/* every byte 0xff (BCD digits past 9) while SET: the same clamp */
	rtc_state_write(&c, RTC_REG_B, RTC_B_24H | RTC_B_SET, t);
	for (u8 r = RTC_SECONDS; r <= RTC_YEAR; r++)
		rtc_state_write(&c, r, 0xff, t);
	rtc_state_write(&c, RTC_CENTURY, 0x99, t);
	rtc_state_write(&c, RTC_REG_B, RTC_B_24H | RTC_B_UIE | RTC_B_PIE, t);
	ASSERT_EQ(rtc_state_read(&c, RTC_CENTURY, t), 0x22);
	ASSERT_TRUE(rtc_next_event(&c, t) > t);
	ASSERT_TRUE(rtc_tick(&c, t + 2 * NS));
}

// Periodic and update interrupts with the guest clock before 1970 (negative times and tick counts).
TEST(periodic_before_1970)
{
	struct rtc_state c;
	s64 t = utc(2024, 6, 1, 10, 0, 0) * NS, next;

	chip(&c, t);
	rtc_state_write(&c, RTC_REG_B, RTC_B_24H | RTC_B_SET, t);
	rtc_state_write(&c, RTC_YEAR, 0x50, t);
	rtc_state_write(&c, RTC_CENTURY, 0x19, t);
	rtc_state_write(&c, RTC_REG_B, RTC_B_24H | RTC_B_PIE, t);
	ASSERT_EQ(rtc_state_read(&c, RTC_YEAR, t), 0x50);
	next = rtc_next_event(&c, t);
	ASSERT_TRUE(next > t && next <= t + 976563);
	ASSERT_TRUE(rtc_tick(&c, next));
	/* the update interrupt too: the next second */
	rtc_state_write(&c, RTC_REG_B, RTC_B_24H | RTC_B_UIE, next);
	ASSERT_EQ(rtc_next_event(&c, t), t + NS);
}

TEST(update_interrupt_and_register_c)
{
	struct rtc_state c;
	s64 t = utc(2024, 6, 1, 10, 0, 0) * NS + NS / 4;

	chip(&c, t);
	ASSERT_EQ(rtc_next_event(&c, t), -1); /* nothing enabled */
	rtc_state_write(&c, RTC_REG_B, RTC_B_24H | RTC_B_UIE, t);
	ASSERT_EQ(rtc_next_event(&c, t), t - NS / 4 + NS);
	ASSERT_FALSE(rtc_tick(&c, t + NS / 2));
	ASSERT_TRUE(rtc_tick(&c, t + NS));
	/* PF latches too (rate 6 runs), though PIE is off, as on the chip */
	ASSERT_EQ(rtc_state_read(&c, RTC_REG_C, t + NS), RTC_C_IRQF | RTC_C_UF | RTC_C_PF);
	ASSERT_EQ(rtc_state_read(&c, RTC_REG_C, t + NS), 0);
	ASSERT_FALSE(rtc_tick(&c, t + NS + 1));
	/* flags latch without their enable, but IRQF needs it */
	rtc_state_write(&c, RTC_REG_B, RTC_B_24H, t + NS);
	ASSERT_FALSE(rtc_tick(&c, t + 3 * NS));
	ASSERT_EQ(rtc_state_read(&c, RTC_REG_C, t + 3 * NS), RTC_C_UF | RTC_C_PF);
}

TEST(alarm_interrupt)
{
	struct rtc_state c;
	s64 t = utc(2024, 6, 1, 10, 20, 30) * NS;

	chip(&c, t);
	rtc_state_write(&c, RTC_REG_A, RTC_A_DV_NORMAL, t); /* no periodic flag */
	rtc_state_write(&c, RTC_SECONDS_ALARM, 0x33, t);
	rtc_state_write(&c, RTC_MINUTES_ALARM, 0x20, t);
	rtc_state_write(&c, RTC_HOURS_ALARM, 0xc0, t); /* any hour */
	rtc_state_write(&c, RTC_REG_B, RTC_B_24H | RTC_B_AIE, t);
	ASSERT_FALSE(rtc_tick(&c, t + 2 * NS));
	ASSERT_TRUE(rtc_tick(&c, t + 3 * NS));
	ASSERT_EQ(rtc_state_read(&c, RTC_REG_C, t + 3 * NS), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
	/* a late scan still finds a match it skipped over */
	rtc_state_write(&c, RTC_SECONDS_ALARM, 0x40, t + 3 * NS);
	ASSERT_TRUE(rtc_tick(&c, t + 60 * NS));
	ASSERT_EQ(rtc_state_read(&c, RTC_REG_C, t + 60 * NS) & RTC_C_AF, RTC_C_AF);
}

TEST(periodic_interrupt)
{
	struct rtc_state c;
	s64 t = utc(2024, 6, 1, 10, 0, 0) * NS, next;

	chip(&c, t);
	/* rate 6: 1024 Hz */
	rtc_state_write(&c, RTC_REG_B, RTC_B_24H | RTC_B_PIE, t);
	next = rtc_next_event(&c, t);
	ASSERT_EQ(next, t + 976563); /* 1/1024 s, rounded up */
	ASSERT_FALSE(rtc_tick(&c, next - 1));
	ASSERT_TRUE(rtc_tick(&c, next));
	ASSERT_EQ(rtc_state_read(&c, RTC_REG_C, next), RTC_C_IRQF | RTC_C_PF);
	/* rate 15: 2 Hz */
	rtc_state_write(&c, RTC_REG_A, RTC_A_DV_NORMAL | 0x0f, next);
	ASSERT_EQ(rtc_next_event(&c, next), t + NS / 2);
	rtc_state_write(&c, RTC_REG_A, RTC_A_DV_NORMAL, next); /* rate 0: off */
	ASSERT_EQ(rtc_next_event(&c, next), -1);
}

// Read a 16-bit little-endian CMOS field.
static unsigned int cmos16(struct rtc_state *c, u8 reg)
{
	return rtc_state_read(c, reg, 0) | (rtc_state_read(c, reg + 1, 0) << 8);
}

// Read the 24-bit RAM-above-4G field.
static unsigned int cmos_high(struct rtc_state *c)
{
	return cmos16(c, CMOS_MEM_HIGH_LO) | (rtc_state_read(c, CMOS_MEM_HIGH_LO + 2, 0) << 16);
}

// The stored checksum (big-endian at 0x2E) equals the sum of 0x10-0x2D.
static bool checksum_ok(struct rtc_state *c)
{
	unsigned int sum = 0;

	for (u8 r = 0x10; r <= 0x2d; r++)
		sum += rtc_state_read(c, r, 0);
	return (u16)sum == ((rtc_state_read(c, CMOS_CHECKSUM_HI, 0) << 8) |
			    rtc_state_read(c, CMOS_CHECKSUM_LO, 0)) &&
	       (u16)sum == rtc_cmos_checksum(c);
}

TEST(cmos_memory_512m)
{
	struct rtc_state c;
	struct layout l;

	ASSERT_EQ(layout_compute(&l, 512 * MiB, 40, 0), 0);
	rtc_state_init(&c, &l, 1, 0);
	ASSERT_EQ(cmos16(&c, CMOS_BASE_MEM_LO), 640);
	ASSERT_EQ(cmos16(&c, CMOS_EXT_MEM_LO), 0xfc00);
	ASSERT_EQ(cmos16(&c, CMOS_EXT_MEM2_LO), 0xfc00);
	ASSERT_EQ(cmos16(&c, CMOS_MEM_16M_LO), (512 - 16) * 16);
	ASSERT_EQ(cmos_high(&c), 0);
	ASSERT_EQ(rtc_state_read(&c, CMOS_NR_CPUS, 0), 0);
	ASSERT_TRUE(checksum_ok(&c));
}

TEST(cmos_memory_3g)
{
	struct rtc_state c;
	struct layout l;

	ASSERT_EQ(layout_compute(&l, 3 * GiB, 40, 0), 0);
	ASSERT_EQ(l.low_ram_size, 2 * GiB);
	rtc_state_init(&c, &l, 4, 0);
	ASSERT_EQ(cmos16(&c, CMOS_EXT_MEM_LO), 0xfc00);
	ASSERT_EQ(cmos16(&c, CMOS_MEM_16M_LO), 0x7f00); /* (2048 - 16) MiB / 64 KiB */
	ASSERT_EQ(cmos_high(&c), 0x4000);               /* 1 GiB / 64 KiB */
	ASSERT_EQ(rtc_state_read(&c, CMOS_NR_CPUS, 0), 3);
	ASSERT_TRUE(checksum_ok(&c));
}

TEST(cmos_memory_8g)
{
	struct rtc_state c;
	struct layout l;

	ASSERT_EQ(layout_compute(&l, 8 * GiB, 40, 0), 0);
	ASSERT_EQ(l.high_ram_size, 6 * GiB);
	rtc_state_init(&c, &l, 64, 0);
	ASSERT_EQ(cmos16(&c, CMOS_MEM_16M_LO), 0x7f00);
	ASSERT_EQ(cmos_high(&c), 0x18000); /* 6 GiB / 64 KiB */
	ASSERT_EQ(rtc_state_read(&c, CMOS_MEM_HIGH_LO + 2, 0), 0x01);
	ASSERT_EQ(rtc_state_read(&c, CMOS_NR_CPUS, 0), 63);
	ASSERT_TRUE(checksum_ok(&c));
}

TEST(cmos_memory_tiny)
{
	struct rtc_state c;
	struct layout l = { .ram_size = 8 * MiB, .low_ram_size = 8 * MiB };

	rtc_state_init(&c, &l, 1, 0);
	ASSERT_EQ(cmos16(&c, CMOS_EXT_MEM_LO), 7 * 1024);
	ASSERT_EQ(cmos16(&c, CMOS_MEM_16M_LO), 0);
	ASSERT_TRUE(checksum_ok(&c));
}

TEST(nvram_and_readonly_registers)
{
	struct rtc_state c;

	chip(&c, 0);
	rtc_state_write(&c, 0x40, 0xab, 0);
	ASSERT_EQ(rtc_state_read(&c, 0x40, 0), 0xab);
	rtc_state_write(&c, RTC_REG_D, 0, 0);
	ASSERT_EQ(rtc_state_read(&c, RTC_REG_D, 0), RTC_D_VRT);
	rtc_state_write(&c, RTC_REG_A, 0xff, 0);
	ASSERT_EQ(rtc_state_read(&c, RTC_REG_A, 0) & 0x7f, 0x7f);
}

TEST(glue_ports)
{
	struct vm vm;
	struct layout l;
	struct rtc *rtc;
	time_t now = time(NULL);
	struct tm tm;
	unsigned int year;

	fake_vm_init(&vm);
	ASSERT_EQ(layout_compute(&l, 512 * MiB, 40, 0), 0);
	rtc = rtc_create(&vm, &l, 2, false);
	ASSERT_TRUE(rtc != NULL);
	fake_outb(&vm, PORT_CMOS, 0x80 | RTC_REG_D); /* NMI mask bit set */
	ASSERT_EQ(fake_inb(&vm, PORT_CMOS + 1), RTC_D_VRT);
	ASSERT_EQ(fake_inb(&vm, PORT_CMOS), 0xff);
	fake_outb(&vm, PORT_CMOS, CMOS_NR_CPUS);
	ASSERT_EQ(fake_inb(&vm, PORT_CMOS + 1), 1);
	fake_outb(&vm, PORT_CMOS, RTC_YEAR);
	year = rtc_from_reg(0, fake_inb(&vm, PORT_CMOS + 1));
	gmtime_r(&now, &tm);
	ASSERT_TRUE(year == (unsigned int)tm.tm_year % 100 ||
		    year == (unsigned int)(tm.tm_year + 1) % 100);
	/* 16-bit write: index then data */
	fake_pio(&vm, PORT_CMOS, 2, true, 0x5a00 | 0x50);
	fake_outb(&vm, PORT_CMOS, 0x50);
	ASSERT_EQ(fake_inb(&vm, PORT_CMOS + 1), 0x5a);
	rtc_destroy(rtc);
	fake_vm_destroy(&vm);
}

int main(void)
{
	RUN(bcd_and_binary);
	RUN(hours_12_and_24);
	RUN(reads_host_time_in_each_format);
	RUN(uip_before_each_update);
	RUN(guest_sets_the_clock);
	RUN(far_future_date_is_clamped);
	RUN(periodic_before_1970);
	RUN(update_interrupt_and_register_c);
	RUN(alarm_interrupt);
	RUN(periodic_interrupt);
	RUN(cmos_memory_512m);
	RUN(cmos_memory_3g);
	RUN(cmos_memory_8g);
	RUN(cmos_memory_tiny);
	RUN(nvram_and_readonly_registers);
	RUN(glue_ports);
	return test_done();
}
