/* Silent ports 0x80 and 0xED. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/port-sinks.h"
#include "vmm/log.h"
#include "vmm/vm.h"

struct port_sinks {
	struct vm *vm;
	struct bus_region post, delay;
};

// Bus callback: swallow writes, read as an empty bus.
static void port_sinks_access(void *opaque, struct bus_access *a)
{
	if (!a->is_write)
		memset(a->data, 0xff, a->len);
}

// Register 0x80 and 0xED.
struct port_sinks *port_sinks_create(struct vm *vm)
{
	struct port_sinks *p = calloc(1, sizeof(*p));
	int ret;

	if (!p) {
		pr_err("port-sinks: out of memory");
		return NULL;
	}
	p->vm = vm;
	p->post = (struct bus_region){
		.name = "post-code", .space = BUS_PIO, .base = PORT_POST_CODE, .size = 1,
		.access = port_sinks_access, .opaque = p,
	};
	p->delay = p->post;
	p->delay.name = "io-delay";
	p->delay.base = PORT_IO_DELAY_ALT;
	ret = bus_register_all(&vm->bus, (struct bus_region *[]){ &p->post, &p->delay }, 2);
	if (!ret)
		return p;
	pr_err("port-sinks: port 0x80 or 0xed is taken (%s)", strerror(-ret));
	free(p);
	return NULL;
}

// Unregister both ports.
void port_sinks_destroy(struct port_sinks *p)
{
	if (!p)
		return;
	bus_unregister_all(&p->vm->bus, (struct bus_region *[]){ &p->post, &p->delay }, 2);
	free(p);
}
