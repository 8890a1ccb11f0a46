/* Firmware debug console: a byte sink on one port, written to an fd. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/debugcon.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define DEBUGCON_BUF 256

struct debugcon {
	struct vm *vm;
	struct bus_region region;
	int fd;
	bool failed; /* a write error was reported; later bytes are dropped */
	u8 buf[DEBUGCON_BUF];
	size_t len;
};

// Write out the buffered bytes. vm->lock held (or vCPUs stopped).
static void debugcon_flush(struct debugcon *d)
{
	size_t done = 0;

	while (done < d->len && !d->failed) {
		ssize_t n = write(d->fd, d->buf + done, d->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pr_warn("debugcon: writing the firmware log failed (%s); dropping it",
				strerror(errno));
			d->failed = true;
			break;
		}
		done += (size_t)n;
	}
	d->len = 0;
}

// Bus callback: the low byte of a write is one character (as in QEMU).
static void debugcon_access(void *opaque, struct bus_access *a)
{
	struct debugcon *d = opaque;

	if (!a->is_write) {
		a->data[0] = DEBUGCON_READBACK;
		memset(a->data + 1, 0, a->len - 1);
		return;
	}
	if (d->fd < 0 || d->failed)
		return;
	d->buf[d->len++] = a->data[0];
	if (a->data[0] == '\n' || d->len == sizeof(d->buf))
		debugcon_flush(d);
}

// Register the port; bytes go to fd.
struct debugcon *debugcon_create(struct vm *vm, u16 port, int fd)
{
	struct debugcon *d = calloc(1, sizeof(*d));
	int ret;

	if (!d) {
		pr_err("debugcon: out of memory");
		return NULL;
	}
	d->vm = vm;
	d->fd = fd;
	d->region = (struct bus_region){
		.name = "debugcon", .space = BUS_PIO, .base = port, .size = 1,
		.access = debugcon_access, .opaque = d,
	};
	ret = bus_register(&vm->bus, &d->region);
	if (ret < 0) {
		pr_err("debugcon: port 0x%x is taken (%s)", port, strerror(-ret));
		free(d);
		return NULL;
	}
	return d;
}

// Flush the partial line and unregister.
void debugcon_destroy(struct debugcon *d)
{
	if (!d)
		return;
	vm_lock(d->vm);
	debugcon_flush(d);
	vm_unlock(d->vm);
	bus_unregister(&d->vm->bus, &d->region);
	free(d);
}
