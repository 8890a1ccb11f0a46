/*
 * vCPU threads. Each runs KVM_RUN in a loop and hands port I/O and MMIO
 * exits to the bus under the VM's device lock. Anything ptvm cannot handle
 * (triple fault, KVM internal error, failed entry) prints the registers and
 * stops the VM with status 1.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "firmware/hyperv.h"
#include "vmm/log.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define KICK_SIGNAL SIGUSR1

// Get the CPUID leaves KVM can offer, growing the buffer until it fits.
struct kvm_cpuid2 *vcpu_supported_cpuid(struct vm *vm)
{
	for (u32 n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	return NULL;
}

// Number of bits needed to hold values 0..n-1.
static u32 bits_for(u32 n)
{
	u32 b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

// Make CPUID describe one package of n cores, one thread each, this vCPU having APIC ID id.
static void fix_cpuid(struct kvm_cpuid2 *c, u32 id, u32 n)
{
	u32 shift = bits_for(n);

	for (u32 i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->ecx |= 1u << 31; /* hypervisor present: the guest looks for KVM's leaves */
			e->ebx = (e->ebx & 0xffff) | (id << 24) | ((n > 1 ? (1u << shift) : 1) << 16);
			if (n > 1)
				e->edx |= 1u << 28; /* HTT: the count field is valid */
			break;
		case 4: /* Intel cache topology: cores per package */
			if (e->eax & 0x1f)
				e->eax = (e->eax & 0x3ffffff) | (((1u << shift) - 1) << 26);
			break;
		case 0xb:
		case 0x1f: /* Intel extended topology: level 0 threads, level 1 cores */
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8) | 0;
			} else if (e->index == 1) {
				e->eax = shift;
				e->ebx = n;
				e->ecx = (2u << 8) | 1;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			e->edx = id;
			break;
		case 0x80000008: /* AMD: cores per package */
			e->ecx = (e->ecx & ~0xf0ffu) | (shift << 12) | (n - 1);
			break;
		case 0x8000001e: /* AMD: extended APIC ID, one thread per core */
			e->eax = id;
			e->ebx = id & 0xff;
			e->ecx = 0;
			break;
		}
	}
}

// Point LINT0 at the PIC (ExtINT) and LINT1 at NMI, as a PC's firmware leaves them.
static int setup_lapic(struct vcpu *v)
{
	struct kvm_lapic_state l;
	u32 *lint0 = (u32 *)&l.regs[0x350], *lint1 = (u32 *)&l.regs[0x360];

	if (ioctl(v->fd, KVM_GET_LAPIC, &l) < 0)
		return -errno;
	*lint0 = (*lint0 & ~0x700u & ~0x10000u) | (7u << 8);
	*lint1 = (*lint1 & ~0x700u & ~0x10000u) | (4u << 8);
	if (ioctl(v->fd, KVM_SET_LAPIC, &l) < 0)
		return -errno;
	return 0;
}

// MSRs firmware would leave set: MTRRs enabled with write-back as the default
// type (without it Linux runs with PAT off and cannot map write-combining, which
// GPU passthrough needs), and fast string operations on.
static int setup_msrs(struct vcpu *v)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[2];
	} m = {
		.hdr.nmsrs = 2,
		.e = {
			{ .index = 0x2ff, .data = (1u << 11) | 6 }, /* IA32_MTRR_DEF_TYPE: E, type WB */
			{ .index = 0x1a0, .data = 1 },              /* IA32_MISC_ENABLE: fast strings */
		},
	};
	int ret = ioctl(v->fd, KVM_SET_MSRS, &m);

	if (ret < 0)
		return -errno;
	/* a KVM that refuses MISC_ENABLE still took the MTRR default */
	return ret >= 1 ? 0 : -EIO;
}

// x87/SSE state as after reset by firmware.
static int setup_fpu(struct vcpu *v)
{
	struct kvm_fpu f = { .fcw = 0x37f, .mxcsr = 0x1f80 };

	return ioctl(v->fd, KVM_SET_FPU, &f) < 0 ? -errno : 0;
}

