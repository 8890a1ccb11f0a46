/*
 * A struct vm without KVM, for device glue tests: a real bus, device lock and
 * stop state, no VM fd (irq_line() then fails quietly at debug level) and no
 * vCPUs (vm_stop() only records). Accesses go through bus_dispatch() under
 * vm->lock, as the vCPU loop makes them.
 */
#ifndef PTVM_TEST_FAKE_VM_H
#define PTVM_TEST_FAKE_VM_H

#include <pthread.h>
#include <string.h>

#include "vmm/bus.h"
#include "vmm/vm.h"

// A VM with an empty bus and nothing else.
static inline void fake_vm_init(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->ram_fd = -1;
	bus_init(&vm->bus);
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_cond_init(&vm->stop_cond, NULL);
}

// Free what fake_vm_init made (devices must be destroyed first).
static inline void fake_vm_destroy(struct vm *vm)
{
	bus_destroy(&vm->bus);
	pthread_cond_destroy(&vm->stop_cond);
	pthread_mutex_destroy(&vm->stop_lock);
	pthread_mutex_destroy(&vm->lock);
}

// One port access of len bytes (little-endian val); returns what a read saw.
static inline u32 fake_pio(struct vm *vm, u16 port, u32 len, bool write, u32 val)
{
	u8 data[4];
	struct bus_access a = { .addr = port, .data = data, .len = len, .is_write = write };

	memcpy(data, &val, sizeof(data));
	vm_lock(vm);
	bus_dispatch(&vm->bus, BUS_PIO, &a);
	vm_unlock(vm);
	val = 0;
	memcpy(&val, data, len);
	return val;
}

static inline void fake_outb(struct vm *vm, u16 port, u8 v) { fake_pio(vm, port, 1, true, v); }
static inline u8 fake_inb(struct vm *vm, u16 port) { return (u8)fake_pio(vm, port, 1, false, 0); }

#endif
