/* 16550A UART: the register state machine, then the glue over pipes. */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "devices/serial.h"
#include "tests/unit/fake-vm.h"
#include "tests/unit/harness.h"

TEST(reset_state)
{
	struct serial_uart u;

	serial_uart_reset(&u);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_LSR), SERIAL_LSR_THRE | SERIAL_LSR_TEMT);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_IIR), SERIAL_IIR_NO_INT);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_IER), 0);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_MSR),
		  SERIAL_MSR_DCD | SERIAL_MSR_DSR | SERIAL_MSR_CTS);
	ASSERT_FALSE(serial_uart_irq(&u));
}

TEST(divisor_latch)
{
	struct serial_uart u;

	serial_uart_reset(&u);
	serial_uart_write(&u, SERIAL_IER, 0x05);
	serial_uart_write(&u, SERIAL_LCR, SERIAL_LCR_DLAB | 0x03);
	/* with DLAB, offsets 0 and 1 are the divisor, and nothing is sent */
	ASSERT_EQ(serial_uart_write(&u, SERIAL_DLL, 0x01), -1);
	ASSERT_EQ(serial_uart_write(&u, SERIAL_DLM, 0x02), -1);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_DLL), 0x01);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_DLM), 0x02);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_LCR), SERIAL_LCR_DLAB | 0x03);
	serial_uart_write(&u, SERIAL_LCR, 0x03);
	/* without DLAB the same offsets are RBR/THR and IER again */
	ASSERT_EQ(serial_uart_read(&u, SERIAL_IER), 0x05);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_RBR), 0);
	ASSERT_EQ(serial_uart_write(&u, SERIAL_THR, 'A'), 'A');
	serial_uart_write(&u, SERIAL_LCR, SERIAL_LCR_DLAB);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_DLL), 0x01);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_DLM), 0x02);
}

TEST(rx_data_interrupt_and_out2_gate)
{
	struct serial_uart u;

	serial_uart_reset(&u);
	serial_uart_write(&u, SERIAL_IER, SERIAL_IER_RDI);
	ASSERT_TRUE(serial_uart_receive(&u, 'x'));
	ASSERT_EQ(serial_uart_read(&u, SERIAL_LSR) & SERIAL_LSR_DR, SERIAL_LSR_DR);
	ASSERT_EQ(serial_uart_iir(&u), SERIAL_IIR_RDI);
	ASSERT_FALSE(serial_uart_irq(&u)); /* OUT2 clear: pin disconnected */
	serial_uart_write(&u, SERIAL_MCR, SERIAL_MCR_OUT2);
	ASSERT_TRUE(serial_uart_irq(&u));
	ASSERT_EQ(serial_uart_read(&u, SERIAL_RBR), 'x');
	ASSERT_EQ(serial_uart_read(&u, SERIAL_LSR) & SERIAL_LSR_DR, 0);
	ASSERT_EQ(serial_uart_iir(&u), SERIAL_IIR_NO_INT);
	ASSERT_FALSE(serial_uart_irq(&u));
}

TEST(thre_interrupt_transitions)
{
	struct serial_uart u;

	serial_uart_reset(&u);
	serial_uart_write(&u, SERIAL_MCR, SERIAL_MCR_OUT2);
	ASSERT_FALSE(serial_uart_irq(&u));
	/* enabling THRI with THR empty raises it at once */
	serial_uart_write(&u, SERIAL_IER, SERIAL_IER_THRI);
	ASSERT_TRUE(serial_uart_irq(&u));
	/* reading IIR that reports THRE acknowledges it */
	ASSERT_EQ(serial_uart_read(&u, SERIAL_IIR), SERIAL_IIR_THRI);
	ASSERT_FALSE(serial_uart_irq(&u));
	ASSERT_EQ(serial_uart_read(&u, SERIAL_IIR), SERIAL_IIR_NO_INT);
	/* sending a byte empties THR again: THRE comes back */
	ASSERT_EQ(serial_uart_write(&u, SERIAL_THR, 'z'), 'z');
	ASSERT_TRUE(serial_uart_irq(&u));
	/* disable and re-enable: the Linux 8250 THRE probe sees it again */
	serial_uart_write(&u, SERIAL_IER, 0);
	ASSERT_FALSE(serial_uart_irq(&u));
	serial_uart_write(&u, SERIAL_IER, SERIAL_IER_THRI);
	ASSERT_EQ(serial_uart_iir(&u), SERIAL_IIR_THRI);
	/* RX data outranks THRE */
	serial_uart_write(&u, SERIAL_IER, SERIAL_IER_THRI | SERIAL_IER_RDI);
	serial_uart_receive(&u, 1);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_IIR), SERIAL_IIR_RDI);
	serial_uart_read(&u, SERIAL_RBR);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_IIR), SERIAL_IIR_THRI);
}

