/*
 * What --cpu hide-kvm, hyperv and hv-vendor-id change in the vCPUs' CPUID
 * (the Windows-guest essentials of the firmware boot path; docs/firmware.md):
 *
 *   hide-kvm   KVM's leaves (0x40000000.., "KVMKVMKVM") are removed, so
 *              drivers that refuse to run in a VM do not find KVM.
 *   hyperv     Hyper-V leaves at 0x40000000-0x40000006 ("Hv#1") with the
 *              enlightenments Windows uses: relaxed timing, vapic, spinlocks,
 *              vpindex, synic, stimer, time reference counter and reference
 *              TSC, frequency MSRs. KVM's leaves move to 0x40000100 (where
 *              Linux also looks) unless hide-kvm drops them. KVM emulates the
 *              MSRs once it sees "Hv#1"; synic needs KVM_CAP_HYPERV_SYNIC2 on
 *              every vCPU (hyperv_vcpu_init).
 *   hv-vendor-id=STR  the Hyper-V vendor string (default "Microsoft Hv").
 */
#ifndef PTVM_HYPERV_H
#define PTVM_HYPERV_H

#include "vmm/common.h"

struct kvm_cpuid2;
struct vm_config;

#define HYPERV_CPUID_BASE 0x40000000u
#define HYPERV_CPUID_MAX 0x40000006u
#define HYPERV_KVM_MOVED_BASE 0x40000100u
#define HYPERV_SIGNATURE_EAX 0x31237648u /* "Hv#1" */
#define HYPERV_DEFAULT_VENDOR "Microsoft Hv"
#define HYPERV_SPINLOCK_RETRIES 0x1fff

/* Rewrite *cpuid (KVM_GET_SUPPORTED_CPUID's list, malloc'd; it may be
 * reallocated) for c's --cpu settings and nr_cpus vCPUs. Nothing changes
 * without hide-kvm or hyperv. 0 or -ENOMEM. */
int hyperv_cpuid_apply(const struct vm_config *c, struct kvm_cpuid2 **cpuid, int nr_cpus);
/* Per vCPU: enable the synthetic interrupt controller when hyperv is on.
 * 0, or -errno with the error printed. */
int hyperv_vcpu_init(int kvm_fd, int vcpu_fd, const struct vm_config *c);

#endif
