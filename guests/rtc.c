/*
 * The CMOS RTC: time registers hold a sane date, the clock advances by
 * about a second per second and agrees with the ACPI PM timer's
 * 3.579545 MHz, and the memory-size bytes firmware reads
 * (0x30/0x31, 0x34/0x35, 0x5b..0x5d) agree with the e820 map.
 */
#include "lib/libguest.h"

#define CMOS_SEC 0x00
#define CMOS_MIN 0x02
#define CMOS_HOUR 0x04
#define CMOS_DAY 0x07
#define CMOS_MONTH 0x08
#define CMOS_YEAR 0x09
#define CMOS_STATUS_A 0x0a
#define CMOS_STATUS_B 0x0b
#define CMOS_CENTURY 0x32
#define STATUS_A_UIP 0x80
#define STATUS_B_24H 0x02
#define STATUS_B_BINARY 0x04

struct rtc_time {
	int sec, min, hour, day, month, year;
	bool bcd_ok;
};

// Read a CMOS register.
static u8 cmos_read(u8 reg)
{
	outb(PORT_CMOS_INDEX, reg);
	return inb(PORT_CMOS_DATA);
}

// BCD to binary; records digits above 9.
static int from_bcd(u8 v, bool *ok)
{
	if ((v & 0xf) > 9 || (v >> 4) > 9)
		*ok = false;
	return (v >> 4) * 10 + (v & 0xf);
}

// One reading of the clock, decoded according to status B.
static struct rtc_time rtc_read_once(void)
{
	u8 b = cmos_read(CMOS_STATUS_B);
	u8 raw[7] = { cmos_read(CMOS_SEC), cmos_read(CMOS_MIN), cmos_read(CMOS_HOUR),
		      cmos_read(CMOS_DAY), cmos_read(CMOS_MONTH), cmos_read(CMOS_YEAR),
		      cmos_read(CMOS_CENTURY) };
	struct rtc_time t = { .bcd_ok = true };
	int v[7];
	bool pm = false;

	if (!(b & STATUS_B_24H)) {
		pm = raw[2] & 0x80;
		raw[2] &= 0x7f;
	}
	for (int i = 0; i < 7; i++)
		v[i] = (b & STATUS_B_BINARY) ? raw[i] : from_bcd(raw[i], &t.bcd_ok);
	if (!(b & STATUS_B_24H))
		v[2] = v[2] % 12 + (pm ? 12 : 0);
	t.sec = v[0];
	t.min = v[1];
	t.hour = v[2];
	t.day = v[3];
	t.month = v[4];
	t.year = (v[6] ? v[6] : 20) * 100 + v[5];
	return t;
}

// Same time and date in both readings.
static bool rtc_equal(const struct rtc_time *a, const struct rtc_time *b)
{
	return a->sec == b->sec && a->min == b->min && a->hour == b->hour && a->day == b->day &&
	       a->month == b->month && a->year == b->year;
}

// A consistent reading: outside an update, and the same twice in a row.
static struct rtc_time rtc_read(void)
{
	struct rtc_time a, b;

	for (int tries = 0; tries < 1000; tries++) {
		for (int i = 0; i < 100000 && (cmos_read(CMOS_STATUS_A) & STATUS_A_UIP); i++)
			;
		a = rtc_read_once();
		b = rtc_read_once();
		if (rtc_equal(&a, &b))
			break;
	}
	return b;
}

// Seconds since midnight (enough to measure a few seconds of progress).
static int day_seconds(const struct rtc_time *t)
{
	return t->hour * 3600 + t->min * 60 + t->sec;
}

// Date and time fields are in range.
static struct rtc_time check_time(void)
{
	struct rtc_time t = rtc_read();

	printf("RTC: %d-%02d-%02d %02d:%02d:%02d (status B 0x%02x)\n", t.year, t.month, t.day,
	       t.hour, t.min, t.sec, cmos_read(CMOS_STATUS_B));
	report(t.bcd_ok, "BCD time registers hold valid BCD digits");
	report(t.sec < 60 && t.min < 60 && t.hour < 24, "time of day in range");
	report(t.day >= 1 && t.day <= 31 && t.month >= 1 && t.month <= 12, "date in range");
	report(t.year >= 2020 && t.year < 2100, "year %d plausible (century register 0x32)", t.year);
	return t;
}

// The clock ticks: the seconds change within ~2.5 s, by 1..3 seconds.
static void check_advancing(struct rtc_time start)
{
	u32 budget_ms = 2500, waited = 0;
	struct rtc_time now = start;
	int delta;

	if (!pmtimer_works())
		printf("PM timer does not tick; waiting by loop count\n");
	while (waited < budget_ms) {
		now = rtc_read();
		if (now.sec != start.sec)
			break;
		udelay(10000);
		waited += 10;
	}
	delta = (day_seconds(&now) - day_seconds(&start) + 86400) % 86400;
	report(now.sec != start.sec, "RTC seconds advance (after ~%u ms)", waited);
	report(delta >= 1 && delta <= 3, "RTC advanced by %d s (expected 1..3)", delta);
}

/* PM timer time, extended beyond 24 bits by summing deltas. */
struct pm_clock {
	u32 last;
	u64 ticks;
};

