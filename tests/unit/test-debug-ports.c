/* debug-exit, debugcon and the 0x80/0xED sinks. */
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "devices/debug-exit.h"
#include "devices/debugcon.h"
#include "devices/port-sinks.h"
#include "tests/unit/fake-vm.h"
#include "tests/unit/harness.h"

TEST(debug_exit_value_mapping)
{
	const u8 one[1] = { 0x2a }, two[2] = { 0x34, 0x12 }, four[4] = { 0x01, 0x00, 0x00, 0x00 };
	const u8 big[4] = { 0xff, 0x01, 0x00, 0x00 };

	ASSERT_EQ(debug_exit_status(one, 1), 42);
	ASSERT_EQ(debug_exit_status(two, 2), 0x34);
	/* the value itself, not QEMU's (V << 1) | 1 = 3 */
	ASSERT_EQ(debug_exit_status(four, 4), 1);
	ASSERT_EQ(debug_exit_status(big, 4), 0xff);
}

TEST(debug_exit_stops_vm)
{
	struct vm vm;
	struct debug_exit *d;

	fake_vm_init(&vm);
	d = debug_exit_create(&vm, CONFIG_DEFAULT_DEBUG_EXIT_PORT);
	ASSERT_TRUE(d != NULL);
	ASSERT_EQ(fake_pio(&vm, CONFIG_DEFAULT_DEBUG_EXIT_PORT, 4, false, 0x12345678), 0);
	ASSERT_EQ(vm.stop_reason, VM_RUNNING);
	fake_pio(&vm, CONFIG_DEFAULT_DEBUG_EXIT_PORT, 4, true, 0x103);
	ASSERT_EQ(vm.stop_reason, VM_STOP_EXIT);
	ASSERT_EQ(vm.exit_status, 3);
	/* only the region's one port is claimed */
	ASSERT_TRUE(bus_find(&vm.bus, BUS_PIO, CONFIG_DEFAULT_DEBUG_EXIT_PORT + 1) == NULL);
	debug_exit_destroy(d);
	fake_vm_destroy(&vm);
}

TEST(debugcon_sink)
{
	struct vm vm;
	struct debugcon *d;
	int p[2];
	char buf[16] = { 0 };
	struct pollfd pf;

	fake_vm_init(&vm);
	ASSERT_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	d = debugcon_create(&vm, PORT_DEBUGCON, p[1]);
	ASSERT_TRUE(d != NULL);
	ASSERT_EQ(fake_inb(&vm, PORT_DEBUGCON), DEBUGCON_READBACK);
	fake_outb(&vm, PORT_DEBUGCON, 'o');
	fake_pio(&vm, PORT_DEBUGCON, 2, true, 0x4b4b); /* low byte only: 'K' */
	pf = (struct pollfd){ .fd = p[0], .events = POLLIN };
	ASSERT_EQ(poll(&pf, 1, 0), 0); /* buffered until newline */
	fake_outb(&vm, PORT_DEBUGCON, '\n');
	ASSERT_EQ(read(p[0], buf, sizeof(buf) - 1), 3);
	ASSERT_STR_EQ(buf, "oK\n");
	fake_outb(&vm, PORT_DEBUGCON, 'z');
	debugcon_destroy(d); /* flushes the partial line */
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(read(p[0], buf, sizeof(buf) - 1), 1);
	ASSERT_STR_EQ(buf, "z");
	close(p[0]);
	close(p[1]);
	fake_vm_destroy(&vm);
}

TEST(port_sinks)
{
	struct vm vm;
	struct port_sinks *s;

	fake_vm_init(&vm);
	s = port_sinks_create(&vm);
	ASSERT_TRUE(s != NULL);
	ASSERT_TRUE(bus_find(&vm.bus, BUS_PIO, PORT_POST_CODE) != NULL);
	ASSERT_TRUE(bus_find(&vm.bus, BUS_PIO, PORT_IO_DELAY_ALT) != NULL);
	ASSERT_TRUE(bus_find(&vm.bus, BUS_PIO, PORT_POST_CODE + 1) == NULL);
	fake_outb(&vm, PORT_POST_CODE, 0x12);
	ASSERT_EQ(fake_inb(&vm, PORT_POST_CODE), 0xff);
	ASSERT_EQ(vm.stop_reason, VM_RUNNING);
	port_sinks_destroy(s);
	ASSERT_TRUE(bus_find(&vm.bus, BUS_PIO, PORT_POST_CODE) == NULL);
	fake_vm_destroy(&vm);
}

int main(void)
{
	RUN(debug_exit_value_mapping);
	RUN(debug_exit_stops_vm);
	RUN(debugcon_sink);
	RUN(port_sinks);
	return test_done();
}
