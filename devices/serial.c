/*
 * 16550A UART. The first half is the register state machine (pure); the
 * second half connects it to the bus, the IRQ line and the host fds.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "devices/serial.h"
#include "vmm/log.h"
#include "vmm/vm.h"

/* ---- register state machine (no vm, no fd) ---- */

// Power-on register values.
void serial_uart_reset(struct serial_uart *u)
{
	memset(u, 0, sizeof(*u));
	u->dll = 0x0c; /* 9600 baud */
	u->lcr = 0x03; /* 8N1 */
	u->msr = SERIAL_MSR_DCD | SERIAL_MSR_DSR | SERIAL_MSR_CTS;
}

// RX capacity: the FIFO with FCR.0 set, else the single holding register.
static unsigned int uart_rx_cap(const struct serial_uart *u)
{
	return (u->fcr & SERIAL_FCR_ENABLE) ? SERIAL_FIFO_SIZE : 1;
}

// FIFO trigger level from FCR bits 6-7: 1, 4, 8 or 14 bytes.
static unsigned int uart_rx_trigger(const struct serial_uart *u)
{
	static const unsigned int levels[4] = { 1, 4, 8, 14 };

	return levels[(u->fcr & SERIAL_FCR_TRIGGER) >> 6];
}

// Empty the receive FIFO (FCR clear, FIFO mode change).
static void uart_rx_clear(struct serial_uart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

// Free receive capacity; 0 in loopback, where the line is disconnected.
unsigned int serial_uart_rx_room(const struct serial_uart *u)
{
	if (u->mcr & SERIAL_MCR_LOOP)
		return 0;
	return uart_rx_cap(u) - u->rx_count;
}

// Put a byte into the receive FIFO; a full FIFO overruns as in hardware.
static bool uart_rx_push(struct serial_uart *u, u8 byte)
{
	if (u->rx_count >= uart_rx_cap(u)) {
		u->lsr_errs |= SERIAL_LSR_OE;
		return false;
	}
	u->rx[(u->rx_head + u->rx_count) % SERIAL_FIFO_SIZE] = byte;
	u->rx_count++;
	return true;
}

// A byte from the host line; ignored in loopback.
bool serial_uart_receive(struct serial_uart *u, u8 byte)
{
	if (u->mcr & SERIAL_MCR_LOOP)
		return false; /* receiver is disconnected from the line */
	return uart_rx_push(u, byte);
}

// Take the oldest received byte; an empty FIFO reads as 0.
static u8 uart_rx_pop(struct serial_uart *u)
{
	u8 b;

	if (!u->rx_count)
		return 0;
	b = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % SERIAL_FIFO_SIZE;
	u->rx_count--;
	return b;
}

// The highest-priority pending interrupt, as IIR encodes it.
u8 serial_uart_iir(const struct serial_uart *u)
{
	u8 fifo = (u->fcr & SERIAL_FCR_ENABLE) ? SERIAL_IIR_FIFO : 0;

	/* in priority order, highest first */
	if ((u->ier & SERIAL_IER_RLSI) && (u->lsr_errs & SERIAL_LSR_ERRS))
		return fifo | SERIAL_IIR_RLSI;
	if ((u->ier & SERIAL_IER_RDI) && u->rx_count) {
		/* Below the trigger level a FIFO reports a character timeout;
		 * we report it at once instead of after four character times. */
		if (fifo && u->rx_count < uart_rx_trigger(u))
			return fifo | SERIAL_IIR_TIMEOUT;
		return fifo | SERIAL_IIR_RDI;
	}
	if ((u->ier & SERIAL_IER_THRI) && u->thr_ipending)
		return fifo | SERIAL_IIR_THRI;
	if ((u->ier & SERIAL_IER_MSI) && (u->msr & SERIAL_MSR_DELTAS))
		return fifo | SERIAL_IIR_MSI;
	return fifo | SERIAL_IIR_NO_INT;
}

// The IRQ pin: pending interrupt gated by OUT2, as on a PC.
bool serial_uart_irq(const struct serial_uart *u)
{
	return !(serial_uart_iir(u) & SERIAL_IIR_NO_INT) && (u->mcr & SERIAL_MCR_OUT2);
}

// Modem input lines: looped back from MCR in loopback mode, else "connected".
static u8 uart_msr_lines(const struct serial_uart *u)
{
	u8 m = u->mcr, lines = 0;

	if (!(m & SERIAL_MCR_LOOP))
		return SERIAL_MSR_DCD | SERIAL_MSR_DSR | SERIAL_MSR_CTS;
	if (m & SERIAL_MCR_RTS)
		lines |= SERIAL_MSR_CTS;
	if (m & SERIAL_MCR_DTR)
		lines |= SERIAL_MSR_DSR;
	if (m & SERIAL_MCR_OUT1)
		lines |= SERIAL_MSR_RI;
	if (m & SERIAL_MCR_OUT2)
		lines |= SERIAL_MSR_DCD;
	return lines;
}

// Recompute the MSR line bits after an MCR change, latching the deltas.
static void uart_update_msr(struct serial_uart *u)
{
	u8 old = u->msr & 0xf0, now = uart_msr_lines(u), diff = old ^ now;

	if (diff & SERIAL_MSR_CTS)
		u->msr |= SERIAL_MSR_DCTS;
	if (diff & SERIAL_MSR_DSR)
		u->msr |= SERIAL_MSR_DDSR;
	if ((old & SERIAL_MSR_RI) && !(now & SERIAL_MSR_RI))
		u->msr |= SERIAL_MSR_TERI; /* trailing edge only */
	if (diff & SERIAL_MSR_DCD)
		u->msr |= SERIAL_MSR_DDCD;
	u->msr = (u->msr & SERIAL_MSR_DELTAS) | now;
}

// Guest register read, with the read side effects of RBR, IIR, LSR and MSR.
u8 serial_uart_read(struct serial_uart *u, unsigned int off)
{
	bool dlab = u->lcr & SERIAL_LCR_DLAB;
	u8 v;

	switch (off) {
	case SERIAL_RBR:
		return dlab ? u->dll : uart_rx_pop(u);
	case SERIAL_IER:
		return dlab ? u->dlm : u->ier;
	case SERIAL_IIR:
		v = serial_uart_iir(u);
		/* reading IIR acknowledges a THRE interrupt it reports */
		if ((v & 0x0f) == SERIAL_IIR_THRI)
			u->thr_ipending = false;
		return v;
	case SERIAL_LCR:
		return u->lcr;
	case SERIAL_MCR:
		return u->mcr;
	case SERIAL_LSR:
		v = u->lsr_errs | SERIAL_LSR_THRE | SERIAL_LSR_TEMT;
		if (u->rx_count)
			v |= SERIAL_LSR_DR;
		u->lsr_errs = 0;
		return v;
	case SERIAL_MSR:
		v = u->msr;
		u->msr &= ~SERIAL_MSR_DELTAS;
		return v;
	case SERIAL_SCR:
		return u->scr;
	default:
		return 0xff;
	}
}

// FCR write: FIFO enable, clears and trigger level. Bits 1-7 only count when
// bit 0 is set, and toggling bit 0 empties the FIFOs.
static void uart_write_fcr(struct serial_uart *u, u8 val)
{
	u8 fcr = (val & SERIAL_FCR_ENABLE) ? (val & (SERIAL_FCR_ENABLE | SERIAL_FCR_TRIGGER)) : 0;

	if ((fcr ^ u->fcr) & SERIAL_FCR_ENABLE)
		uart_rx_clear(u);
	else if ((fcr & SERIAL_FCR_ENABLE) && (val & SERIAL_FCR_CLEAR_RX))
		uart_rx_clear(u);
	/* the transmit FIFO is always empty: nothing to clear */
	u->fcr = fcr;
}

// Guest register write; returns the byte to send out, or -1.
int serial_uart_write(struct serial_uart *u, unsigned int off, u8 val)
{
	bool dlab = u->lcr & SERIAL_LCR_DLAB;
	u8 changed;

	switch (off) {
	case SERIAL_THR:
		if (dlab) {
			u->dll = val;
			return -1;
		}
		/* the byte leaves at once, so THR is empty again: re-latch THRE */
		u->thr_ipending = true;
		if (u->mcr & SERIAL_MCR_LOOP) {
			uart_rx_push(u, val);
			return -1;
		}
		return val;
	case SERIAL_IER:
		if (dlab) {
			u->dlm = val;
			return -1;
		}
		changed = (u->ier ^ val) & SERIAL_IER_THRI;
		u->ier = val & 0x0f;
		/* enabling THRI while THR is empty raises the interrupt (Linux's
		 * 8250 startup relies on this); disabling it drops the latch */
		if (changed)
			u->thr_ipending = u->ier & SERIAL_IER_THRI;
		return -1;
	case SERIAL_FCR:
		uart_write_fcr(u, val);
		return -1;
	case SERIAL_LCR:
		u->lcr = val;
		return -1;
	case SERIAL_MCR:
		u->mcr = val & 0x1f;
		uart_update_msr(u);
		return -1;
	case SERIAL_SCR:
		u->scr = val;
		return -1;
	default: /* LSR and MSR writes are factory-test only: ignored */
		return -1;
	}
}

/* ---- glue: bus region, IRQ line, host fds ---- */

#define SERIAL_OUT_BUF 256
#define SERIAL_IN_BUF 1024
#define SERIAL_FLUSH_MS 20 /* flush partial lines this long after the first byte */
#define SERIAL_ESCAPE 0x01 /* Ctrl-A */

struct serial {
	struct vm *vm;
	struct bus_region region;
	struct serial_uart uart;
	int gsi;
	bool irq_level; /* last level given to irq_line() */

	int out_fd;
	bool out_failed; /* a write error was reported; output is dropped */
	u8 out_buf[SERIAL_OUT_BUF];
	size_t out_len;
	u64 out_since_ms; /* CLOCK_MONOTONIC when out_buf got its first byte */

	/* host input not yet taken by the FIFO (flow control instead of
	 * overrun: the thread stops reading in_fd while this is full) */
	int in_fd;
	bool in_eof;
	u8 in_buf[SERIAL_IN_BUF];
	size_t in_head, in_len;
	bool escape; /* Ctrl-A seen, waiting for the command key */

	bool is_tty;
	volatile sig_atomic_t tty_raw; /* saved_tty must be put back */
	struct termios saved_tty;

	int wake_fd; /* eventfd: wakes the thread (stop, flush timer, input room) */
	pthread_t thread;
	bool thread_started;
	bool stopping; /* under vm->lock */
};

// CLOCK_MONOTONIC in milliseconds, for the flush deadline.
static u64 serial_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000;
}