TEST(fifo_order_trigger_and_overrun)
{
	struct serial_uart u;

	serial_uart_reset(&u);
	serial_uart_write(&u, SERIAL_MCR, SERIAL_MCR_OUT2);
	serial_uart_write(&u, SERIAL_IER, SERIAL_IER_RDI | SERIAL_IER_RLSI);
	serial_uart_write(&u, SERIAL_FCR, SERIAL_FCR_ENABLE | 0x40); /* trigger 4 */
	ASSERT_EQ(serial_uart_iir(&u), SERIAL_IIR_FIFO | SERIAL_IIR_NO_INT);
	ASSERT_EQ(serial_uart_rx_room(&u), SERIAL_FIFO_SIZE);
	for (int i = 0; i < 3; i++)
		ASSERT_TRUE(serial_uart_receive(&u, (u8)('a' + i)));
	/* below the trigger level: character timeout */
	ASSERT_EQ(serial_uart_iir(&u), SERIAL_IIR_FIFO | SERIAL_IIR_TIMEOUT);
	ASSERT_TRUE(serial_uart_irq(&u));
	ASSERT_TRUE(serial_uart_receive(&u, 'd'));
	ASSERT_EQ(serial_uart_iir(&u), SERIAL_IIR_FIFO | SERIAL_IIR_RDI);
	for (int i = 4; i < SERIAL_FIFO_SIZE; i++)
		ASSERT_TRUE(serial_uart_receive(&u, (u8)('a' + i)));
	ASSERT_EQ(serial_uart_rx_room(&u), 0);
	ASSERT_FALSE(serial_uart_receive(&u, '!'));
	/* overrun: line status has the highest priority, LSR read clears it */
	ASSERT_EQ(serial_uart_iir(&u), SERIAL_IIR_FIFO | SERIAL_IIR_RLSI);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_LSR),
		  SERIAL_LSR_OE | SERIAL_LSR_DR | SERIAL_LSR_THRE | SERIAL_LSR_TEMT);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_LSR) & SERIAL_LSR_OE, 0);
	for (int i = 0; i < SERIAL_FIFO_SIZE; i++)
		ASSERT_EQ(serial_uart_read(&u, SERIAL_RBR), 'a' + i);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_LSR) & SERIAL_LSR_DR, 0);
	ASSERT_FALSE(serial_uart_irq(&u));
}

TEST(fcr_clear_and_fifo_off)
{
	struct serial_uart u;

	serial_uart_reset(&u);
	serial_uart_write(&u, SERIAL_FCR, SERIAL_FCR_ENABLE);
	serial_uart_receive(&u, 1);
	serial_uart_receive(&u, 2);
	serial_uart_write(&u, SERIAL_FCR, SERIAL_FCR_ENABLE | SERIAL_FCR_CLEAR_RX);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_LSR) & SERIAL_LSR_DR, 0);
	/* FIFOs off: one holding register, IIR without FIFO bits */
	serial_uart_receive(&u, 3);
	serial_uart_write(&u, SERIAL_FCR, 0);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_LSR) & SERIAL_LSR_DR, 0);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_IIR), SERIAL_IIR_NO_INT);
	ASSERT_EQ(serial_uart_rx_room(&u), 1);
	ASSERT_TRUE(serial_uart_receive(&u, 4));
	ASSERT_FALSE(serial_uart_receive(&u, 5));
	ASSERT_EQ(serial_uart_read(&u, SERIAL_RBR), 4);
}

