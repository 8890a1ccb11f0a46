/*
 * COM1 as a 16550A, checked the way Linux's 8250 driver probes it
 * (autoconfig): scratch register, IER read-back, divisor latch behind
 * DLAB, FIFOs reported in IIR bits 7..6, an idle LSR, and the loopback
 * test (MCR LOOP | OUT2 | RTS makes MSR read 0x90 in its top nibble; bytes
 * written to THR come back through RBR). Without loopback Linux decides
 * there is no UART at 0x3F8. Nothing is printed while the UART is in
 * loopback or reprogrammed; the results are reported afterwards.
 */
#include "lib/libguest.h"

#define RBR 0
#define THR 0
#define DLL 0
#define IER 1
#define DLM 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

struct uart_probe {
	u8 scr55, scraa;
	u8 ier0, ierf;
	u8 dll, dlm, lcr;
	u8 iir_fifo, iir_idle;
	u8 lsr_idle;
	u8 msr_loop;
	u8 rx[3], lsr_rx, lsr_empty;
};

// Read a COM1 register.
static u8 uart_in(int reg)
{
	return inb(PORT_COM1 + reg);
}

// Write a COM1 register.
static void uart_out(int reg, u8 v)
{
	outb(PORT_COM1 + reg, v);
}

// Wait (bounded) until the transmitter is empty, so no output is in flight.
static void uart_drain(void)
{
	for (int i = 0; i < 100000 && !(uart_in(LSR) & LSR_TEMT); i++)
		;
}

// The probe itself: no printing in here.
static void uart_probe(struct uart_probe *p)
{
	uart_drain();
	uart_out(SCR, 0x55);
	p->scr55 = uart_in(SCR);
	uart_out(SCR, 0xaa);
	p->scraa = uart_in(SCR);

	uart_out(IER, 0);
	p->ier0 = uart_in(IER) & 0x0f;
	uart_out(IER, 0x0f);
	p->ierf = uart_in(IER) & 0x0f;
	uart_out(IER, 0);

	uart_out(LCR, LCR_DLAB | 0x03);
	uart_out(DLL, 0x0c);
	uart_out(DLM, 0x00);
	p->dll = uart_in(DLL);
	p->dlm = uart_in(DLM);
	uart_out(DLL, 0x01); /* back to 115200 */
	uart_out(LCR, 0x03);
	p->lcr = uart_in(LCR);

	uart_out(FCR, 0x07); /* enable and clear both FIFOs */
	p->iir_fifo = uart_in(IIR);
	p->iir_idle = uart_in(IIR);
	p->lsr_idle = uart_in(LSR);

	uart_out(MCR, MCR_LOOP | 0x0a);
	p->msr_loop = uart_in(MSR);
	uart_out(THR, 'p');
	uart_out(THR, 't');
	uart_out(THR, 'v');
	for (int i = 0; i < 100000 && !(uart_in(LSR) & LSR_DR); i++)
		;
	p->lsr_rx = uart_in(LSR);
	for (int i = 0; i < 3; i++) {
		for (int j = 0; j < 100000 && !(uart_in(LSR) & LSR_DR); j++)
			;
		p->rx[i] = uart_in(RBR);
	}
	p->lsr_empty = uart_in(LSR);
	uart_out(MCR, 0x0b);
	uart_out(FCR, 0xc7);
}

// Probe, then report what Linux would have concluded.
int main(void)
{
	struct uart_probe p;

	uart_probe(&p);
	report(p.scr55 == 0x55 && p.scraa == 0xaa, "scratch register holds 0x55/0xaa (0x%02x/0x%02x)",
	       p.scr55, p.scraa);
	report(p.ier0 == 0 && p.ierf == 0x0f, "IER reads back 0 and 0x0f (0x%x, 0x%x)", p.ier0,
	       p.ierf);
	report(p.dll == 0x0c && p.dlm == 0, "divisor latch reads back 0x000c (0x%02x%02x)", p.dlm,
	       p.dll);
	report(p.lcr == 0x03, "LCR reads back 0x03 (0x%02x)", p.lcr);
	report((p.iir_fifo >> 6) == 3, "IIR bits 7..6 = 11 with FIFOs on: a 16550A (IIR 0x%02x)",
	       p.iir_fifo);
	report((p.iir_idle & 0x0f) == 0x01, "IIR: no interrupt pending with IER = 0 (0x%02x)",
	       p.iir_idle);
	report((p.lsr_idle & (LSR_THRE | LSR_TEMT)) == (LSR_THRE | LSR_TEMT) &&
	       !(p.lsr_idle & LSR_DR), "idle LSR: THRE and TEMT set, no data (0x%02x)", p.lsr_idle);
	report((p.msr_loop & 0xf0) == 0x90, "loopback: MSR top nibble 0x90 (0x%02x)", p.msr_loop);
	report(p.lsr_rx & LSR_DR, "loopback: written bytes arrive (LSR 0x%02x)", p.lsr_rx);
	report(p.rx[0] == 'p' && p.rx[1] == 't' && p.rx[2] == 'v',
	       "loopback: RBR returns 'ptv' in order (%02x %02x %02x)", p.rx[0], p.rx[1], p.rx[2]);
	report(!(p.lsr_empty & LSR_DR), "loopback: receive FIFO empty afterwards (LSR 0x%02x)",
	       p.lsr_empty);
	return report_summary();
}
