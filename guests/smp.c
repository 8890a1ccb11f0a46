/*
 * SMP bring-up: starts every AP the MADT lists with INIT-SIPI-SIPI (the
 * trampoline in lib/start.S, copied to 0x10000), each AP counts itself and
 * reports its APIC ID; the count must be cpus=N minus the BSP.
 * Also checks the BSP flag in IA32_APIC_BASE, that CPUID's initial APIC ID
 * matches the local APIC ID on every CPU, and that fixed IPIs (to one AP,
 * to all but self) wake the halted APs and run the handler there.
 * Command line: cpus=N (default 1), timeout=MS per AP (default 5000).
 */
#include "lib/acpi.h"

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_BSP 0x100

struct cpu_seen {
	u32 apic_id;
	u32 cpuid_apic_id;
	bool bsp_flag;
};

#define VEC_IPI 50

static struct cpu_seen seen[AP_MAX];
static int ap_count;
static volatile int ipi_hits[256];

// The initial APIC ID CPUID leaf 1 reports (EBX bits 31..24).
static u32 cpuid_apic_id(void)
{
	u32 a = 1, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return b >> 24;
}

// IA32_APIC_BASE.BSP of this CPU.
static bool bsp_flag(void)
{
	u32 lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_APIC_BASE));
	return lo & APIC_BASE_BSP;
}

// Runs on each AP, in long mode on its own stack.
static void ap_main(int slot)
{
	seen[slot].apic_id = lapic_id();
	seen[slot].cpuid_apic_id = cpuid_apic_id();
	seen[slot].bsp_flag = bsp_flag();
	printf("AP slot %d: APIC ID %u up\n", slot, seen[slot].apic_id);
	__atomic_fetch_add(&ap_count, 1, __ATOMIC_SEQ_CST);
}

// Runs on the CPU the IPI reached.
static void ipi_handler(int vector)
{
	__atomic_fetch_add(&ipi_hits[lapic_id() & 0xff], 1, __ATOMIC_SEQ_CST);
}

// Wait (bounded, ~1 s) until every AP in ids (not the BSP) has want IPIs.
static bool wait_ipis(const u32 *ids, int n, u32 bsp, int want)
{
	for (int t = 0; t < 1000; t++) {
		bool all = true;

		for (int i = 0; i < n; i++)
			if (ids[i] != bsp && ipi_hits[ids[i] & 0xff] < want)
				all = false;
		if (all)
			return true;
		udelay(1000);
	}
	return false;
}

// Fixed IPIs wake halted APs: one to each AP by ID, then one to all but self.
static void check_ipis(const u32 *ids, int n, u32 bsp)
{
	int extra = 0;

	trap_set_handler(VEC_IPI, ipi_handler);
	for (int i = 0; i < n; i++)
		if (ids[i] != bsp)
			lapic_ipi(ids[i], ICR_FIXED | ICR_ASSERT | VEC_IPI);
	report(wait_ipis(ids, n, bsp, 1), "a fixed IPI to each halted AP ran its handler there");
	lapic_ipi(0, ICR_FIXED | ICR_ASSERT | ICR_ALL_BUT_SELF | VEC_IPI);
	report(wait_ipis(ids, n, bsp, 2), "an all-but-self IPI reached every AP");
	udelay(10000);
	for (int i = 0; i < n; i++)
		if (ipi_hits[ids[i] & 0xff] != (ids[i] == bsp ? 0 : 2))
			extra++;
	report(!extra, "no CPU got more IPIs than sent, the BSP none");
}

// Start every AP of the MADT and check who arrived.
int main(void)
{
	u64 want = cmdline_get_u64("cpus", 1);
	u32 timeout = (u32)cmdline_get_u64("timeout", 5000);
	const u8 *root = acpi_root(acpi_rsdp_scan(), true);
	const u8 *madt = root ? acpi_find(root, "APIC") : NULL;
	u32 ids[MADT_MAX_CPUS];
	u32 bsp = lapic_id();
	int n, started = 0, missing = 0, wrong = 0, bsp_listed = 0;

	report(madt != NULL, "MADT found");
	if (!madt)
		return report_summary();
	n = madt_cpus(madt, ids, MADT_MAX_CPUS);
	report((u64)n == want, "MADT lists cpus=%lu CPUs (found %d)", want, n);
	report(bsp_flag(), "IA32_APIC_BASE.BSP set on the BSP (APIC ID %u)", bsp);
	report(cpuid_apic_id() == bsp, "BSP: CPUID initial APIC ID %u equals the LAPIC ID %u",
	       cpuid_apic_id(), bsp);
	for (int i = 0; i < n; i++) {
		if (ids[i] == bsp) {
			bsp_listed++;
			continue;
		}
		if (started >= AP_MAX - 1)
			break;
		if (smp_start_ap(ids[i], ap_main, timeout) == 0)
			started++;
		else
			printf("AP with APIC ID %u did not come up within %u ms\n", ids[i], timeout);
	}
	report(bsp_listed == 1, "the BSP is in the MADT once");
	report(ap_count == n - 1 && started == n - 1, "%d APs started and counted themselves (count %d)",
	       n - 1, ap_count);
	for (int i = 0; i < n; i++) {
		bool found = ids[i] == bsp;

		for (int s = 0; s < ap_count && !found; s++)
			found = seen[s].apic_id == ids[i];
		if (!found)
			missing++;
	}
	for (int s = 0; s < ap_count; s++)
		if (seen[s].cpuid_apic_id != seen[s].apic_id || seen[s].bsp_flag ||
		    seen[s].apic_id == bsp)
			wrong++;
	report(!missing, "every MADT APIC ID was seen running");
	report(!wrong, "on every AP: CPUID APIC ID == LAPIC ID, BSP flag clear");
	if (ap_count == n - 1 && n > 1)
		check_ipis(ids, n, bsp);
	return report_summary();
}