// Wake the I/O thread; a failed write only delays a flush, never loses data.
static void serial_kick(struct serial *s)
{
	u64 one = 1;

	if (s->wake_fd >= 0 && write(s->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_debug("serial: wake-up write failed: %s", strerror(errno));
}

// Write all of buf to fd, waiting out EAGAIN and EINTR.
static int serial_write_all(int fd, const u8 *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = { .fd = fd, .events = POLLOUT };

				poll(&p, 1, -1);
				continue;
			}
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

// Send buffered output to out_fd. Called with vm->lock held (keeps bytes in order).
static void serial_flush(struct serial *s)
{
	int ret;

	if (!s->out_len)
		return;
	if (s->out_fd >= 0 && !s->out_failed) {
		ret = serial_write_all(s->out_fd, s->out_buf, s->out_len);
		if (ret < 0) {
			pr_warn("serial: writing guest output failed (%s); dropping further output",
				strerror(-ret));
			s->out_failed = true;
		}
	}
	s->out_len = 0;
}

// Queue one transmitted byte; flush at newline or when full, else arm the timer.
static void serial_output(struct serial *s, u8 byte)
{
	if (s->out_fd < 0 || s->out_failed)
		return;
	s->out_buf[s->out_len++] = byte;
	if (byte == '\n' || s->out_len == sizeof(s->out_buf))
		serial_flush(s);
	else if (s->out_len == 1) {
		s->out_since_ms = serial_now_ms();
		serial_kick(s); /* the thread flushes SERIAL_FLUSH_MS later */
	}
}

// Move pending host input into the FIFO while it has room; wake the thread
// when room appears in a full input buffer.
static void serial_feed(struct serial *s)
{
	bool was_full = s->in_len == sizeof(s->in_buf);
	unsigned int room = serial_uart_rx_room(&s->uart);

	while (room-- && s->in_len) {
		serial_uart_receive(&s->uart, s->in_buf[s->in_head]);
		s->in_head = (s->in_head + 1) % sizeof(s->in_buf);
		s->in_len--;
	}
	if (was_full && s->in_len < sizeof(s->in_buf))
		serial_kick(s);
}

// Drive the IRQ line to the UART's level when it changed.
static void serial_update_irq(struct serial *s)
{
	bool level = serial_uart_irq(&s->uart);

	if (level != s->irq_level) {
		s->irq_level = level;
		irq_line(s->vm, s->gsi, level);
	}
}

// Bus callback (vm->lock held). Wider accesses are split into bytes, as the
// ISA bus does for an 8-bit device.
static void serial_access(void *opaque, struct bus_access *a)
{
	struct serial *s = opaque;

	for (u32 i = 0; i < a->len; i++) {
		u64 off = a->offset + i;

		if (off >= SERIAL_NR_REGS) {
			if (!a->is_write)
				a->data[i] = 0xff;
			continue;
		}
		if (a->is_write) {
			int out = serial_uart_write(&s->uart, (unsigned int)off, a->data[i]);

			if (out >= 0)
				serial_output(s, (u8)out);
		} else {
			a->data[i] = serial_uart_read(&s->uart, (unsigned int)off);
		}
	}
	serial_feed(s);
	serial_update_irq(s);
}

// Append one byte of host input to the pending buffer (caller checked room).
static void serial_in_put(struct serial *s, u8 b)
{
	s->in_buf[(s->in_head + s->in_len) % sizeof(s->in_buf)] = b;
	s->in_len++;
}

// Handle a byte typed on a terminal: Ctrl-A escapes. vm->lock held.
static void serial_in_tty_byte(struct serial *s, u8 b)
{
	if (!s->escape) {
		if (b == SERIAL_ESCAPE)
			s->escape = true;
		else
			serial_in_put(s, b);
		return;
	}
	s->escape = false;
	switch (b) {
	case SERIAL_ESCAPE:
		serial_in_put(s, b);
		break;
	case 'x':
	case 'X':
		pr_info("serial: Ctrl-A x: stopping the VM");
		vm_stop(s->vm, VM_STOP_SIGNAL, 0);
		break;
	case 'h':
	case 'H':
		fprintf(stderr, "\r\nptvm: Ctrl-A x  quit | Ctrl-A Ctrl-A  send Ctrl-A | Ctrl-A h  this help\r\n");
		break;
	default: /* unknown commands are swallowed, as QEMU does */
		break;
	}
}

// Input thread: waits for in_fd data, the flush timer or a wake-up, and
// hands bytes to the FIFO under vm->lock.
static void *serial_thread(void *arg)
{
	struct serial *s = arg;
	u8 buf[SERIAL_IN_BUF];

	for (;;) {
		struct pollfd p[2] = { { .fd = s->wake_fd, .events = POLLIN }, { .fd = -1 } };
		ssize_t got = 0;
		size_t room;
		int timeout, n;

		vm_lock(s->vm);
		if (s->stopping) {
			vm_unlock(s->vm);
			break;
		}
		/* one escape byte may expand to one input byte: room is exact */
		room = sizeof(s->in_buf) - s->in_len;
		if (s->in_fd >= 0 && !s->in_eof && room)
			p[1] = (struct pollfd){ .fd = s->in_fd, .events = POLLIN };
		timeout = -1;
		if (s->out_len) {
			/* a deadline, so steady input cannot keep postponing it */
			u64 due = s->out_since_ms + SERIAL_FLUSH_MS, now = serial_now_ms();

			timeout = now >= due ? 0 : (int)(due - now);
		}
		vm_unlock(s->vm);

		n = poll(p, 2, timeout);
		if (n < 0 && errno != EINTR) {
			pr_err("serial: poll failed: %s; guest input stops", strerror(errno));
			break;
		}
		if (n > 0 && (p[0].revents & POLLIN)) {
			u64 v;

			if (read(s->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				pr_debug("serial: wake-up read failed: %s", strerror(errno));
		}
		if (n > 0 && p[1].fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			got = read(s->in_fd, buf, MIN(room, sizeof(buf)));
			if (got < 0 && (errno == EINTR || errno == EAGAIN))
				got = 0;
			else if (got <= 0) {
				if (got < 0)
					pr_warn("serial: reading input failed (%s); guest input stops",
						strerror(errno));
				got = 0;
				vm_lock(s->vm);
				s->in_eof = true;
				vm_unlock(s->vm);
			}
		}

		vm_lock(s->vm);
		for (ssize_t i = 0; i < got; i++) {
			if (s->is_tty)
				serial_in_tty_byte(s, buf[i]);
			else
				serial_in_put(s, buf[i]);
		}
		if (s->out_len && serial_now_ms() >= s->out_since_ms + SERIAL_FLUSH_MS)
			serial_flush(s); /* the guest paused mid-line */
		serial_feed(s);
		serial_update_irq(s);
		vm_unlock(s->vm);
	}
	return NULL;
}

// Raw mode for a terminal on in_fd: every key goes to the guest (Ctrl-C too);
// output post-processing stays on so ptvm's own log lines still line up.
static void serial_setup_tty(struct serial *s)
{
	struct termios t;

	if (!isatty(s->in_fd) || tcgetattr(s->in_fd, &s->saved_tty) < 0)
		return;
	s->is_tty = true;
	t = s->saved_tty;
	t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(s->in_fd, TCSANOW, &t) < 0) {
		pr_warn("serial: cannot set the terminal to raw mode (%s); input is line-buffered",
			strerror(errno));
		return;
	}
	s->tty_raw = 1;
}

// Give the terminal its saved mode back (async-signal-safe, idempotent).
void serial_restore_tty(struct serial *s)
{
	if (!s || !s->tty_raw)
		return;
	s->tty_raw = 0;
	tcsetattr(s->in_fd, TCSANOW, &s->saved_tty);
}

// Register the UART and start its I/O thread if it has an fd.
struct serial *serial_create(struct vm *vm, u16 base, int gsi, int out_fd, int in_fd)
{
	struct serial *s = calloc(1, sizeof(*s));
	int ret;

	if (!s) {
		pr_err("serial: out of memory");
		return NULL;
	}
	s->vm = vm;
	s->gsi = gsi;
	s->out_fd = out_fd;
	s->in_fd = in_fd;
	s->wake_fd = -1;
	serial_uart_reset(&s->uart);
	s->region = (struct bus_region){
		.name = "serial", .space = BUS_PIO, .base = base,
		.size = SERIAL_NR_REGS, .access = serial_access, .opaque = s,
	};
	ret = bus_register(&vm->bus, &s->region);
	if (ret < 0) {
		pr_err("serial: ports 0x%x-0x%x are taken (%s)", base, base + SERIAL_NR_REGS - 1,
		       strerror(-ret));
		free(s);
		return NULL;
	}
	if (out_fd < 0 && in_fd < 0)
		return s; /* nothing to flush or read: no thread */

	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0) {
		pr_err("serial: eventfd failed: %s", strerror(errno));
		goto err;
	}
	if (in_fd >= 0)
		serial_setup_tty(s);
	ret = pthread_create(&s->thread, NULL, serial_thread, s);
	if (ret) {
		pr_err("serial: cannot start the I/O thread: %s", strerror(ret));
		goto err;
	}
	s->thread_started = true;
	return s;
err:
	serial_restore_tty(s);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	bus_unregister(&vm->bus, &s->region);
	free(s);
	return NULL;
}

// Stop the thread, flush, restore the terminal, unregister.
void serial_destroy(struct serial *s)
{
	if (!s)
		return;
	if (s->thread_started) {
		vm_lock(s->vm);
		s->stopping = true;
		vm_unlock(s->vm);
		serial_kick(s);
		pthread_join(s->thread, NULL);
	}
	vm_lock(s->vm);
	serial_flush(s);
	vm_unlock(s->vm);
	serial_restore_tty(s);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	bus_unregister(&s->vm->bus, &s->region);
	free(s);
}