// Create one vCPU with its run area, CPUID, LAPIC and FPU state.
static int vcpu_create(struct vm *vm, struct vcpu *v, int id, struct kvm_cpuid2 *cpuid)
{
	int ret;

	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		pr_err("cannot create vCPU %d: %s", id, strerror(errno));
		return -errno;
	}
	v->run = mmap(NULL, (size_t)vm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return -errno;
	}
	fix_cpuid(cpuid, (u32)id, (u32)vm->nr_vcpus);
	if (ioctl(v->fd, KVM_SET_CPUID2, cpuid) < 0) {
		pr_err("vCPU %d: KVM_SET_CPUID2: %s", id, strerror(errno));
		return -errno;
	}
	ret = hyperv_vcpu_init(vm->kvm_fd, v->fd, vm->cfg); /* --cpu hyperv */
	if (!ret)
		ret = setup_lapic(v);
	if (!ret)
		ret = setup_fpu(v);
	if (!ret)
		ret = setup_msrs(v);
	if (ret)
		pr_err("vCPU %d: initial state: %s", id, strerror(-ret));
	return ret;
}

// Create all vCPUs.
int vcpus_create(struct vm *vm)
{
	struct kvm_cpuid2 *cpuid = vcpu_supported_cpuid(vm);
	int ret = 0;

	if (!cpuid) {
		pr_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		return -EIO;
	}
	if (hyperv_cpuid_apply(vm->cfg, &cpuid, vm->cfg->cpus)) { /* --cpu hide-kvm, hyperv */
		free(cpuid);
		return -ENOMEM;
	}
	vm->nr_vcpus = vm->cfg->cpus;
	vm->vcpus = calloc((size_t)vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		free(cpuid);
		return -ENOMEM;
	}
	for (int i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i].fd = -1;
	for (int i = 0; i < vm->nr_vcpus && !ret; i++)
		ret = vcpu_create(vm, &vm->vcpus[i], i, cpuid);
	free(cpuid);
	return ret;
}

// A flat segment for 64-bit code or data.
static struct kvm_segment flat_segment(u16 sel, bool code)
{
	struct kvm_segment s = {
		.base = 0, .limit = 0xffffffff, .selector = sel, .present = 1, .s = 1, .g = 1,
		.type = code ? 0xb : 0x3, .l = code, .db = !code,
	};
	return s;
}

// Write the boot GDT and identity page tables (first 4 GiB, 2 MiB pages) to guest RAM.
static int write_boot_tables(struct vm *vm)
{
	static const u64 gdt[4] = { 0, 0, 0x00af9b000000ffffULL, 0x00cf93000000ffffULL };
	u64 pml4[512] = { 0 }, pdpt[512] = { 0 }, pd[512];
	int ret;

	pml4[0] = (LAYOUT_BOOT_PML4 + 0x1000) | 0x3;
	for (int i = 0; i < 4; i++)
		pdpt[i] = (LAYOUT_BOOT_PML4 + 0x2000 + i * 0x1000ULL) | 0x3;
	ret = mem_write(&vm->mem, LAYOUT_BOOT_GDT, gdt, sizeof(gdt));
	ret = ret ?: mem_write(&vm->mem, LAYOUT_BOOT_PML4, pml4, sizeof(pml4));
	ret = ret ?: mem_write(&vm->mem, LAYOUT_BOOT_PML4 + 0x1000, pdpt, sizeof(pdpt));
	for (int i = 0; i < 4 && !ret; i++) {
		for (int j = 0; j < 512; j++)
			pd[j] = ((u64)i << 30 | (u64)j << 21) | 0x83; /* present, writable, 2 MiB */
		ret = mem_write(&vm->mem, LAYOUT_BOOT_PML4 + 0x2000 + i * 0x1000ULL, pd, sizeof(pd));
	}
	return ret;
}

// Put the boot vCPU in 64-bit mode at the kernel's entry with RSI = boot_params.
int vcpu_setup_boot(struct vm *vm, const struct vcpu_boot *b)
{
	struct vcpu *v = &vm->vcpus[0];
	struct kvm_sregs s;
	struct kvm_regs r = { .rip = b->entry, .rsi = b->boot_params, .rflags = 2 };
	int ret = write_boot_tables(vm);

	if (ret)
		return ret;
	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	s.cs = flat_segment(0x10, true);
	s.ds = s.es = s.fs = s.gs = s.ss = flat_segment(0x18, false);
	s.gdt.base = LAYOUT_BOOT_GDT;
	s.gdt.limit = 4 * 8 - 1;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cr0 = 0x80000011; /* PG | ET | PE */
	s.cr3 = LAYOUT_BOOT_PML4;
	s.cr4 = 0x20;       /* PAE */
	s.efer = 0x500;     /* LMA | LME */
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0 || ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	return 0;
}

