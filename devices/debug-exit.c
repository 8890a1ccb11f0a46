/* Debug-exit port: a guest write ends the VM with the written status. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/debug-exit.h"
#include "vmm/log.h"
#include "vmm/vm.h"

struct debug_exit {
	struct vm *vm;
	struct bus_region region;
};

// Exit status for a write: V & 0xff.
int debug_exit_status(const u8 *data, u32 len)
{
	/* V & 0xff is the low byte of the little-endian value, whatever len is */
	return len ? data[0] : 0;
}

// Bus callback: writes stop the VM, reads see 0.
static void debug_exit_access(void *opaque, struct bus_access *a)
{
	struct debug_exit *d = opaque;

	if (!a->is_write) {
		memset(a->data, 0, a->len);
		return;
	}
	vm_stop(d->vm, VM_STOP_EXIT, debug_exit_status(a->data, a->len));
}

// Register the one-byte port.
struct debug_exit *debug_exit_create(struct vm *vm, u16 port)
{
	struct debug_exit *d = calloc(1, sizeof(*d));
	int ret;

	if (!d) {
		pr_err("debug-exit: out of memory");
		return NULL;
	}
	d->vm = vm;
	d->region = (struct bus_region){
		.name = "debug-exit", .space = BUS_PIO, .base = port, .size = 1,
		.access = debug_exit_access, .opaque = d,
	};
	ret = bus_register(&vm->bus, &d->region);
	if (ret < 0) {
		pr_err("debug-exit: port 0x%x is taken (%s); pick another with --debug-exit-port",
		       port, strerror(-ret));
		free(d);
		return NULL;
	}
	return d;
}

// Unregister the port.
void debug_exit_destroy(struct debug_exit *d)
{
	if (!d)
		return;
	bus_unregister(&d->vm->bus, &d->region);
	free(d);
}
