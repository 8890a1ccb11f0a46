/* The guest's e820 memory map (see e820.h). */
#include <errno.h>
#include <string.h>

#include "firmware/e820.h"

_Static_assert(sizeof(struct e820_entry) == 20, "e820 entry must match the boot protocol");

/* Append [start, end) of type unless it is empty (RAM clipped away by a
 * small low_ram_size). *n stays below E820_MAX_BUILD: the caller adds at most
 * that many ranges. */
static void e820_add(struct e820_entry *map, int *n, u64 start, u64 end, u32 type)
{
	if (end <= start)
		return;
	map[*n].addr = start;
	map[*n].size = end - start;
	map[*n].type = type;
	(*n)++;
}

// Build the map in address order, so it is sorted and disjoint by construction.
int e820_build(const struct layout *l, struct e820_entry *out, int max)
{
	struct e820_entry map[E820_MAX_BUILD];
	u64 low = l->low_ram_size;
	int n = 0;

	if (low > LAYOUT_ECAM_BASE)
		return -EINVAL;
	e820_add(map, &n, 0, MIN(low, LAYOUT_EBDA_BASE), E820_RAM);
	e820_add(map, &n, LAYOUT_EBDA_BASE, 0xA0000, E820_RESERVED);
	/* ACPI tables and the RSDP live here; "reserved" keeps the kernel's
	 * legacy RSDP scan of 0xE0000..0xFFFFF working and the area untouched. */
	e820_add(map, &n, LAYOUT_ACPI_BASE, LAYOUT_KERNEL_BASE, E820_RESERVED);
	e820_add(map, &n, LAYOUT_KERNEL_BASE, low, E820_RAM);
	/* Linux ignores MMCONFIG unless its MCFG area is reserved in e820. */
	e820_add(map, &n, LAYOUT_ECAM_BASE, LAYOUT_ECAM_BASE + LAYOUT_ECAM_SIZE, E820_RESERVED);
	e820_add(map, &n, LAYOUT_HIGH_RAM_BASE, LAYOUT_HIGH_RAM_BASE + l->high_ram_size, E820_RAM);
	if (n > max)
		return -ENOSPC;
	memcpy(out, map, n * sizeof(map[0]));
	return n;
}