// Put the boot vCPU in the x86 reset state: real mode, CS base 0xFFFF0000, IP 0xFFF0
// (firmware boot; the other vCPUs wait for INIT/SIPI as after any reset).
int vcpu_setup_reset(struct vm *vm)
{
	struct vcpu *v = &vm->vcpus[0];
	struct kvm_sregs s;
	struct kvm_regs r = { .rip = 0xfff0, .rflags = 2 };
	struct kvm_segment seg = {
		.base = 0, .limit = 0xffff, .selector = 0, .type = 0x3, .present = 1, .s = 1,
	};

	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	s.ds = s.es = s.fs = s.gs = s.ss = seg;
	s.cs = seg;
	s.cs.type = 0xb;
	s.cs.selector = 0xf000;
	s.cs.base = 0xffff0000;
	s.gdt.base = s.idt.base = 0;
	s.gdt.limit = s.idt.limit = 0xffff;
	s.cr0 = 0x60000010; /* CD | NW | ET */
	s.cr3 = s.cr4 = s.efer = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0 || ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	return 0;
}

// Print the vCPU's registers (for faults).
static void dump_regs(struct vcpu *v)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		pr_err("vCPU %d: cannot read registers: %s", v->id, strerror(errno));
		return;
	}
	pr_err("vCPU %d registers:", v->id);
	pr_err(" rip %016llx rsp %016llx rflags %08llx", r.rip, r.rsp, r.rflags);
	pr_err(" rax %016llx rbx %016llx rcx %016llx rdx %016llx", r.rax, r.rbx, r.rcx, r.rdx);
	pr_err(" rsi %016llx rdi %016llx rbp %016llx", r.rsi, r.rdi, r.rbp);
	pr_err(" r8  %016llx r9  %016llx r10 %016llx r11 %016llx", r.r8, r.r9, r.r10, r.r11);
	pr_err(" r12 %016llx r13 %016llx r14 %016llx r15 %016llx", r.r12, r.r13, r.r14, r.r15);
	pr_err(" cs %04x (base %llx l %d) ss %04x cr0 %llx cr2 %llx cr3 %llx cr4 %llx efer %llx",
	       s.cs.selector, s.cs.base, s.cs.l, s.ss.selector, s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
}

// Stop the VM because of something ptvm cannot handle.
static void fault(struct vcpu *v, const char *what)
{
	pr_err("vCPU %d: %s", v->id, what);
	dump_regs(v);
	vm_stop(v->vm, VM_STOP_FAULT, 1);
}

// Hand a port I/O exit to the bus, once per repetition (rep ins/outs).
static void handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	u8 *data = (u8 *)run + run->io.data_offset;

	vm_lock(v->vm);
	for (u32 i = 0; i < run->io.count; i++) {
		struct bus_access a = {
			.addr = run->io.port, .data = data + i * run->io.size, .len = run->io.size,
			.is_write = run->io.direction == KVM_EXIT_IO_OUT, .vcpu = v->id,
		};
		bus_dispatch(&v->vm->bus, BUS_PIO, &a);
	}
	vm_unlock(v->vm);
}

// Hand an MMIO exit to the bus.
static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct bus_access a = {
		.addr = run->mmio.phys_addr, .data = run->mmio.data, .len = run->mmio.len,
		.is_write = run->mmio.is_write, .vcpu = v->id,
	};

	if (a.len > sizeof(run->mmio.data))
		a.len = sizeof(run->mmio.data);
	vm_lock(v->vm);
	bus_dispatch(&v->vm->bus, BUS_MMIO, &a);
	vm_unlock(v->vm);
}

// A KVM_SYSTEM_EVENT exit: the guest asked KVM (e.g. PSCI-like paths) to stop or reset.
static void handle_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_stop(v->vm, VM_STOP_POWEROFF, 0);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_stop(v->vm, VM_STOP_RESET, 0);
		break;
	default:
		fault(v, "unexpected system event");
	}
}

