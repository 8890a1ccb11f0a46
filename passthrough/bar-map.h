/*
 * How a passed-through memory BAR is split between direct mappings (a KVM
 * memory slot over the VFIO mmap: guest accesses cause no exit) and trapped
 * ranges (MMIO exits to ptvm: the MSI-X table and PBA, and whatever VFIO does
 * not let us mmap). Pure. Slots need page granularity, so traps are widened
 * to whole pages, and the rest of a trapped page is forwarded to the device.
 */
#ifndef PTVM_BAR_MAP_H
#define PTVM_BAR_MAP_H

#include "vmm/common.h"

#define BARMAP_MAX_SEGS 16

struct barmap_range {
	u64 off, size;
};

struct barmap_seg {
	u64 off, size;
	bool mmap; /* true: direct mapping; false: trapped */
};

/*
 * Split [0, bar_size) given the mmap-able areas (from VFIO: the whole BAR, a
 * sparse list, or none) and the ranges that must trap. Adjacent segments of
 * the same kind are merged. Returns the number of segments (in address
 * order, covering the BAR) or -ENOSPC.
 */
int barmap_split(u64 bar_size, const struct barmap_range *mmap_ok, int nr_ok,
		 const struct barmap_range *traps, int nr_traps, u64 page,
		 struct barmap_seg *out, int max);

#endif
