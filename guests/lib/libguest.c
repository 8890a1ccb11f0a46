/*
 * The guests' runtime (see libguest.h): entry from start.S, COM1 output,
 * report()/exit, boot_params and the command line, exceptions, PCI config
 * access and the PM timer. AP start-up lives in ap.c.
 */
#include "libguest.h"

/* ---- C library subset ---- */

// Copy n bytes; the regions must not overlap.
void *memcpy(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

// Copy n bytes between possibly overlapping regions.
void *memmove(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	if (d < s)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

// Fill n bytes with c.
void *memset(void *dst, int c, size_t n)
{
	u8 *d = dst;

	while (n--)
		*d++ = (u8)c;
	return dst;
}

// Compare n bytes.
int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

// Length of a NUL-terminated string.
size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

// Compare at most n characters.
int strncmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i])
			return (u8)a[i] - (u8)b[i];
		if (!a[i])
			break;
	}
	return 0;
}

/* ---- COM1 ---- */

#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_LSR_THRE 0x20

static int print_lock;

// 115200 8N1, FIFOs on, no interrupts.
static void serial_init(void)
{
	outb(PORT_COM1 + UART_IER, 0);
	outb(PORT_COM1 + UART_LCR, 0x80);
	outb(PORT_COM1 + 0, 1);	/* divisor 1 = 115200 */
	outb(PORT_COM1 + 1, 0);
	outb(PORT_COM1 + UART_LCR, 0x03);
	outb(PORT_COM1 + UART_FCR, 0xc7);
	outb(PORT_COM1 + UART_MCR, 0x0b);
}

// Send one byte; the wait for THRE is bounded so a missing UART cannot hang us.
static void serial_putc(char c)
{
	for (int i = 0; i < 100000; i++)
		if (inb(PORT_COM1 + UART_LSR) & UART_LSR_THRE)
			break;
	outb(PORT_COM1 + UART_THR, (u8)c);
}

// Take the print lock, giving up after a while (an exception may hold it).
static void print_acquire(void)
{
	for (long i = 0; i < 100000000; i++) {
		if (!__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE))
			return;
		cpu_relax();
	}
}

// Release the print lock.
static void print_release(void)
{
	__atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}

/* ---- printf ---- */

struct outbuf {
	char buf[256];
	size_t len;
	int total;
};

// Flush the buffered bytes to COM1.
static void out_flush(struct outbuf *o)
{
	for (size_t i = 0; i < o->len; i++)
		serial_putc(o->buf[i]);
	o->len = 0;
}

// Append one character, flushing when the buffer is full.
static void out_char(struct outbuf *o, char c)
{
	if (o->len == sizeof(o->buf))
		out_flush(o);
	o->buf[o->len++] = c;
	o->total++;
}

// Append v in base with at least width digits (pad with '0' or ' ').
static void out_num(struct outbuf *o, u64 v, int base, bool neg, int width, char pad)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		width--;
	if (neg && pad == '0')
		out_char(o, '-');
	for (; width > n; width--)
		out_char(o, pad);
	if (neg && pad == ' ')
		out_char(o, '-');
	while (n)
		out_char(o, tmp[--n]);
}

// The formatter: %d %i %u %x %p %s %c %% with l/ll/z, width, 0 flag, %.Ns.
static void out_format(struct outbuf *o, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int longs = 0, width = 0, prec = -1;
		char pad = ' ';
		u64 u;

		if (*fmt != '%') {
			out_char(o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		if (*fmt == '.')
			for (prec = 0, fmt++; *fmt >= '0' && *fmt <= '9'; fmt++)
				prec = prec * 10 + (*fmt - '0');
		while (*fmt == 'l' || *fmt == 'z') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			long long v = longs ? va_arg(ap, long long) : va_arg(ap, int);

			out_num(o, v < 0 ? -(u64)v : (u64)v, 10, v < 0, width, pad);
			break;
		}
		case 'u':
		case 'x':
			u = longs ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
			out_num(o, u, *fmt == 'x' ? 16 : 10, false, width, pad);
			break;
		case 'p':
			out_char(o, '0');
			out_char(o, 'x');
			out_num(o, (u64)(uintptr_t)va_arg(ap, void *), 16, false, width, pad);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);

			int n = 0;

			if (!s)
				s = "(null)";
			while (s[n] && (prec < 0 || n < prec))
				n++;
			for (int w = n; width > w; w--)
				out_char(o, ' ');
			for (int i = 0; i < n; i++)
				out_char(o, s[i] >= ' ' && s[i] < 0x7f ? s[i] : '?');
			break;
		}
		case 'c':
			out_char(o, (char)va_arg(ap, int));
			break;
		case '\0':
			return;
		default:
			out_char(o, *fmt);
			break;
		}
	}
}

