/*
 * Hyper-V and hide-kvm CPUID (see hyperv.h). Leaf values follow the Hyper-V
 * Top Level Functional Specification (partition privileges in 0x40000003,
 * recommendations in 0x40000004).
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "firmware/hyperv.h"
#include "vmm/config.h"
#include "vmm/log.h"

#ifndef KVM_CAP_HYPERV_SYNIC2
#define KVM_CAP_HYPERV_SYNIC2 148
#endif

/* 0x40000003 EAX: the MSRs the partition may use */
#define HV_VP_RUNTIME 0x1
#define HV_TIME_REF_COUNT 0x2
#define HV_SYNIC 0x4
#define HV_SYNTIMERS 0x8
#define HV_APIC_ACCESS 0x10
#define HV_HYPERCALL 0x20
#define HV_VP_INDEX 0x40
#define HV_REFERENCE_TSC 0x200
#define HV_FREQUENCY_MSRS 0x800
/* 0x40000003 EDX */
#define HV_FEATURE_FREQUENCY_MSRS 0x100
/* 0x40000004 EAX: recommendations */
#define HV_APIC_ACCESS_RECOMMENDED 0x8
#define HV_RELAXED_TIMING_RECOMMENDED 0x20

// Whether a leaf belongs to the hypervisor range KVM fills (0x40000000..0x400000ff).
static bool in_kvm_range(u32 fn)
{
	return fn >= HYPERV_CPUID_BASE && fn < HYPERV_CPUID_BASE + 0x100;
}

// Pack 12 characters (NUL-padded) into EBX, ECX, EDX as CPUID returns vendor strings.
static void vendor_regs(const char *s, u32 *ebx, u32 *ecx, u32 *edx)
{
	char v[12] = { 0 };
	size_t n = strcspn(s, ",");

	memcpy(v, s, n > 12 ? 12 : n);
	memcpy(ebx, v, 4);
	memcpy(ecx, v + 4, 4);
	memcpy(edx, v + 8, 4);
}

// Fill the Hyper-V leaves into out[0..7).
static int hv_leaves(const struct vm_config *c, int nr_cpus, struct kvm_cpuid_entry2 *out)
{
	struct kvm_cpuid_entry2 *e;
	int n = 0;

	for (u32 fn = HYPERV_CPUID_BASE; fn <= HYPERV_CPUID_MAX; fn++) {
		e = &out[n++];
		memset(e, 0, sizeof(*e));
		e->function = fn;
	}
	e = out;
	e[0].eax = HYPERV_CPUID_MAX;
	vendor_regs(c->hv_vendor_id ? c->hv_vendor_id : HYPERV_DEFAULT_VENDOR, &e[0].ebx, &e[0].ecx,
		    &e[0].edx);
	e[1].eax = HYPERV_SIGNATURE_EAX;
	e[2].eax = 0x3839;    /* build number */
	e[2].ebx = 0xa0000;   /* version 10.0 */
	e[3].eax = HV_VP_RUNTIME | HV_TIME_REF_COUNT | HV_SYNIC | HV_SYNTIMERS | HV_APIC_ACCESS |
		   HV_HYPERCALL | HV_VP_INDEX | HV_REFERENCE_TSC | HV_FREQUENCY_MSRS;
	e[3].edx = HV_FEATURE_FREQUENCY_MSRS;
	e[4].eax = HV_APIC_ACCESS_RECOMMENDED | HV_RELAXED_TIMING_RECOMMENDED;
	e[4].ebx = HYPERV_SPINLOCK_RETRIES;
	e[5].eax = (u32)nr_cpus; /* virtual processors */
	e[5].ebx = (u32)nr_cpus; /* logical processors */
	return n;
}

// Rebuild the list: KVM leaves dropped or moved, Hyper-V leaves added.
int hyperv_cpuid_apply(const struct vm_config *c, struct kvm_cpuid2 **cpuid, int nr_cpus)
{
	struct kvm_cpuid2 *in = *cpuid, *out;
	u32 n = 0;

	if (!c->cpu_hide_kvm && !c->cpu_hyperv)
		return 0;
	out = calloc(1, sizeof(*out) + (in->nent + 8) * sizeof(out->entries[0]));
	if (!out)
		return -ENOMEM;
	for (u32 i = 0; i < in->nent; i++) {
		struct kvm_cpuid_entry2 e = in->entries[i];

		if (in_kvm_range(e.function)) {
			if (c->cpu_hide_kvm)
				continue;
			/* the signature leaf's EAX is the highest KVM leaf: it moves too */
			if (e.function == HYPERV_CPUID_BASE)
				e.eax += HYPERV_KVM_MOVED_BASE - HYPERV_CPUID_BASE;
			e.function += HYPERV_KVM_MOVED_BASE - HYPERV_CPUID_BASE;
		}
		out->entries[n++] = e;
	}
	if (c->cpu_hyperv)
		n += (u32)hv_leaves(c, nr_cpus, &out->entries[n]);
	out->nent = n;
	free(in);
	*cpuid = out;
	return 0;
}

// Turn on the synthetic interrupt controller (synic, and stimer on top of it).
int hyperv_vcpu_init(int kvm_fd, int vcpu_fd, const struct vm_config *c)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_HYPERV_SYNIC2 };

	if (!c->cpu_hyperv)
		return 0;
	if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_HYPERV_SYNIC2) <= 0) {
		pr_err("--cpu hyperv: this host's KVM has no Hyper-V SynIC (KVM_CAP_HYPERV_SYNIC2): use a newer kernel or drop hyperv");
		return -ENOTSUP;
	}
	if (ioctl(vcpu_fd, KVM_ENABLE_CAP, &cap) < 0) {
		pr_err("--cpu hyperv: enabling the Hyper-V SynIC failed: %s", strerror(errno));
		return -errno;
	}
	return 0;
}
