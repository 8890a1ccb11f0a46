/*
 * vCPUs: one thread each running KVM_RUN and dispatching exits to the bus.
 * The boot vCPU starts in 64-bit mode at the kernel's entry; the others wait
 * for INIT/SIPI from the guest, as on real hardware.
 */
#ifndef PTVM_VCPU_H
#define PTVM_VCPU_H

#include <pthread.h>

#include "vmm/common.h"

struct vm;
struct kvm_run;
struct kvm_cpuid2;

struct vcpu {
	struct vm *vm;
	int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	/* exits to ptvm, for --stats (written by this vCPU's thread only) */
	u64 exits_io, exits_mmio, exits_other;
};

/* Where the boot vCPU starts (direct Linux boot). */
struct vcpu_boot {
	u64 entry;       /* 64-bit entry point */
	u64 boot_params; /* RSI */
};

/* KVM_GET_SUPPORTED_CPUID, malloc'd; NULL on error. */
struct kvm_cpuid2 *vcpu_supported_cpuid(struct vm *vm);
/* Create vm->cfg->cpus vCPUs with CPUID and LAPIC set up. */
int vcpus_create(struct vm *vm);
/* Write GDT and page tables to guest RAM and set the boot vCPU's registers. */
int vcpu_setup_boot(struct vm *vm, const struct vcpu_boot *b);
/* Put the boot vCPU at the reset vector in real mode (firmware boot). */
int vcpu_setup_reset(struct vm *vm);
/* Start every vCPU thread. */
int vcpus_start(struct vm *vm);
/* Kick all vCPUs out of KVM_RUN (they stop if the VM is stopping). */
void vcpu_kick_all(struct vm *vm);
/* Print each vCPU's exit counts (--stats; after the threads ended). */
void vcpus_print_stats(struct vm *vm);
/* Wait for the threads to end (call vm_stop first). */
void vcpus_join(struct vm *vm);
/* Join the threads and close the vCPUs. */
void vcpus_destroy(struct vm *vm);

#endif