// printf to COM1 with a va_list.
int vprintf(const char *fmt, va_list ap)
{
	struct outbuf o = { .len = 0, .total = 0 };

	print_acquire();
	out_format(&o, fmt, ap);
	out_flush(&o);
	print_release();
	return o.total;
}

// printf to COM1.
int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

/* ---- report ---- */

static int tests_run, tests_failed, tests_skipped;

// "PREFIX: message\n" as one locked write.
static void report_line(const char *prefix, const char *fmt, va_list ap)
{
	struct outbuf o = { .len = 0, .total = 0 };

	print_acquire();
	while (*prefix)
		out_char(&o, *prefix++);
	out_format(&o, fmt, ap);
	out_char(&o, '\n');
	out_flush(&o);
	print_release();
}

// Count one check and print its result.
void report(bool pass, const char *fmt, ...)
{
	va_list ap;

	__atomic_fetch_add(&tests_run, 1, __ATOMIC_RELAXED);
	if (!pass)
		__atomic_fetch_add(&tests_failed, 1, __ATOMIC_RELAXED);
	va_start(ap, fmt);
	report_line(pass ? "PASS: " : "FAIL: ", fmt, ap);
	va_end(ap);
}

// Count a check that could not run.
void report_skip(const char *fmt, ...)
{
	va_list ap;

	__atomic_fetch_add(&tests_skipped, 1, __ATOMIC_RELAXED);
	va_start(ap, fmt);
	report_line("SKIP: ", fmt, ap);
	va_end(ap);
}

// Print the totals; the failure count becomes the exit status.
int report_summary(void)
{
	printf("SUMMARY: %d tests, %d failures, %d skipped\n", tests_run, tests_failed,
	       tests_skipped);
	if (tests_run == 0)
		return 1; /* a guest that checked nothing has failed */
	return tests_failed > 0x6f ? 0x6f : tests_failed;
}

// Write the status to the debug-exit port; if the VMM does not stop us, halt.
void guest_exit(int status)
{
	printf("ptvm-guest: exit status %d\n", status);
	outb(PORT_DEBUG_EXIT, (u8)status);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- boot_params and the command line ---- */

static u8 bp_copy[BP_SIZE] __attribute__((aligned(16)));
static u64 bp_addr;
static char cmdline_copy[GUEST_CMDLINE_MAX];

// Little-endian field readers for boot_params.
static u32 bp_u32(int off)
{
	u32 v;

	memcpy(&v, bp_copy + off, 4);
	return v;
}

// boot_params as given at entry.
const u8 *boot_params(void)
{
	return bp_copy;
}

// Where the loader put boot_params.
u64 boot_params_addr(void)
{
	return bp_addr;
}

// The command line.
const char *cmdline(void)
{
	return cmdline_copy;
}

// Find "key=" (or bare "key" when want_value is false) at a word start.
static const char *cmdline_find(const char *key, bool want_value)
{
	size_t kl = strlen(key);
	const char *p = cmdline_copy;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, kl)) {
			char c = p[kl];

			if (c == '=')
				return p + kl + 1;
			if (!want_value && (c == ' ' || c == '\0'))
				return p + kl;
		}
		while (*p && *p != ' ')
			p++;
	}
	return NULL;
}

// Copy key's value (up to the next space).
bool cmdline_get(const char *key, char *buf, size_t len)
{
	const char *v = cmdline_find(key, true);
	size_t n = 0;

	if (!v || !len)
		return false;
	while (v[n] && v[n] != ' ' && n + 1 < len) {
		buf[n] = v[n];
		n++;
	}
	buf[n] = '\0';
	return true;
}

// Parse decimal or 0x hex.
bool parse_u64(const char **s, u64 *out)
{
	const char *p = *s;
	u64 v = 0;
	int base = 10, digits = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (;; p++, digits++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		v = v * base + d;
	}
	if (!digits)
		return false;
	*s = p;
	*out = v;
	return true;
}

// key=NUMBER or def.
u64 cmdline_get_u64(const char *key, u64 def)
{
	char buf[32];
	const char *p = buf;
	u64 v;

	if (!cmdline_get(key, buf, sizeof(buf)) || !parse_u64(&p, &v) || *p)
		return def;
	return v;
}

