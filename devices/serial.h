/*
 * A 16550A UART on port I/O (COM1 at 0x3f8, IRQ 4).
 *
 * Two layers. struct serial_uart is the register state machine: pure, no vm,
 * no fd, so tests drive it directly. struct serial is the glue: the bus
 * region, the IRQ line, output buffering to out_fd and an input thread that
 * reads in_fd.
 *
 * Transmission is instantaneous (THR is always empty again by the time the
 * guest can look), the divisor latch is stored but no baud rate is emulated,
 * and the interrupt output reaches the IRQ line only while MCR.OUT2 is set,
 * as on a PC.
 */
#ifndef PTVM_SERIAL_H
#define PTVM_SERIAL_H

#include "vmm/common.h"

struct vm;
struct serial;

#define SERIAL_NR_REGS 8
#define SERIAL_FIFO_SIZE 16

/* Register offsets from the base port. */
#define SERIAL_RBR 0 /* read, DLAB=0: receive buffer */
#define SERIAL_THR 0 /* write, DLAB=0: transmit holding */
#define SERIAL_DLL 0 /* DLAB=1: divisor latch low */
#define SERIAL_IER 1 /* DLAB=0 */
#define SERIAL_DLM 1 /* DLAB=1: divisor latch high */
#define SERIAL_IIR 2 /* read */
#define SERIAL_FCR 2 /* write */
#define SERIAL_LCR 3
#define SERIAL_MCR 4
#define SERIAL_LSR 5
#define SERIAL_MSR 6
#define SERIAL_SCR 7

#define SERIAL_IER_RDI 0x01  /* received data available */
#define SERIAL_IER_THRI 0x02 /* transmit holding register empty */
#define SERIAL_IER_RLSI 0x04 /* receiver line status */
#define SERIAL_IER_MSI 0x08  /* modem status */

#define SERIAL_IIR_NO_INT 0x01
#define SERIAL_IIR_MSI 0x00
#define SERIAL_IIR_THRI 0x02
#define SERIAL_IIR_RDI 0x04
#define SERIAL_IIR_RLSI 0x06
#define SERIAL_IIR_TIMEOUT 0x0c
#define SERIAL_IIR_FIFO 0xc0 /* both bits set when the FIFOs are enabled */

#define SERIAL_FCR_ENABLE 0x01
#define SERIAL_FCR_CLEAR_RX 0x02
#define SERIAL_FCR_CLEAR_TX 0x04
#define SERIAL_FCR_TRIGGER 0xc0

#define SERIAL_LCR_DLAB 0x80

#define SERIAL_MCR_DTR 0x01
#define SERIAL_MCR_RTS 0x02
#define SERIAL_MCR_OUT1 0x04
#define SERIAL_MCR_OUT2 0x08
#define SERIAL_MCR_LOOP 0x10

#define SERIAL_LSR_DR 0x01
#define SERIAL_LSR_OE 0x02
#define SERIAL_LSR_PE 0x04
#define SERIAL_LSR_FE 0x08
#define SERIAL_LSR_BI 0x10
#define SERIAL_LSR_THRE 0x20
#define SERIAL_LSR_TEMT 0x40
#define SERIAL_LSR_ERRS (SERIAL_LSR_OE | SERIAL_LSR_PE | SERIAL_LSR_FE | SERIAL_LSR_BI)

#define SERIAL_MSR_DCTS 0x01
#define SERIAL_MSR_DDSR 0x02
#define SERIAL_MSR_TERI 0x04
#define SERIAL_MSR_DDCD 0x08
#define SERIAL_MSR_DELTAS 0x0f
#define SERIAL_MSR_CTS 0x10
#define SERIAL_MSR_DSR 0x20
#define SERIAL_MSR_RI 0x40
#define SERIAL_MSR_DCD 0x80

/* The register state of one UART. Invariant: rx_count <= the RX capacity
 * (16 with FIFOs enabled, 1 without). */
struct serial_uart {
	u8 ier, lcr, mcr, fcr, scr;
	u8 dll, dlm;
	u8 lsr_errs;       /* sticky OE/PE/FE/BI, cleared by reading LSR */
	u8 msr;            /* line state (bits 4-7) and deltas (bits 0-3) */
	bool thr_ipending; /* THRE interrupt latched; cleared by IIR read or THR write */
	u8 rx[SERIAL_FIFO_SIZE];
	unsigned int rx_head, rx_count;
};

/* Power-on state: 9600 8N1 divisor, FIFOs off, modem lines DCD/DSR/CTS up. */
void serial_uart_reset(struct serial_uart *u);
/* Guest read of register off (0..7). */
u8 serial_uart_read(struct serial_uart *u, unsigned int off);
/* Guest write; returns the byte to send to the host, or -1 if none. */
int serial_uart_write(struct serial_uart *u, unsigned int off, u8 val);
/* Bytes the receiver can take from the host now (0 in loopback: the receiver
 * is wired to the transmitter then). */
unsigned int serial_uart_rx_room(const struct serial_uart *u);
/* A byte arrives on the receive line; on a full FIFO it is lost and LSR.OE
 * set (real overrun). Returns false if it was lost. */
bool serial_uart_receive(struct serial_uart *u, u8 byte);
/* Current IIR value (what a read would return, without side effects). */
u8 serial_uart_iir(const struct serial_uart *u);
/* Level of the IRQ output pin: an interrupt is pending and OUT2 is set. */
bool serial_uart_irq(const struct serial_uart *u);

/*
 * Create a UART at base driving GSI gsi. out_fd -1 drops output; in_fd -1
 * means no input. If in_fd is a terminal it is put in raw mode (restored by
 * serial_destroy or serial_restore_tty) and Ctrl-A x stops the VM with
 * vm_stop(vm, VM_STOP_SIGNAL, 0); Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A h
 * prints help. The fds stay owned by the caller. NULL on error (logged).
 */
struct serial *serial_create(struct vm *vm, u16 base, int gsi, int out_fd, int in_fd);
/* Stop the input thread, flush buffered output, restore the terminal,
 * unregister. Call with vCPUs stopped. NULL is fine. */
void serial_destroy(struct serial *s);
/* Put the terminal back as it was. Async-signal-safe and idempotent, so a
 * fatal-signal handler may call it before serial_destroy runs. */
void serial_restore_tty(struct serial *s);

#endif
