/*
 * MC146818 RTC/CMOS. The chip model (pure, time passed in) comes first, then
 * the glue: ports 0x70/0x71, the host clock, and a thread that raises IRQ 8
 * when an enabled update, alarm or periodic event is due.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/rtc.h"
#include "vmm/layout.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define NSEC 1000000000LL
#define RTC_MAX_ALARM_SCAN 86400 /* one day of seconds covers every alarm pattern */
/* Latest guest time (2200-01-01): guest nanoseconds and the offset to host
 * time must fit an s64 (which ends in 2262) with room to run. A guest that
 * sets a later date (9999, or BCD garbage) gets this one. */
#define RTC_MAX_GUEST_SECS 7258118400LL

/* ---- chip model ---- */

// Floor division (time can be before the epoch if the guest sets it so).
static s64 rtc_fdiv(s64 a, s64 b)
{
	s64 q = a / b;

	return (a % b && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Binary value to register encoding: BCD unless register B says binary.
u8 rtc_to_reg(u8 regb, unsigned int val)
{
	if (regb & RTC_B_DM_BINARY)
		return (u8)val;
	return (u8)(((val / 10) << 4) | (val % 10));
}

// Register encoding to binary value.
unsigned int rtc_from_reg(u8 regb, u8 val)
{
	if (regb & RTC_B_DM_BINARY)
		return val;
	return (val >> 4) * 10 + (val & 0x0f);
}

// Hour 0-23 to register value, 12-hour mode with bit 7 = PM.
u8 rtc_hour_to_reg(u8 regb, unsigned int hour)
{
	unsigned int h12;

	if (regb & RTC_B_24H)
		return rtc_to_reg(regb, hour);
	h12 = hour % 12 ? hour % 12 : 12; /* 0h is 12 AM, 12h is 12 PM */
	return rtc_to_reg(regb, h12) | (hour >= 12 ? 0x80 : 0);
}

// Register value to hour 0-23.
unsigned int rtc_hour_from_reg(u8 regb, u8 val)
{
	unsigned int h;

	if (regb & RTC_B_24H)
		return rtc_from_reg(regb, val);
	h = rtc_from_reg(regb, val & 0x7f) % 12;
	return (val & 0x80) ? h + 12 : h;
}

// The clock is running: divider in normal mode and SET clear.
static bool rtc_running(const struct rtc_state *c)
{
	return (c->ram[RTC_REG_A] & 0x70) == RTC_A_DV_NORMAL && !(c->ram[RTC_REG_B] & RTC_B_SET);
}

// Broken-down guest time at host time now_ns.
static void rtc_guest_tm(const struct rtc_state *c, s64 now_ns, struct tm *tm)
{
	time_t t = (time_t)rtc_fdiv(now_ns + c->offset_ns, NSEC);

	gmtime_r(&t, tm);
}

// Encode one time register from tm in the register B format.
static u8 rtc_encode(u8 regb, u8 reg, const struct tm *tm)
{
	unsigned int year = (unsigned int)tm->tm_year + 1900;

	switch (reg) {
	case RTC_SECONDS: return rtc_to_reg(regb, (unsigned int)tm->tm_sec);
	case RTC_MINUTES: return rtc_to_reg(regb, (unsigned int)tm->tm_min);
	case RTC_HOURS: return rtc_hour_to_reg(regb, (unsigned int)tm->tm_hour);
	case RTC_DAY_OF_WEEK: return rtc_to_reg(regb, (unsigned int)tm->tm_wday + 1);
	case RTC_DAY_OF_MONTH: return rtc_to_reg(regb, (unsigned int)tm->tm_mday);
	case RTC_MONTH: return rtc_to_reg(regb, (unsigned int)tm->tm_mon + 1);
	case RTC_YEAR: return rtc_to_reg(regb, year % 100);
	case RTC_CENTURY: return rtc_to_reg(regb, year / 100);
	default: return 0;
	}
}

// A time register (as opposed to alarm, control or NVRAM).
static bool rtc_is_time_reg(u8 reg)
{
	return reg == RTC_SECONDS || reg == RTC_MINUTES || reg == RTC_HOURS ||
	       (reg >= RTC_DAY_OF_WEEK && reg <= RTC_YEAR) || reg == RTC_CENTURY;
}

// Copy the running time into the time registers (entering SET mode).
static void rtc_latch(struct rtc_state *c, s64 now_ns)
{
	static const u8 regs[] = { RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK,
				   RTC_DAY_OF_MONTH, RTC_MONTH, RTC_YEAR, RTC_CENTURY };
	struct tm tm;

	rtc_guest_tm(c, now_ns, &tm);
	for (size_t i = 0; i < ARRAY_SIZE(regs); i++)
		c->ram[regs[i]] = rtc_encode(c->ram[RTC_REG_B], regs[i], &tm);
}

// Make the time registers the running time: the guest set the clock.
static void rtc_set_from_regs(struct rtc_state *c, s64 now_ns)
{
	u8 b = c->ram[RTC_REG_B];
	unsigned int year = rtc_from_reg(b, c->ram[RTC_YEAR]);
	unsigned int century = rtc_from_reg(b, c->ram[RTC_CENTURY]);
	s64 secs;
	struct tm tm = {
		.tm_sec = (int)rtc_from_reg(b, c->ram[RTC_SECONDS]),
		.tm_min = (int)rtc_from_reg(b, c->ram[RTC_MINUTES]),
		.tm_hour = (int)rtc_hour_from_reg(b, c->ram[RTC_HOURS]),
		.tm_mday = (int)rtc_from_reg(b, c->ram[RTC_DAY_OF_MONTH]),
		.tm_mon = (int)rtc_from_reg(b, c->ram[RTC_MONTH]) - 1,
	};

	/* a guest that never wrote 0x32 still gets a sane century */
	if (century < 19 || century > 99)
		century = year < 70 ? 20 : 19;
	tm.tm_year = (int)(century * 100 + year) - 1900;
	secs = (s64)timegm(&tm);
	/* the divider restarts: the new second begins now */
	c->offset_ns = MIN(secs, RTC_MAX_GUEST_SECS) * NSEC - now_ns;
	c->last_ns = now_ns;
}

// Sum of the checksummed CMOS range.
u16 rtc_cmos_checksum(const struct rtc_state *c)
{
	u16 sum = 0;

	for (int i = 0x10; i <= 0x2d; i++)
		sum += c->ram[i];
	return sum;
}

// Store a 16-bit little-endian CMOS field.
static void rtc_put16(struct rtc_state *c, u8 reg, u64 val)
{
	c->ram[reg] = (u8)val;
	c->ram[reg + 1] = (u8)(val >> 8);
}

// Power-on registers and the CMOS memory-size bytes for layout l.
void rtc_state_init(struct rtc_state *c, const struct layout *l, int nr_cpus, s64 now_ns)
{
	u64 ext = 0, m16 = 0, high = l->high_ram_size / (64 * KiB);
	u16 sum;

	memset(c, 0, sizeof(*c));
	c->ram[RTC_REG_A] = RTC_A_DV_NORMAL | 0x06; /* 1024 Hz periodic rate */
	c->ram[RTC_REG_B] = RTC_B_24H;
	c->ram[RTC_REG_D] = RTC_D_VRT;
	c->last_ns = now_ns;

	if (l->low_ram_size > 1 * MiB)
		ext = MIN((l->low_ram_size - 1 * MiB) / KiB, 0xfc00);
	if (l->low_ram_size > 16 * MiB)
		m16 = MIN((l->low_ram_size - 16 * MiB) / (64 * KiB), 0xffff);
	high = MIN(high, 0xffffff);
	rtc_put16(c, CMOS_BASE_MEM_LO, 640);
	rtc_put16(c, CMOS_EXT_MEM_LO, ext);
	rtc_put16(c, CMOS_EXT_MEM2_LO, ext);
	rtc_put16(c, CMOS_MEM_16M_LO, m16);
	c->ram[CMOS_MEM_HIGH_LO] = (u8)high;
	c->ram[CMOS_MEM_HIGH_LO + 1] = (u8)(high >> 8);
	c->ram[CMOS_MEM_HIGH_LO + 2] = (u8)(high >> 16);
	c->ram[CMOS_NR_CPUS] = (u8)(nr_cpus - 1);
	sum = rtc_cmos_checksum(c);
	c->ram[CMOS_CHECKSUM_HI] = (u8)(sum >> 8);
	c->ram[CMOS_CHECKSUM_LO] = (u8)sum;
}

// Alarm byte matches a value: 0xC0-0xFF is "don't care".
static bool rtc_alarm_field(u8 regb, u8 alarm, unsigned int val, bool hour)
{
	if ((alarm & 0xc0) == 0xc0)
		return true;
	return (hour ? rtc_hour_from_reg(regb, alarm) : rtc_from_reg(regb, alarm)) == val;
}

// The alarm matches guest second t (seconds since the epoch of the shown clock).
static bool rtc_alarm_at(const struct rtc_state *c, s64 t)
{
	u8 b = c->ram[RTC_REG_B];
	s64 day = t - rtc_fdiv(t, 86400) * 86400;

	return rtc_alarm_field(b, c->ram[RTC_SECONDS_ALARM], (unsigned int)(day % 60), false) &&
	       rtc_alarm_field(b, c->ram[RTC_MINUTES_ALARM], (unsigned int)(day / 60 % 60), false) &&
	       rtc_alarm_field(b, c->ram[RTC_HOURS_ALARM], (unsigned int)(day / 3600), true);
}

// Periodic interrupt period as a shift of the 32.768 kHz clock; -1 if off.
static int rtc_period_shift(const struct rtc_state *c)
{
	unsigned int rate = c->ram[RTC_REG_A] & RTC_A_RATE;

	if (!rate)
		return -1;
	if (rate < 3)
		rate += 7; /* rates 1 and 2 repeat 256 Hz and 128 Hz */
	return (int)rate - 1;
}

// Guest time in 32.768 kHz ticks.
static s64 rtc_ticks_32k(s64 guest_ns)
{
	s64 s = rtc_fdiv(guest_ns, NSEC);

	return s * 32768 + (guest_ns - s * NSEC) * 32768 / NSEC;
}

// Set IRQF when an enabled flag is latched. Returns IRQF.
static bool rtc_update_irqf(struct rtc_state *c)
{
	u8 flags = c->ram[RTC_REG_C] & (RTC_C_PF | RTC_C_AF | RTC_C_UF);

	/* PIE/AIE/UIE sit at the same bit positions as PF/AF/UF */
	if (flags & c->ram[RTC_REG_B])
		c->ram[RTC_REG_C] |= RTC_C_IRQF;
	return c->ram[RTC_REG_C] & RTC_C_IRQF;
}

// Latch update/alarm/periodic flags for the time since the last scan.
bool rtc_tick(struct rtc_state *c, s64 now_ns)
{
	s64 g_last = c->last_ns + c->offset_ns, g_now = now_ns + c->offset_ns;
	s64 s_last, s_now;
	int shift;

	if (!rtc_running(c) || now_ns <= c->last_ns) {
		if (now_ns > c->last_ns)
			c->last_ns = now_ns;
		return rtc_update_irqf(c);
	}
	s_last = rtc_fdiv(g_last, NSEC);
	s_now = rtc_fdiv(g_now, NSEC);
	if (s_now > s_last) {
		c->ram[RTC_REG_C] |= RTC_C_UF;
		for (s64 t = MAX(s_last + 1, s_now - RTC_MAX_ALARM_SCAN + 1); t <= s_now; t++) {
			if (rtc_alarm_at(c, t)) {
				c->ram[RTC_REG_C] |= RTC_C_AF;
				break;
			}
		}
	}
	shift = rtc_period_shift(c);
	if (shift >= 0 && (rtc_ticks_32k(g_now) >> shift) > (rtc_ticks_32k(g_last) >> shift))
		c->ram[RTC_REG_C] |= RTC_C_PF;
	c->last_ns = now_ns;
	return rtc_update_irqf(c);
}

// When the next enabled event is due, in host time; -1 if none.
s64 rtc_next_event(const struct rtc_state *c, s64 now_ns)
{
	u8 b = c->ram[RTC_REG_B];
	s64 g = now_ns + c->offset_ns, next = 0;
	int shift = rtc_period_shift(c);
	bool any = false; /* guest times before 1970 are negative: no -1 sentinel */

	if (!rtc_running(c))
		return -1;
	if (b & (RTC_B_UIE | RTC_B_AIE)) { /* alarms are checked at each update */
		next = (rtc_fdiv(g, NSEC) + 1) * NSEC;
		any = true;
	}
	if ((b & RTC_B_PIE) && shift >= 0) {
		/* a multiply, not <<: the count is negative before 1970 */
		s64 t = ((rtc_ticks_32k(g) >> shift) + 1) * ((s64)1 << shift);
		s64 s = rtc_fdiv(t, 32768);
		/* round up so the tick count at that instant has reached t */
		s64 ns = s * NSEC + ((t - s * 32768) * NSEC + 32767) / 32768;

		if (!any || ns < next)
			next = ns;
		any = true;
	}
	return any ? next - c->offset_ns : -1;
}

// Guest read of register reg (time computed at now_ns).
u8 rtc_state_read(struct rtc_state *c, u8 reg, s64 now_ns)
{
	struct tm tm;
	u8 v;

	reg &= 0x7f;
	if (rtc_is_time_reg(reg)) {
		if (!rtc_running(c))
			return c->ram[reg]; /* SET: what the guest latched or wrote */
		rtc_guest_tm(c, now_ns, &tm);
		return rtc_encode(c->ram[RTC_REG_B], reg, &tm);
	}
	switch (reg) {
	case RTC_REG_A:
		v = c->ram[RTC_REG_A] & ~RTC_A_UIP;
		if (rtc_running(c)) {
			s64 g = now_ns + c->offset_ns;

			if (g - rtc_fdiv(g, NSEC) * NSEC >= NSEC - RTC_UIP_NS)
				v |= RTC_A_UIP;
		}
		return v;
	case RTC_REG_C:
		rtc_tick(c, now_ns);
		v = c->ram[RTC_REG_C];
		c->ram[RTC_REG_C] = 0; /* reading C acknowledges everything */
		return v;
	case RTC_REG_D:
		return RTC_D_VRT;
	default:
		return c->ram[reg];
	}
}

// Guest write of register reg: time setting, control registers, NVRAM.
void rtc_state_write(struct rtc_state *c, u8 reg, u8 val, s64 now_ns)
{
	u8 old;

	reg &= 0x7f;
	if (rtc_is_time_reg(reg)) {
		if (!(c->ram[RTC_REG_B] & RTC_B_SET)) {
			/* a write while running sets that field of the running clock */
			rtc_tick(c, now_ns);
			rtc_latch(c, now_ns);
			c->ram[reg] = val;
			rtc_set_from_regs(c, now_ns);
		} else {
			c->ram[reg] = val;
		}
		return;
	}
	switch (reg) {
	case RTC_REG_A:
		rtc_tick(c, now_ns); /* events so far count at the old rate */
		c->ram[RTC_REG_A] = val & ~RTC_A_UIP;
		return;
	case RTC_REG_B:
		rtc_tick(c, now_ns);
		old = c->ram[RTC_REG_B];
		if (val & RTC_B_SET)
			val &= ~RTC_B_UIE; /* setting SET clears UIE, per the datasheet */
		if (!(old & RTC_B_SET) && (val & RTC_B_SET)) {
			c->ram[RTC_REG_B] = val;
			rtc_latch(c, now_ns);
		} else if ((old & RTC_B_SET) && !(val & RTC_B_SET)) {
			c->ram[RTC_REG_B] = val;
			rtc_set_from_regs(c, now_ns);
		} else {
			c->ram[RTC_REG_B] = val;
		}
		rtc_update_irqf(c);
		return;
	case RTC_REG_C:
	case RTC_REG_D:
		return; /* read-only */
	default:
		c->ram[reg] = val; /* alarm bytes and NVRAM */
		return;
	}
}

/* ---- glue ---- */

struct rtc {
	struct vm *vm;
	struct bus_region region;
	struct rtc_state st;
	bool localtime;
	bool irq_level;
	pthread_t thread;
	pthread_cond_t cond; /* CLOCK_MONOTONIC; signalled when registers change */
	bool stopping;       /* under vm->lock */
};

// The clock the guest sees before its own offset: host UTC, or local time.
static s64 rtc_host_now(const struct rtc *rtc)
{
	struct timespec ts;
	s64 ns;

	clock_gettime(CLOCK_REALTIME, &ts);
	ns = (s64)ts.tv_sec * NSEC + ts.tv_nsec;
	if (rtc->localtime) {
		struct tm tm;

		localtime_r(&ts.tv_sec, &tm);
		ns += (s64)tm.tm_gmtoff * NSEC;
	}
	return ns;
}

// Drive IRQ 8 to IRQF when it changed. vm->lock held.
static void rtc_update_irq(struct rtc *rtc)
{
	bool level = rtc->st.ram[RTC_REG_C] & RTC_C_IRQF;

	if (level != rtc->irq_level) {
		rtc->irq_level = level;
		irq_line(rtc->vm, IRQ_RTC, level);
	}
}

// Bus callback for 0x70 (index) and 0x71 (data), byte by byte.
static void rtc_access(void *opaque, struct bus_access *a)
{
	struct rtc *rtc = opaque;
	s64 now = rtc_host_now(rtc);

	for (u32 i = 0; i < a->len; i++) {
		u64 off = a->offset + i;

		if (off == 0 && a->is_write) {
			rtc->st.index = a->data[i] & 0x7f; /* bit 7: NMI mask, ignored */
		} else if (off == 1 && a->is_write) {
			rtc_state_write(&rtc->st, rtc->st.index, a->data[i], now);
			pthread_cond_signal(&rtc->cond); /* the next event may have moved */
		} else if (off == 1) {
			a->data[i] = rtc_state_read(&rtc->st, rtc->st.index, now);
		} else if (!a->is_write) {
			a->data[i] = 0xff; /* the index port is write-only */
		}
	}
	rtc_update_irq(rtc);
}

// Timer thread: sleeps until the next enabled event, latches it, raises IRQ 8.
static void *rtc_thread(void *arg)
{
	struct rtc *rtc = arg;

	vm_lock(rtc->vm);
	while (!rtc->stopping) {
		s64 now = rtc_host_now(rtc), next;
		struct timespec dl;

		rtc_tick(&rtc->st, now);
		rtc_update_irq(rtc);
		next = rtc_next_event(&rtc->st, now);
		if (next < 0) {
			pthread_cond_wait(&rtc->cond, &rtc->vm->lock);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &dl);
		next = (s64)dl.tv_sec * NSEC + dl.tv_nsec + (next - now);
		dl.tv_sec = next / NSEC;
		dl.tv_nsec = next % NSEC;
		pthread_cond_timedwait(&rtc->cond, &rtc->vm->lock, &dl);
	}
	vm_unlock(rtc->vm);
	return NULL;
}

// Register ports 0x70-0x71 and start the interrupt thread.
struct rtc *rtc_create(struct vm *vm, const struct layout *l, int nr_cpus, bool localtime)
{
	struct rtc *rtc = calloc(1, sizeof(*rtc));
	pthread_condattr_t ca;
	int ret;

	if (!rtc) {
		pr_err("rtc: out of memory");
		return NULL;
	}
	rtc->vm = vm;
	rtc->localtime = localtime;
	rtc_state_init(&rtc->st, l, nr_cpus, rtc_host_now(rtc));
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rtc->cond, &ca);
	pthread_condattr_destroy(&ca);
	rtc->region = (struct bus_region){
		.name = "rtc", .space = BUS_PIO, .base = PORT_CMOS, .size = 2,
		.access = rtc_access, .opaque = rtc,
	};
	ret = bus_register(&vm->bus, &rtc->region);
	if (ret < 0) {
		pr_err("rtc: ports 0x70-0x71 are taken (%s)", strerror(-ret));
		goto err;
	}
	ret = pthread_create(&rtc->thread, NULL, rtc_thread, rtc);
	if (ret) {
		pr_err("rtc: cannot start the timer thread: %s", strerror(ret));
		bus_unregister(&vm->bus, &rtc->region);
		goto err;
	}
	return rtc;
err:
	pthread_cond_destroy(&rtc->cond);
	free(rtc);
	return NULL;
}

// Stop the thread and unregister.
void rtc_destroy(struct rtc *rtc)
{
	if (!rtc)
		return;
	vm_lock(rtc->vm);
	rtc->stopping = true;
	pthread_cond_signal(&rtc->cond);
	vm_unlock(rtc->vm);
	pthread_join(rtc->thread, NULL);
	pthread_cond_destroy(&rtc->cond);
	bus_unregister(&rtc->vm->bus, &rtc->region);
	free(rtc);
}
