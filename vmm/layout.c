/* The guest-physical address map (see layout.h). */
#include <errno.h>
#include <string.h>

#include "vmm/layout.h"

// Round up to the next power of two (v > 0).
static u64 pow2_ceil(u64 v)
{
	u64 p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

// Compute where RAM and the PCI windows go.
int layout_compute(struct layout *l, u64 ram_size, int phys_bits, u64 mmio64_need)
{
	u64 top, limit, size;

	memset(l, 0, sizeof(*l));
	if (phys_bits < 32 || phys_bits > 52)
		return -EINVAL;
	l->ram_size = ram_size;
	l->phys_bits = phys_bits;
	if (ram_size <= LAYOUT_LOW_RAM_MAX_SMALL) {
		l->low_ram_size = ram_size;
	} else {
		l->low_ram_size = LAYOUT_LOW_RAM_MAX;
		l->high_ram_size = ram_size - LAYOUT_LOW_RAM_MAX;
	}
	top = LAYOUT_HIGH_RAM_BASE + l->high_ram_size;
	l->mmio64_base = ALIGN_UP(top, GiB);
	limit = 1ULL << phys_bits;
	if (l->mmio64_base >= limit)
		return -EINVAL;
	size = MAX(mmio64_need ? pow2_ceil(mmio64_need) : 0, LAYOUT_MMIO64_MIN_SIZE);
	/* a window of its own size alignment lets the largest BAR be naturally aligned */
	if (mmio64_need) {
		u64 a = pow2_ceil(mmio64_need);
		l->mmio64_base = ALIGN_UP(l->mmio64_base, MIN(a, 512 * GiB));
	}
	if (l->mmio64_base + size > limit) {
		if (mmio64_need && l->mmio64_base + mmio64_need > limit)
			return -EINVAL;
		size = limit - l->mmio64_base;
	}
	l->mmio64_size = size;
	return 0;
}