// Bare word or key=... present.
bool cmdline_has(const char *word)
{
	return cmdline_find(word, false) != NULL;
}

// Size with an optional K/M/G suffix.
bool parse_size(const char *s, u64 *out)
{
	u64 v;

	if (!parse_u64(&s, &v))
		return false;
	switch (*s) {
	case 'k': case 'K': v *= KiB; s++; break;
	case 'm': case 'M': v *= MiB; s++; break;
	case 'g': case 'G': v *= GiB; s++; break;
	default: break;
	}
	if (*s)
		return false;
	*out = v;
	return true;
}

// Number of e820 entries (clamped to the table size).
int e820_count(void)
{
	int n = bp_copy[BP_E820_ENTRIES];

	return n > E820_MAX_ENTRIES ? E820_MAX_ENTRIES : n;
}

// e820 entry i (20 bytes each: addr, size, type).
struct e820 e820_get(int i)
{
	const u8 *e = bp_copy + BP_E820_TABLE + 20 * i;
	struct e820 r;

	memcpy(&r.addr, e, 8);
	memcpy(&r.size, e + 8, 8);
	memcpy(&r.type, e + 16, 4);
	return r;
}

// Copy boot_params and the command line before anything can overwrite them.
static void boot_params_save(u64 addr)
{
	u64 cmd;

	bp_addr = addr;
	if (!addr)
		return;
	memcpy(bp_copy, (const void *)addr, BP_SIZE);
	cmd = bp_u32(BP_CMD_LINE_PTR) | (u64)bp_u32(BP_EXT_CMD_LINE_PTR) << 32;
	if (cmd && cmd < 4 * GiB) {
		const char *src = (const char *)cmd;
		size_t n = 0;

		while (n + 1 < sizeof(cmdline_copy) && src[n]) {
			cmdline_copy[n] = src[n];
			n++;
		}
		cmdline_copy[n] = '\0';
	}
}

/* ---- exceptions and interrupts ---- */

#define IDT_ENTRIES (IRQ_VECTOR_FIRST + IRQ_VECTOR_COUNT)

struct idt_entry {
	u16 off_lo;
	u16 sel;
	u8 ist;
	u8 type;
	u16 off_mid;
	u32 off_hi;
	u32 zero;
} __attribute__((packed));

/* Saved by trap_common in start.S: r15 first (lowest address). */
struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error, rip, cs, rflags, rsp, ss;
};

extern const u64 trap_stubs[IDT_ENTRIES];
static struct idt_entry idt[IDT_ENTRIES] __attribute__((aligned(16)));
static void (*volatile trap_handlers[IDT_ENTRIES])(int vector);

static const char *const exc_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP",
	"#SS", "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

void trap_dispatch(struct trap_frame *f);
void idt_load(void);

// Report an unexpected exception or interrupt and leave with EXIT_EXCEPTION.
static void trap_fatal(const struct trap_frame *f)
{
	u64 cr2;
	const char *name = f->vector < 32 && exc_names[f->vector] ? exc_names[f->vector] :
			   f->vector < 32 ? "?" : "interrupt";

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	print_release(); /* we may have trapped inside printf */
	printf("EXCEPTION: vector %lu (%s) rip 0x%lx error 0x%lx cr2 0x%lx rsp 0x%lx apic %u\n",
	       f->vector, name, f->rip, f->error, cr2, f->rsp, lapic_id());
	printf("  rax %lx rbx %lx rcx %lx rdx %lx rsi %lx rdi %lx\n", f->rax, f->rbx,
	       f->rcx, f->rdx, f->rsi, f->rdi);
	guest_exit(EXIT_EXCEPTION);
}

// Every trap lands here: run its handler (interrupts: then EOI), or die.
void trap_dispatch(struct trap_frame *f)
{
	void (*fn)(int vector) = f->vector < IDT_ENTRIES ? trap_handlers[f->vector] : NULL;

	if (f->vector == SPURIOUS_VECTOR)
		return; /* not in service: no EOI */
	if (!fn)
		trap_fatal(f);
	fn((int)f->vector);
	if (f->vector >= IRQ_VECTOR_FIRST)
		lapic_eoi();
}

// Install fn for vector (NULL: unexpected again).
void trap_set_handler(int vector, void (*fn)(int vector))
{
	if (vector >= 0 && vector < IDT_ENTRIES)
		trap_handlers[vector] = fn;
}

