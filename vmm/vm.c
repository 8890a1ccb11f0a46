/*
 * The VM: /dev/kvm, the KVM VM with its in-kernel IRQ chip and PIT, guest RAM
 * (a memfd, optionally of huge pages) and the KVM memory-slot listener.
 * Order of creation: KVM -> VM -> irqchip/PIT -> RAM -> memslots; vCPUs and
 * devices come later (vcpu.c, machine.c). vm_destroy() undoes it all.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "passthrough/vfio-pci.h"
#include "vmm/log.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif

/* KVM's private pages: identity-map page and TSS (3 pages) just below the
 * flash and above the local APIC, as on a PC (same place QEMU puts them). */
#define KVM_IDENTITY_MAP_GPA 0xfeffc000ULL
#define KVM_TSS_GPA 0xfeffd000ULL

// Open /dev/kvm with an error that says how to fix it.
static int open_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		pr_err("/dev/kvm does not exist: enable virtualization (VT-x/AMD-V) in the firmware and load the module (modprobe kvm_intel or kvm_amd)");
	else if (errno == EACCES || errno == EPERM)
		pr_err("no permission to open /dev/kvm: add your user to the kvm group (sudo usermod -aG kvm $USER, then log in again) or run as root");
	else
		pr_err("cannot open /dev/kvm: %s", strerror(errno));
	return -errno;
}

// Require a KVM capability, naming it if missing.
static int need_cap(struct vm *vm, int cap, const char *name)
{
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, cap) > 0)
		return 0;
	pr_err("this host's KVM lacks %s: use a newer kernel (4.14 or later)", name);
	return -ENOTSUP;
}

// Guest physical address bits, from the CPUID KVM supports.
static int host_phys_bits(struct vm *vm)
{
	struct kvm_cpuid2 *c = vcpu_supported_cpuid(vm);
	int bits = 36;

	if (!c)
		return bits;
	for (u32 i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0x80000008)
			bits = c->entries[i].eax & 0xff;
	free(c);
	return bits;
}

// KVM listener: give a region a memory slot.
static int kvm_region_add(struct mem_listener *l, struct mem_region *r)
{
	struct vm *vm = l->opaque;
	struct kvm_userspace_memory_region m = {
		.guest_phys_addr = r->gpa,
		.memory_size = r->size,
		.userspace_addr = (u64)(uintptr_t)r->hva,
	};
	u32 slot;

	for (slot = 0; slot < 64 && (vm->next_slot & (1ULL << slot)); slot++)
		;
	if (slot == 64)
		return -ENOSPC;
	m.slot = slot;
	if (r->kind == MEM_ROM || (r->flags & MEM_F_READONLY))
		m.flags |= KVM_MEM_READONLY;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &m) < 0) {
		int err = errno;

		pr_err("%s: KVM_SET_USER_MEMORY_REGION 0x%llx+0x%llx: %s", r->name,
		       (unsigned long long)r->gpa, (unsigned long long)r->size, strerror(err));
		return -err;
	}
	vm->next_slot |= 1ULL << slot;
	r->slot = (int)slot;
	return 0;
}

// KVM listener: free a region's memory slot.
static void kvm_region_del(struct mem_listener *l, struct mem_region *r)
{
	struct vm *vm = l->opaque;
	struct kvm_userspace_memory_region m = { .slot = (u32)r->slot };

	if (r->slot < 0)
		return;
	ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &m);
	vm->next_slot &= ~(1ULL << r->slot);
	r->slot = -1;
}

// The default huge page size in bytes (from /proc/meminfo), 2 MiB if unknown.
static u64 huge_page_size(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long kb = 2048;
	char line[128];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Hugepagesize: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb * KiB;
}

// Allocate guest RAM as one shared memfd mapping (so the IOMMU and KVM see the same pages).
static int alloc_ram(struct vm *vm)
{
	const struct vm_config *c = vm->cfg;
	unsigned int flags = MFD_CLOEXEC | (c->hugepages ? MFD_HUGETLB : 0);
	int mflags = MAP_SHARED | (c->prefault ? MAP_POPULATE : 0);

	vm->ram_fd = memfd_create("ptvm-ram", flags);
	if (vm->ram_fd < 0) {
		pr_err("cannot create guest RAM (memfd%s): %s", c->hugepages ? " of huge pages" : "",
		       strerror(errno));
		return -errno;
	}
	if (ftruncate(vm->ram_fd, (off_t)c->ram_size) < 0) {
		pr_err("cannot size guest RAM to %llu MiB: %s%s", (unsigned long long)(c->ram_size >> 20),
		       strerror(errno), c->hugepages ? " (is the size a multiple of the huge page size?)" : "");
		return -errno;
	}
	vm->ram = mmap(NULL, c->ram_size, PROT_READ | PROT_WRITE, mflags, vm->ram_fd, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		if (c->hugepages)
			pr_err("cannot map %llu MiB of huge pages: %s: reserve them first (echo %llu > /proc/sys/vm/nr_hugepages, more if other programs use them)",
			       (unsigned long long)(c->ram_size >> 20), strerror(errno),
			       (unsigned long long)(c->ram_size / huge_page_size()));
		else
			pr_err("cannot map %llu MiB of guest RAM: %s", (unsigned long long)(c->ram_size >> 20),
			       strerror(errno));
		return -errno;
	}
	if (!c->hugepages)
		madvise(vm->ram, c->ram_size, MADV_HUGEPAGE);
	return 0;
}

