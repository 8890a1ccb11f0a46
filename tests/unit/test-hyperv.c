/* --cpu hide-kvm / hyperv / hv-vendor-id: the CPUID list KVM gets. */
#include <linux/kvm.h>
#include <stdlib.h>

#include "firmware/hyperv.h"
#include "tests/unit/harness.h"
#include "vmm/config.h"

// A list like KVM_GET_SUPPORTED_CPUID's: leaves 0 and 1, KVM's 0x40000000/1.
static struct kvm_cpuid2 *supported(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 4 * sizeof(c->entries[0]));

	c->nent = 4;
	c->entries[0].function = 0;
	c->entries[1].function = 1;
	c->entries[1].ecx = 1u << 31;
	c->entries[2].function = 0x40000000;
	c->entries[2].eax = 0x40000001;
	memcpy(&c->entries[2].ebx, "KVMK", 4);
	memcpy(&c->entries[2].ecx, "VMKV", 4);
	memcpy(&c->entries[2].edx, "M\0\0\0", 4);
	c->entries[3].function = 0x40000001;
	c->entries[3].eax = 0x1234;
	return c;
}

static struct kvm_cpuid_entry2 *leaf(struct kvm_cpuid2 *c, u32 fn)
{
	for (u32 i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn)
			return &c->entries[i];
	return NULL;
}

// The 12-character vendor string of leaf e (EBX, ECX, EDX), NUL-terminated in out.
static const char *vendor_of(const struct kvm_cpuid_entry2 *e, char out[13])
{
	memcpy(out, &e->ebx, 4);
	memcpy(out + 4, &e->ecx, 4);
	memcpy(out + 8, &e->edx, 4);
	out[12] = '\0';
	return out;
}

TEST(nothing_asked_nothing_changes)
{
	struct vm_config cfg;
	struct kvm_cpuid2 *c = supported(), *orig = c;

	config_init(&cfg);
	ASSERT_EQ(hyperv_cpuid_apply(&cfg, &c, 2), 0);
	ASSERT_TRUE(c == orig);
	ASSERT_EQ(c->nent, 4);
	free(c);
}

TEST(hide_kvm_drops_the_signature)
{
	struct vm_config cfg;
	struct kvm_cpuid2 *c = supported();

	config_init(&cfg);
	cfg.cpu_hide_kvm = true;
	ASSERT_EQ(hyperv_cpuid_apply(&cfg, &c, 2), 0);
	ASSERT_EQ(c->nent, 2);
	ASSERT_FALSE(leaf(c, 0x40000000));
	ASSERT_FALSE(leaf(c, 0x40000100));
	ASSERT_TRUE(leaf(c, 1));
	free(c);
}

TEST(hyperv_leaves_and_kvm_moved)
{
	struct vm_config cfg;
	struct kvm_cpuid2 *c = supported();
	struct kvm_cpuid_entry2 *e;
	char vendor[13];

	config_init(&cfg);
	cfg.cpu_hyperv = true;
	ASSERT_EQ(hyperv_cpuid_apply(&cfg, &c, 3), 0);
	ASSERT_EQ(c->nent, 4 + 7);
	e = leaf(c, 0x40000000);
	ASSERT_TRUE(e);
	ASSERT_EQ(e->eax, HYPERV_CPUID_MAX);
	ASSERT_STR_EQ(vendor_of(e, vendor), "Microsoft Hv");
	ASSERT_EQ(leaf(c, 0x40000001)->eax, HYPERV_SIGNATURE_EAX);
	/* relaxed timing and vapic recommended, spinlock retries, vCPU limits */
	ASSERT_EQ(leaf(c, 0x40000004)->eax & 0x28, 0x28);
	ASSERT_EQ(leaf(c, 0x40000004)->ebx, HYPERV_SPINLOCK_RETRIES);
	ASSERT_EQ(leaf(c, 0x40000005)->eax, 3);
	/* synic, stimer, vpindex, hypercall, time: all granted */
	ASSERT_EQ(leaf(c, 0x40000003)->eax & 0x27e, 0x27e);
	/* KVM's leaves at 0x40000100, the max leaf moved with them */
	e = leaf(c, 0x40000100);
	ASSERT_TRUE(e);
	ASSERT_EQ(e->eax, 0x40000101);
	ASSERT_TRUE(!memcmp(&e->ebx, "KVMK", 4));
	ASSERT_EQ(leaf(c, 0x40000101)->eax, 0x1234);
	free(c);
}

TEST(hyperv_with_vendor_and_hidden_kvm)
{
	struct vm_config cfg;
	struct kvm_cpuid2 *c = supported();
	struct kvm_cpuid_entry2 *e;
	char vendor[13];

	config_init(&cfg);
	cfg.cpu_hyperv = cfg.cpu_hide_kvm = true;
	cfg.hv_vendor_id = "whatever";
	ASSERT_EQ(hyperv_cpuid_apply(&cfg, &c, 1), 0);
	ASSERT_EQ(c->nent, 2 + 7);
	ASSERT_FALSE(leaf(c, 0x40000100));
	e = leaf(c, 0x40000000);
	ASSERT_STR_EQ(vendor_of(e, vendor), "whatever");
	free(c);
}

int main(void)
{
	RUN(nothing_asked_nothing_changes);
	RUN(hide_kvm_drops_the_signature);
	RUN(hyperv_leaves_and_kvm_moved);
	RUN(hyperv_with_vendor_and_hidden_kvm);
	return test_done();
}