// Fill the IDT with the stubs (interrupt gates, our 64-bit CS).
static void idt_init(void)
{
	for (int i = 0; i < IDT_ENTRIES; i++) {
		u64 a = trap_stubs[i];

		idt[i].off_lo = (u16)a;
		idt[i].sel = BOOT_CS;
		idt[i].ist = 0;
		idt[i].type = 0x8e;
		idt[i].off_mid = (u16)(a >> 16);
		idt[i].off_hi = (u32)(a >> 32);
		idt[i].zero = 0;
	}
}

// Load the IDT on this CPU (the BSP at start, each AP in ap_start).
void idt_load(void)
{
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) d = { sizeof(idt) - 1, (u64)(uintptr_t)idt };

	__asm__ volatile("lidt %0" : : "m"(d));
}

void guest_start(u64 bp);

// Called by start.S on the BSP stack with .bss zeroed; never returns.
void guest_start(u64 bp)
{
	serial_init();
	idt_init();
	idt_load();
	/* firmware may have left the 8259s on vectors 8..15, where a timer tick
	 * would pass for a double fault: only the IOAPIC delivers to guests */
	pic_mask_all();
	lapic_enable();
	boot_params_save(bp);
	if (!bp) {
		printf("ptvm-guest: no boot_params (RSI = 0)\n");
		guest_exit(EXIT_BAD_BOOT);
	}
	guest_exit(main());
}

/* ---- PCI configuration space ---- */

// The CF8 address of a dword-aligned register.
static u32 cf8_addr(int bus, int dev, int fn, int off)
{
	return 0x80000000u | (u32)bus << 16 | (u32)dev << 11 | (u32)fn << 8 | (off & 0xfc);
}

// Read a dword through CF8/CFC.
u32 pci_cf8_read32(int bus, int dev, int fn, int off)
{
	outl(PORT_PCI_ADDR, cf8_addr(bus, dev, fn, off));
	return inl(PORT_PCI_DATA);
}

// Write a dword through CF8/CFC.
void pci_cf8_write32(int bus, int dev, int fn, int off, u32 v)
{
	outl(PORT_PCI_ADDR, cf8_addr(bus, dev, fn, off));
	outl(PORT_PCI_DATA, v);
}

// Read a word through CF8/CFC (the data port offset selects the word).
u16 pci_cf8_read16(int bus, int dev, int fn, int off)
{
	outl(PORT_PCI_ADDR, cf8_addr(bus, dev, fn, off));
	return inw(PORT_PCI_DATA + (off & 2));
}

// The ECAM address of a register.
static u64 ecam_addr(int bus, int dev, int fn, int off)
{
	return ECAM_BASE + ((u64)bus << 20 | (u64)dev << 15 | (u64)fn << 12 | (u64)off);
}

// Read a dword through ECAM.
u32 pci_ecam_read32(int bus, int dev, int fn, int off)
{
	return mmio_read32(ecam_addr(bus, dev, fn, off & 0xffc));
}

// Read a word through ECAM.
u16 pci_ecam_read16(int bus, int dev, int fn, int off)
{
	return mmio_read16(ecam_addr(bus, dev, fn, off & 0xffe));
}

/* ---- PM timer ---- */

static int pmtimer_state; /* 0 unknown, 1 works, -1 does not tick */

// The 24-bit PM timer count.
u32 pmtimer_read(void)
{
	return inl(PORT_PM_TMR) & 0xffffff;
}

// Does the PM timer tick? Ask once: it must change within a few thousand reads.
bool pmtimer_works(void)
{
	if (!pmtimer_state) {
		u32 first = pmtimer_read();

		pmtimer_state = -1;
		for (int i = 0; i < 100000; i++) {
			if (pmtimer_read() != first) {
				pmtimer_state = 1;
				break;
			}
		}
	}
	return pmtimer_state > 0;
}

// Wait about us microseconds (3.579545 ticks per microsecond).
void udelay(u32 us)
{
	if (pmtimer_works()) {
		u64 need = (u64)us * 3579545 / 1000000, done = 0;
		u32 last = pmtimer_read();

		while (done < need) {
			u32 now = pmtimer_read();

			done += (now - last) & 0xffffff;
			last = now;
		}
		return;
	}
	/* no timer: each port read is a VM exit, roughly a microsecond or more */
	for (u64 i = 0; i < us; i++)
		inb(0x80);
}