// The vCPU thread: run until the VM stops.
static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct kvm_run *run = v->run;
	char what[96];
	sigset_t set;

	snprintf(what, sizeof(what), "vcpu%d", v->id); /* as top and ps -L show it */
	pthread_setname_np(pthread_self(), what);
	sigemptyset(&set);
	sigaddset(&set, KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	while (!vm_stopping(v->vm)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				run->immediate_exit = 0;
				continue;
			}
			snprintf(what, sizeof(what), "KVM_RUN failed: %s", strerror(errno));
			fault(v, what);
			break;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			v->exits_io++;
			handle_io(v);
			break;
		case KVM_EXIT_MMIO:
			v->exits_mmio++;
			handle_mmio(v);
			break;
		case KVM_EXIT_INTR:
			v->exits_other++;
			break;
		case KVM_EXIT_HLT:
			/* only without an in-kernel LAPIC; ours has one */
			break;
		case KVM_EXIT_SHUTDOWN:
			fault(v, "triple fault (the guest crashed; see the registers)");
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			handle_system_event(v);
			break;
		case KVM_EXIT_FAIL_ENTRY:
			snprintf(what, sizeof(what), "KVM could not enter the guest (hardware reason 0x%llx)",
				 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			fault(v, what);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			snprintf(what, sizeof(what), "KVM internal error (suberror %u)", run->internal.suberror);
			fault(v, what);
			break;
		default:
			snprintf(what, sizeof(what), "unhandled KVM exit reason %u", run->exit_reason);
			fault(v, what);
		}
	}
	return NULL;
}

// The kick signal only interrupts KVM_RUN; nothing to do in the handler.
static void kick_handler(int sig)
{
	(void)sig;
}

// Thread attributes for vCPU i: pinned to its host CPU with --cpu-affinity.
static void vcpu_attr(struct vm *vm, int i, pthread_attr_t *attr)
{
	const struct vm_config *c = vm->cfg;
	cpu_set_t set;

	pthread_attr_init(attr);
	if (i >= c->nr_cpu_affinity)
		return;
	CPU_ZERO(&set);
	CPU_SET(c->cpu_affinity[i], &set); /* config.c keeps it below CPU_SETSIZE */
	pthread_attr_setaffinity_np(attr, sizeof(set), &set);
}

// Start one thread per vCPU.
int vcpus_start(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = kick_handler };

	sigemptyset(&sa.sa_mask);
	sigaction(KICK_SIGNAL, &sa, NULL);
	for (int i = 0; i < vm->nr_vcpus; i++) {
		pthread_attr_t attr;
		int ret;

		vcpu_attr(vm, i, &attr);
		ret = pthread_create(&vm->vcpus[i].thread, &attr, vcpu_thread, &vm->vcpus[i]);
		pthread_attr_destroy(&attr);
		if (ret == EINVAL && i < vm->cfg->nr_cpu_affinity)
			pr_err("--cpu-affinity: cannot pin vCPU %d to host CPU %d: no such CPU, or not "
			       "one ptvm may use: give CPUs of this host (nproc and lscpu list them)", i,
			       vm->cfg->cpu_affinity[i]);
		else if (ret)
			pr_err("cannot start vCPU %d thread: %s", i, strerror(ret));
		if (ret) {
			vm_stop(vm, VM_STOP_FAULT, 1);
			return -ret;
		}
		vm->vcpus[i].started = true;
	}
	return 0;
}

// Make every vCPU leave KVM_RUN soon.
void vcpu_kick_all(struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->run)
			__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		if (v->started && !pthread_equal(v->thread, pthread_self()))
			pthread_kill(v->thread, KICK_SIGNAL);
	}
}

// Print each vCPU's exit counts.
void vcpus_print_stats(struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		pr_err("stats: vCPU %d exits: io %llu mmio %llu other %llu", i,
		       (unsigned long long)v->exits_io, (unsigned long long)v->exits_mmio,
		       (unsigned long long)v->exits_other);
	}
}

// Wait for every vCPU thread to end (after vm_stop).
void vcpus_join(struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->started)
			pthread_join(v->thread, NULL);
		v->started = false;
	}
}

// Join and free every vCPU.
void vcpus_destroy(struct vm *vm)
{
	vcpus_join(vm);
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->run)
			munmap(v->run, (size_t)vm->vcpu_mmap_size);
		if (v->fd >= 0)
			close(v->fd);
	}
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->nr_vcpus = 0;
}