// Advance the extended PM clock and return it.
static u64 pm_clock_now(struct pm_clock *c)
{
	u32 now = pmtimer_read();

	c->ticks += (now - c->last) & 0xffffff;
	c->last = now;
	return c->ticks;
}

// Find the next change of the seconds register, bracketed in PM time:
// it happened in [*lo, *hi]. False after ~2.5 s without one.
static bool second_edge(struct pm_clock *c, u64 *lo, u64 *hi)
{
	u8 sec = cmos_read(CMOS_SEC);
	u64 start = pm_clock_now(c), before;

	for (;;) {
		before = pm_clock_now(c);
		if (cmos_read(CMOS_SEC) != sec) {
			*hi = pm_clock_now(c);
			return true;
		}
		*lo = before;
		if (before - start > 2500 * 3580)
			return false;
	}
}

// One RTC second is 3579545 PM timer ticks (within 2%). A stalled vCPU
// (busy host) widens the bracket of an edge; such tries are repeated.
static void check_pmtimer_rate(void)
{
	struct pm_clock c = { .last = pmtimer_read(), .ticks = 0 };
	u64 lo1 = 0, hi1 = 0, lo2 = 0, hi2 = 0, min = 0, max = 0;

	if (!pmtimer_works()) {
		report(false, "ACPI PM timer at port 0x%x ticks", PORT_PM_TMR);
		return;
	}
	for (int tries = 0; tries < 5; tries++) {
		if (!second_edge(&c, &lo1, &hi1) || !second_edge(&c, &lo2, &hi2))
			break;
		min = lo2 - hi1;
		max = hi2 - lo1;
		if (max - min < 3579545 / 20) {
			report(min <= 3579545 * 102 / 100 && max >= 3579545 * 98 / 100,
			       "one RTC second = %lu..%lu PM timer ticks (3579545 +-2%%)", min, max);
			return;
		}
	}
	if (max)
		report_skip("RTC second vs PM timer: vCPU stalls too long to measure (%lu..%lu)",
			    min, max);
	else
		report(false, "RTC seconds change while measuring the PM timer");
}

// Is [start, end) fully covered by e820 entries (of any type)?
static bool e820_covered(u64 start, u64 end)
{
	bool progress = true;

	while (start < end && progress) {
		progress = false;
		for (int i = 0; i < e820_count(); i++) {
			struct e820 e = e820_get(i);

			if (e.addr <= start && e.addr + e.size > start) {
				start = e.addr + e.size;
				progress = true;
			}
		}
	}
	return start >= end;
}

// The CMOS memory sizes, as SeaBIOS and old OSes read them, against e820.
static void check_memory_fields(void)
{
	u64 ram_top_low = 0, ram_high = 0;
	u32 ext_kb = cmos_read(0x30) | cmos_read(0x31) << 8;
	u32 above16 = cmos_read(0x34) | cmos_read(0x35) << 8;
	u64 above4g = cmos_read(0x5b) | cmos_read(0x5c) << 8 | (u32)cmos_read(0x5d) << 16;
	u64 cmos_top, want_ext;

	for (int i = 0; i < e820_count(); i++) {
		struct e820 e = e820_get(i);

		if (e.type != E820_TYPE_RAM)
			continue;
		if (e.addr + e.size <= 4 * GiB && e.addr + e.size > ram_top_low)
			ram_top_low = e.addr + e.size;
		if (e.addr >= 4 * GiB)
			ram_high += e.size;
	}
	cmos_top = 16 * MiB + (u64)above16 * 64 * KiB;
	want_ext = (cmos_top - 1 * MiB) / KiB;
	if (want_ext > 0xffff)
		want_ext = 0xffff;
	printf("CMOS: 0x30 ext %u KiB, 0x34 %u x 64 KiB above 16 MiB (top 0x%lx), 0x5b %lu x 64 KiB above 4 GiB\n",
	       ext_kb, above16, cmos_top, above4g);
	printf("e820: RAM below 4 GiB ends at 0x%lx, 0x%lx bytes above 4 GiB\n", ram_top_low,
	       ram_high);
	report(ram_top_low > 16 * MiB, "e820 has RAM above 16 MiB");
	report(cmos_top >= ram_top_low && e820_covered(ram_top_low, cmos_top),
	       "CMOS 0x34/0x35 low-memory top 0x%lx matches e820 (RAM to 0x%lx, rest reserved)",
	       cmos_top, ram_top_low);
	/* at 64 MiB and more the 16-bit field saturates: QEMU writes 0xffff,
	 * Bochs-style CMOS 0xfc00 (63 MiB); firmware then reads 0x34/0x35 */
	report(ext_kb == want_ext || (want_ext >= 0xfc00 && ext_kb == 0xfc00),
	       "CMOS 0x30/0x31 extended memory %u KiB (expected %lu, or 0xfc00 when saturated)",
	       ext_kb, want_ext);
	report(above4g * 64 * KiB == ram_high,
	       "CMOS 0x5b..0x5d memory above 4 GiB 0x%lx equals e820 0x%lx", above4g * 64 * KiB,
	       ram_high);
}

// Run all RTC/CMOS checks.
int main(void)
{
	struct rtc_time t = check_time();

	check_advancing(t);
	check_pmtimer_rate();
	check_memory_fields();
	return report_summary();
}