TEST(loopback)
{
	struct serial_uart u;

	serial_uart_reset(&u);
	serial_uart_read(&u, SERIAL_MSR);
	serial_uart_write(&u, SERIAL_IER, SERIAL_IER_RDI | SERIAL_IER_MSI);
	serial_uart_write(&u, SERIAL_MCR, SERIAL_MCR_LOOP | SERIAL_MCR_OUT2 | SERIAL_MCR_RTS);
	/* lines follow MCR: RTS->CTS, OUT2->DCD; DSR dropped. Deltas latched */
	ASSERT_EQ(serial_uart_iir(&u), SERIAL_IIR_MSI);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_MSR),
		  SERIAL_MSR_CTS | SERIAL_MSR_DCD | SERIAL_MSR_DDSR);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_MSR), SERIAL_MSR_CTS | SERIAL_MSR_DCD);
	ASSERT_EQ(serial_uart_iir(&u), SERIAL_IIR_NO_INT);
	/* transmitted bytes come back and do not leave */
	ASSERT_EQ(serial_uart_write(&u, SERIAL_THR, 0x5a), -1);
	ASSERT_EQ(serial_uart_iir(&u), SERIAL_IIR_RDI);
	ASSERT_TRUE(serial_uart_irq(&u));
	ASSERT_EQ(serial_uart_read(&u, SERIAL_RBR), 0x5a);
	/* the line is disconnected from the receiver */
	ASSERT_EQ(serial_uart_rx_room(&u), 0);
	ASSERT_FALSE(serial_uart_receive(&u, 1));
	/* OUT1 -> RI; dropping it latches the trailing-edge bit */
	serial_uart_write(&u, SERIAL_MCR, SERIAL_MCR_LOOP | SERIAL_MCR_OUT1);
	serial_uart_read(&u, SERIAL_MSR);
	serial_uart_write(&u, SERIAL_MCR, SERIAL_MCR_LOOP);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_MSR) & SERIAL_MSR_TERI, SERIAL_MSR_TERI);
	serial_uart_write(&u, SERIAL_MCR, 0);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_MSR) & 0xf0,
		  SERIAL_MSR_DCD | SERIAL_MSR_DSR | SERIAL_MSR_CTS);
	ASSERT_EQ(serial_uart_write(&u, SERIAL_THR, 'q'), 'q');
}

TEST(scratch)
{
	struct serial_uart u;

	serial_uart_reset(&u);
	serial_uart_write(&u, SERIAL_SCR, 0xa5);
	ASSERT_EQ(serial_uart_read(&u, SERIAL_SCR), 0xa5);
}

// Read whatever is in the pipe within ms milliseconds (at most cap-1 bytes).
static size_t drain(int fd, char *buf, size_t cap, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;

	while (n < cap - 1 && poll(&p, 1, ms) > 0) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);

		if (r <= 0)
			break;
		n += (size_t)r;
		ms = 0;
	}
	buf[n] = 0;
	return n;
}

TEST(glue_output_buffering)
{
	struct vm vm;
	struct serial *s;
	int p[2];
	char buf[64];

	fake_vm_init(&vm);
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	s = serial_create(&vm, PORT_COM1, IRQ_COM1, p[1], -1);
	ASSERT_TRUE(s != NULL);
	fake_outb(&vm, PORT_COM1, 'a');
	fake_outb(&vm, PORT_COM1, 'b');
	fake_outb(&vm, PORT_COM1, '\n'); /* newline: flushed at once */
	ASSERT_EQ(drain(p[0], buf, sizeof(buf), 0), 3);
	ASSERT_STR_EQ(buf, "ab\n");
	/* a partial line is flushed by the thread when the guest pauses */
	fake_outb(&vm, PORT_COM1, 'c');
	ASSERT_EQ(drain(p[0], buf, sizeof(buf), 500), 1); /* 20 ms, with slack */
	ASSERT_STR_EQ(buf, "c");
	/* and never lost at exit */
	fake_outb(&vm, PORT_COM1, 'd');
	serial_destroy(s);
	ASSERT_EQ(drain(p[0], buf, sizeof(buf), 0), 1);
	ASSERT_STR_EQ(buf, "d");
	close(p[0]);
	close(p[1]);
	fake_vm_destroy(&vm);
}

TEST(glue_input_flow_control)
{
	struct vm vm;
	struct serial *s;
	int p[2];
	char in[300], got[300];
	size_t n = 0;
	struct timespec t0, t;

	fake_vm_init(&vm);
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)(i * 7);
	s = serial_create(&vm, PORT_COM1, IRQ_COM1, -1, p[0]);
	ASSERT_TRUE(s != NULL);
	/* FIFOs first: toggling them empties the receiver, as on the chip */
	fake_outb(&vm, PORT_COM1 + SERIAL_FCR, SERIAL_FCR_ENABLE);
	/* far more than the FIFO holds: nothing may be lost (no overrun) */
	ASSERT_EQ(write(p[1], in, sizeof(in)), (ssize_t)sizeof(in));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (n < sizeof(in)) {
		u8 lsr = fake_inb(&vm, PORT_COM1 + SERIAL_LSR);

		ASSERT_EQ(lsr & SERIAL_LSR_OE, 0);
		if (lsr & SERIAL_LSR_DR) {
			got[n++] = (char)fake_inb(&vm, PORT_COM1 + SERIAL_RBR);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 5)
			break;
		usleep(1000);
	}
	ASSERT_EQ(n, sizeof(in));
	ASSERT_TRUE(memcmp(in, got, sizeof(in)) == 0);
	serial_destroy(s);
	close(p[0]);
	close(p[1]);
	fake_vm_destroy(&vm);
}

