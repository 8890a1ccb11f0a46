/*
 * MC146818 RTC and CMOS memory at ports 0x70 (index; bit 7 is the NMI mask,
 * ignored) and 0x71 (data), IRQ 8.
 *
 * The clock follows the host's CLOCK_REALTIME (UTC, or local time with
 * localtime=true) plus an offset the guest sets by writing the time
 * registers. Register B picks BCD or binary and 12 or 24 hours; register A's
 * UIP bit is set during the last 244 us of each second, as on the chip.
 * Update, alarm and periodic interrupts raise IRQ 8 until register C is read.
 *
 * CMOS bytes firmware reads (SeaBIOS, and the PC convention):
 *   0x15/0x16  base memory in KiB (640)
 *   0x17/0x18  extended memory 1 MiB..64 MiB in KiB (max 0xFC00); copied to 0x30/0x31
 *   0x34/0x35  RAM 16 MiB..low_ram_size in 64 KiB units (max 0xFFFF)
 *   0x5B-0x5D  RAM above 4 GiB in 64 KiB units (24 bits)
 *   0x5F       number of CPUs - 1
 *   0x2E/0x2F  checksum (big-endian) of bytes 0x10-0x2D
 *   0x32       century (in the register B format)
 *
 * struct rtc_state is the pure chip model: every call takes "now" in
 * nanoseconds since the epoch of the clock it shows (host time already
 * shifted to local time when asked), so tests control time.
 */
#ifndef PTVM_RTC_H
#define PTVM_RTC_H

#include "vmm/common.h"

struct vm;
struct rtc;
struct layout;

#define RTC_SECONDS 0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES 0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS 0x04
#define RTC_HOURS_ALARM 0x05
#define RTC_DAY_OF_WEEK 0x06 /* 1 = Sunday */
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32

#define RTC_A_UIP 0x80
#define RTC_A_DV_NORMAL 0x20 /* 32.768 kHz time base, divider running */
#define RTC_A_RATE 0x0f
#define RTC_B_SET 0x80
#define RTC_B_PIE 0x40
#define RTC_B_AIE 0x20
#define RTC_B_UIE 0x10
#define RTC_B_DM_BINARY 0x04
#define RTC_B_24H 0x02
#define RTC_C_IRQF 0x80
#define RTC_C_PF 0x40
#define RTC_C_AF 0x20
#define RTC_C_UF 0x10
#define RTC_D_VRT 0x80

#define RTC_UIP_NS 244000 /* UIP goes high this long before each update */

#define CMOS_BASE_MEM_LO 0x15
#define CMOS_EXT_MEM_LO 0x17
#define CMOS_CHECKSUM_HI 0x2e
#define CMOS_CHECKSUM_LO 0x2f
#define CMOS_EXT_MEM2_LO 0x30
#define CMOS_MEM_16M_LO 0x34
#define CMOS_MEM_HIGH_LO 0x5b
#define CMOS_NR_CPUS 0x5f

struct rtc_state {
	u8 ram[128];   /* registers 0x00-0x0d (time bytes only while SET), NVRAM after */
	u8 index;
	s64 offset_ns; /* guest clock - host clock */
	s64 last_ns;   /* host time of the last event scan (rtc_tick) */
};

/* Power-on state: 24h BCD, divider running, CMOS memory fields for l. */
void rtc_state_init(struct rtc_state *c, const struct layout *l, int nr_cpus, s64 now_ns);
/* Register index (0x00-0x7f) read and write. */
u8 rtc_state_read(struct rtc_state *c, u8 reg, s64 now_ns);
void rtc_state_write(struct rtc_state *c, u8 reg, u8 val, s64 now_ns);
/* Scan for update/alarm/periodic events since the last scan, latch their
 * flags in register C, and return the IRQ level (IRQF). */
bool rtc_tick(struct rtc_state *c, s64 now_ns);
/* Host time of the next event that can raise IRQF, or -1 if none is enabled. */
s64 rtc_next_event(const struct rtc_state *c, s64 now_ns);
/* Sum of CMOS bytes 0x10-0x2D (what 0x2E/0x2F hold). */
u16 rtc_cmos_checksum(const struct rtc_state *c);
/* Binary <-> register encoding per register B (BCD unless DM is set). */
u8 rtc_to_reg(u8 regb, unsigned int val);
unsigned int rtc_from_reg(u8 regb, u8 val);
/* Hour 0-23 <-> register value, honouring 12h mode (bit 7 = PM). */
u8 rtc_hour_to_reg(u8 regb, unsigned int hour);
unsigned int rtc_hour_from_reg(u8 regb, u8 val);

/* Claim 0x70-0x71 and start the interrupt timer thread. NULL on error. */
struct rtc *rtc_create(struct vm *vm, const struct layout *l, int nr_cpus, bool localtime);
/* Stop the thread and unregister. Call with vCPUs stopped. NULL is fine. */
void rtc_destroy(struct rtc *rtc);

#endif