// Put RAM into the memory map: below the PCI hole and above 4 GiB.
static int map_ram(struct vm *vm)
{
	struct mem_region low = {
		.name = "ram-low", .gpa = 0, .size = vm->layout.low_ram_size, .hva = vm->ram, .kind = MEM_RAM,
	};
	struct mem_region high = {
		.name = "ram-high", .gpa = LAYOUT_HIGH_RAM_BASE, .size = vm->layout.high_ram_size,
		.hva = vm->ram + vm->layout.low_ram_size, .kind = MEM_RAM,
	};
	int ret = mem_add(&vm->mem, &low);

	if (!ret && high.size)
		ret = mem_add(&vm->mem, &high);
	return ret;
}

// Create the KVM VM and its RAM for cfg.
int vm_create(struct vm *vm, const struct vm_config *cfg)
{
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = vm->ram_fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_cond_init(&vm->stop_cond, NULL);
	mem_init(&vm->mem);
	bus_init(&vm->bus);
	vm->bus.trace_unhandled = cfg->trace_unhandled;

	vm->kvm_fd = open_kvm();
	if (vm->kvm_fd < 0)
		return vm->kvm_fd;
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		pr_err("/dev/kvm speaks an unknown KVM API version");
		return -ENOTSUP;
	}
	if ((ret = need_cap(vm, KVM_CAP_IRQCHIP, "an in-kernel IRQ chip")) ||
	    (ret = need_cap(vm, KVM_CAP_USER_MEMORY, "user memory")) ||
	    (ret = need_cap(vm, KVM_CAP_IRQ_ROUTING, "IRQ routing")) ||
	    (ret = need_cap(vm, KVM_CAP_IRQFD, "irqfd")) ||
	    (ret = need_cap(vm, KVM_CAP_IMMEDIATE_EXIT, "immediate exit")) ||
	    (ret = need_cap(vm, KVM_CAP_PIT2, "the in-kernel PIT")))
		return ret;
	do
		vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0) {
		pr_err("KVM_CREATE_VM: %s", strerror(errno));
		return -errno;
	}
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &(u64){ KVM_IDENTITY_MAP_GPA }) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_GPA) < 0 ||
	    ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0 ||
	    ioctl(vm->vm_fd, KVM_CREATE_PIT2, &(struct kvm_pit_config){ .flags = KVM_PIT_SPEAKER_DUMMY }) < 0) {
		pr_err("setting up the KVM VM (irqchip, PIT, TSS): %s", strerror(errno));
		return -errno;
	}
	ret = irq_init(vm);
	if (ret)
		return ret;

	/* the 64-bit PCI window must hold every passed-through 64-bit BAR */
	ret = layout_compute(&vm->layout, cfg->ram_size, host_phys_bits(vm),
			     passthrough_mmio64_need(cfg));
	if (ret) {
		pr_err("%llu MiB of RAM does not fit in this host's %d physical address bits: give less --memory",
		       (unsigned long long)(cfg->ram_size >> 20), host_phys_bits(vm));
		return ret;
	}
	vm->kvm_listener = (struct mem_listener){
		.name = "kvm-memslots", .region_add = kvm_region_add, .region_del = kvm_region_del, .opaque = vm,
	};
	ret = mem_listener_register(&vm->mem, &vm->kvm_listener);
	if (ret)
		return ret;
	ret = alloc_ram(vm);
	if (ret)
		return ret;
	return map_ram(vm);
}

// Undo vm_create (vCPUs and devices must already be gone).
void vm_destroy(struct vm *vm)
{
	while (vm->mem.nr)
		mem_del(&vm->mem, vm->mem.regions[0].gpa);
	if (vm->ram)
		munmap(vm->ram, vm->cfg->ram_size);
	if (vm->ram_fd >= 0)
		close(vm->ram_fd);
	irq_destroy(vm);
	bus_destroy(&vm->bus);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	pthread_mutex_destroy(&vm->lock);
	pthread_mutex_destroy(&vm->stop_lock);
	pthread_cond_destroy(&vm->stop_cond);
	vm->ram = NULL;
	vm->ram_fd = vm->vm_fd = vm->kvm_fd = -1;
}

// Record why the VM stops (first caller wins) and kick every vCPU out of KVM_RUN.
void vm_stop(struct vm *vm, enum vm_stop_reason why, int status)
{
	pthread_mutex_lock(&vm->stop_lock);
	if (vm->stop_reason == VM_RUNNING) {
		vm->stop_reason = why;
		vm->exit_status = status;
	}
	pthread_cond_broadcast(&vm->stop_cond);
	pthread_mutex_unlock(&vm->stop_lock);
	vcpu_kick_all(vm);
}

// Block until vm_stop() is called; returns the reason.
enum vm_stop_reason vm_wait(struct vm *vm)
{
	enum vm_stop_reason r;

	pthread_mutex_lock(&vm->stop_lock);
	while (vm->stop_reason == VM_RUNNING)
		pthread_cond_wait(&vm->stop_cond, &vm->stop_lock);
	r = vm->stop_reason;
	pthread_mutex_unlock(&vm->stop_lock);
	return r;
}

// Has vm_stop() been called?
bool vm_stopping(struct vm *vm)
{
	bool s;

	pthread_mutex_lock(&vm->stop_lock);
	s = vm->stop_reason != VM_RUNNING;
	pthread_mutex_unlock(&vm->stop_lock);
	return s;
}