// Wait up to 2 s for the VM to be stopped.
static bool wait_stopped(struct vm *vm)
{
	for (int i = 0; i < 2000; i++) {
		if (vm->stop_reason != VM_RUNNING)
			return true;
		usleep(1000);
	}
	return false;
}

// Wait up to 2 s for received data, and read it.
static int wait_rx(struct vm *vm)
{
	for (int i = 0; i < 2000; i++) {
		if (fake_inb(vm, PORT_COM1 + SERIAL_LSR) & SERIAL_LSR_DR)
			return fake_inb(vm, PORT_COM1 + SERIAL_RBR);
		usleep(1000);
	}
	return -1;
}

TEST(glue_terminal_raw_mode_and_escape)
{
	struct vm vm;
	struct serial *s;
	struct termios t;
	int master, slave;

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	ASSERT_TRUE(master >= 0);
	ASSERT_EQ(grantpt(master), 0);
	ASSERT_EQ(unlockpt(master), 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	ASSERT_TRUE(slave >= 0);
	ASSERT_EQ(tcgetattr(slave, &t), 0);
	ASSERT_TRUE(t.c_lflag & ICANON);
	fake_vm_init(&vm);
	s = serial_create(&vm, PORT_COM1, IRQ_COM1, -1, slave);
	ASSERT_TRUE(s != NULL);
	ASSERT_EQ(tcgetattr(slave, &t), 0);
	ASSERT_EQ(t.c_lflag & (ICANON | ECHO | ISIG), 0);
	ASSERT_TRUE(t.c_oflag & OPOST); /* ptvm's log lines still line up */
	/* plain keys and Ctrl-C reach the guest; Ctrl-A Ctrl-A is one Ctrl-A */
	ASSERT_EQ(write(master, "a\x03\x01\x01", 4), 4);
	ASSERT_EQ(wait_rx(&vm), 'a');
	ASSERT_EQ(wait_rx(&vm), 0x03);
	ASSERT_EQ(wait_rx(&vm), 0x01);
	ASSERT_EQ(vm.stop_reason, VM_RUNNING);
	/* Ctrl-A x ends the VM with status 0 */
	ASSERT_EQ(write(master, "\x01x", 2), 2);
	ASSERT_TRUE(wait_stopped(&vm));
	ASSERT_EQ(vm.stop_reason, VM_STOP_SIGNAL);
	ASSERT_EQ(vm.exit_status, 0);
	ASSERT_EQ(fake_inb(&vm, PORT_COM1 + SERIAL_LSR) & SERIAL_LSR_DR, 0);
	/* restoring twice is harmless; destroy restores too */
	serial_restore_tty(s);
	ASSERT_EQ(tcgetattr(slave, &t), 0);
	ASSERT_TRUE(t.c_lflag & ICANON);
	serial_destroy(s);
	ASSERT_EQ(tcgetattr(slave, &t), 0);
	ASSERT_TRUE((t.c_lflag & (ICANON | ECHO | ISIG)) == (ICANON | ECHO | ISIG));
	close(slave);
	close(master);
	fake_vm_destroy(&vm);
}

TEST(glue_port_taken)
{
	struct vm vm;
	struct serial *a, *b;

	fake_vm_init(&vm);
	a = serial_create(&vm, PORT_COM1, IRQ_COM1, -1, -1);
	ASSERT_TRUE(a != NULL);
	b = serial_create(&vm, PORT_COM1 + 4, IRQ_COM1, -1, -1);
	ASSERT_TRUE(b == NULL);
	serial_destroy(a);
	fake_vm_destroy(&vm);
}

int main(void)
{
	RUN(reset_state);
	RUN(divisor_latch);
	RUN(rx_data_interrupt_and_out2_gate);
	RUN(thre_interrupt_transitions);
	RUN(fifo_order_trigger_and_overrun);
	RUN(fcr_clear_and_fifo_off);
	RUN(loopback);
	RUN(scratch);
	RUN(glue_output_buffering);
	RUN(glue_input_flow_control);
	RUN(glue_terminal_raw_mode_and_escape);
	RUN(glue_port_taken);
	return test_done();
}
