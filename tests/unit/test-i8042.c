/* 8042 controller without devices: what Linux's i8042 probe and reboot use. */
#include "devices/i8042.h"
#include "tests/unit/fake-vm.h"
#include "tests/unit/harness.h"

// A controller command that answers one byte: returns it, -1 if none, -2 on reset.
static int command(struct i8042_regs *r, u8 cmd)
{
	if (i8042_regs_write(r, true, cmd) != I8042_ACT_NONE)
		return -2;
	if (!(i8042_regs_read(r, true) & I8042_STR_OBF))
		return -1;
	return i8042_regs_read(r, false);
}

TEST(self_test_and_port_tests)
{
	struct i8042_regs r;

	i8042_regs_init(&r);
	ASSERT_NE(i8042_regs_read(&r, true), 0xff); /* Linux: 0xff means no controller */
	ASSERT_EQ(i8042_regs_read(&r, true) & I8042_STR_OBF, 0);
	ASSERT_EQ(command(&r, 0xaa), 0x55);
	ASSERT_EQ(i8042_regs_read(&r, true) & (I8042_STR_OBF | I8042_STR_SYS), I8042_STR_SYS);
	ASSERT_EQ(command(&r, 0xab), 0x00);
	ASSERT_EQ(command(&r, 0xa9), 0x00);
}

TEST(command_byte_and_port_enables)
{
	struct i8042_regs r;

	i8042_regs_init(&r);
	ASSERT_EQ(i8042_regs_write(&r, true, 0x60), I8042_ACT_NONE);
	ASSERT_EQ(i8042_regs_read(&r, true) & I8042_STR_CMD, I8042_STR_CMD);
	ASSERT_EQ(i8042_regs_write(&r, false, 0x45), I8042_ACT_NONE);
	ASSERT_EQ(i8042_regs_read(&r, true) & (I8042_STR_CMD | I8042_STR_OBF), 0);
	ASSERT_EQ(command(&r, 0x20), 0x45);
	ASSERT_EQ(command(&r, 0xa7), -1);
	ASSERT_EQ(command(&r, 0xad), -1);
	ASSERT_EQ(command(&r, 0x20), 0x45 | I8042_CTR_AUXDIS | I8042_CTR_KBDDIS);
	command(&r, 0xa8);
	command(&r, 0xae);
	ASSERT_EQ(command(&r, 0x20), 0x45);
}

TEST(no_devices_answer_with_timeout)
{
	struct i8042_regs r;

	i8042_regs_init(&r);
	/* a byte for the keyboard (GET ID): 0xFE with the timeout bit */
	ASSERT_EQ(i8042_regs_write(&r, false, 0xf2), I8042_ACT_NONE);
	ASSERT_EQ(i8042_regs_read(&r, true) & (I8042_STR_OBF | I8042_STR_TIMEOUT | I8042_STR_AUXDATA),
		  I8042_STR_OBF | I8042_STR_TIMEOUT);
	ASSERT_EQ(i8042_regs_irq(&r), I8042_IRQ_LINE_KBD);
	ASSERT_EQ(i8042_regs_read(&r, false), 0xfe);
	ASSERT_EQ(i8042_regs_read(&r, true) & (I8042_STR_OBF | I8042_STR_TIMEOUT), 0);
	ASSERT_EQ(i8042_regs_irq(&r), 0);
	/* a byte for the mouse: same, from the aux port */
	i8042_regs_write(&r, true, 0xd4);
	i8042_regs_write(&r, false, 0xff);
	ASSERT_EQ(i8042_regs_read(&r, true) & (I8042_STR_AUXDATA | I8042_STR_TIMEOUT),
		  I8042_STR_AUXDATA | I8042_STR_TIMEOUT);
	ASSERT_EQ(i8042_regs_irq(&r), I8042_IRQ_LINE_AUX);
	ASSERT_EQ(i8042_regs_read(&r, false), 0xfe);
}

TEST(loopback_and_interrupt_enables)
{
	struct i8042_regs r;

	i8042_regs_init(&r);
	i8042_regs_write(&r, true, 0x60);
	i8042_regs_write(&r, false, 0x00); /* both interrupts off */
	i8042_regs_write(&r, true, 0xd3);
	i8042_regs_write(&r, false, 0x5a);
	ASSERT_EQ(i8042_regs_read(&r, true) & (I8042_STR_OBF | I8042_STR_AUXDATA | I8042_STR_TIMEOUT),
		  I8042_STR_OBF | I8042_STR_AUXDATA);
	ASSERT_EQ(i8042_regs_irq(&r), 0);
	i8042_regs_write(&r, true, 0x60);
	i8042_regs_write(&r, false, I8042_CTR_AUXINT);
	/* writing the command byte placed nothing in the buffer: 0x5a still there */
	ASSERT_EQ(i8042_regs_irq(&r), I8042_IRQ_LINE_AUX);
	ASSERT_EQ(i8042_regs_read(&r, false), 0x5a);
	i8042_regs_write(&r, true, 0xd2);
	i8042_regs_write(&r, false, 0x33);
	ASSERT_EQ(i8042_regs_irq(&r), 0); /* keyboard interrupt disabled */
	ASSERT_EQ(i8042_regs_read(&r, false), 0x33);
}

TEST(reset_commands)
{
	struct i8042_regs r;

	i8042_regs_init(&r);
	ASSERT_EQ(i8042_regs_write(&r, true, 0xfe), I8042_ACT_RESET);
	ASSERT_EQ(i8042_regs_write(&r, true, 0xff), I8042_ACT_NONE); /* pulses nothing */
	ASSERT_EQ(i8042_regs_write(&r, true, 0xf0), I8042_ACT_RESET);
	ASSERT_EQ(command(&r, 0xd0), I8042_OUTP_RESET | I8042_OUTP_A20);
	ASSERT_EQ(i8042_regs_write(&r, true, 0xd1), I8042_ACT_NONE);
	ASSERT_EQ(i8042_regs_write(&r, false, I8042_OUTP_RESET), I8042_ACT_NONE);
	ASSERT_EQ(command(&r, 0xd0), I8042_OUTP_RESET);
	ASSERT_EQ(i8042_regs_write(&r, true, 0xd1), I8042_ACT_NONE);
	ASSERT_EQ(i8042_regs_write(&r, false, I8042_OUTP_A20), I8042_ACT_RESET);
}

TEST(glue_reset)
{
	struct vm vm;
	struct i8042 *k;

	fake_vm_init(&vm);
	k = i8042_create(&vm);
	ASSERT_TRUE(k != NULL);
	fake_outb(&vm, PORT_I8042_CMD, 0xaa);
	ASSERT_EQ(fake_inb(&vm, PORT_I8042_CMD) & I8042_STR_OBF, I8042_STR_OBF);
	ASSERT_EQ(fake_inb(&vm, PORT_I8042_DATA), 0x55);
	ASSERT_EQ(vm.stop_reason, VM_RUNNING);
	fake_outb(&vm, PORT_I8042_CMD, 0xfe);
	ASSERT_EQ(vm.stop_reason, VM_STOP_RESET);
	ASSERT_EQ(vm.exit_status, 0);
	i8042_destroy(k);
	fake_vm_destroy(&vm);
}

int main(void)
{
	RUN(self_test_and_port_tests);
	RUN(command_byte_and_port_enables);
	RUN(no_devices_answer_with_timeout);
	RUN(loopback_and_interrupt_enables);
	RUN(reset_commands);
	RUN(glue_reset);
	return test_done();
}
