/*
 * struct vm: the one object that owns everything a running guest needs.
 * There is no global mutable state outside it.
 */
#ifndef PTVM_VM_H
#define PTVM_VM_H

#include <pthread.h>

#include "vmm/bus.h"
#include "vmm/common.h"
#include "vmm/config.h"
#include "vmm/irq.h"
#include "vmm/layout.h"
#include "vmm/memory.h"

struct vcpu;
struct machine;

enum vm_stop_reason {
	VM_RUNNING = 0,
	VM_STOP_POWEROFF, /* ACPI S5: status 0 */
	VM_STOP_RESET,    /* guest reboot: restart or end, per --on-reboot */
	VM_STOP_EXIT,     /* debug-exit port: status is the value written */
	VM_STOP_FAULT,    /* triple fault, internal error: status 1 */
	VM_STOP_SIGNAL,   /* SIGINT/SIGTERM to ptvm */
};

struct vm {
	const struct vm_config *cfg;
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	struct layout layout;

	/* guest RAM: one memfd (or hugetlbfs file), mapped once at ram */
	int ram_fd;
	u8 *ram;
	struct mem_map mem;
	struct mem_listener kvm_listener;
	u64 next_slot; /* bitmap of used KVM memory slots */

	struct bus bus;
	struct irq_table irq;

	/* The device lock: held around every bus access and any device state
	 * change from another thread (serial input, timers). */
	pthread_mutex_t lock;

	struct vcpu *vcpus;
	int nr_vcpus;

	/* how the VM ends: set once by vm_stop(), read by main */
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	enum vm_stop_reason stop_reason;
	int exit_status;

	struct machine *machine; /* devices, owned by vmm/machine.c */
};

/* Open KVM, create the VM, its IRQ chip, PIT and RAM. On error the VM is
 * left for vm_destroy() to clean up; the error was already printed. */
int vm_create(struct vm *vm, const struct vm_config *cfg);
void vm_destroy(struct vm *vm);
/* Wait until vm_stop() was called; returns why. */
enum vm_stop_reason vm_wait(struct vm *vm);
bool vm_stopping(struct vm *vm);
/* Ask every vCPU to stop; the first call wins and records why. Safe from any
 * thread, with or without vm->lock. */
void vm_stop(struct vm *vm, enum vm_stop_reason why, int status);
static inline void vm_lock(struct vm *vm) { pthread_mutex_lock(&vm->lock); }
static inline void vm_unlock(struct vm *vm) { pthread_mutex_unlock(&vm->lock); }

#endif
