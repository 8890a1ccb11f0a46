/*
 * The guest's memory map as the BIOS e820 call would report it: used for
 * direct kernel boot (boot_params.e820_table) and for firmware (fw_cfg
 * etc/e820). Pure: computed from struct layout only.
 */
#ifndef PTVM_E820_H
#define PTVM_E820_H

#include "vmm/common.h"
#include "vmm/layout.h"

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3

/* Same layout as the kernel's struct boot_e820_entry (20 bytes). */
struct e820_entry {
	u64 addr, size;
	u32 type;
} __attribute__((packed));

/* Most entries e820_build() ever produces; size arrays with it. */
#define E820_MAX_BUILD 8

/*
 * Fill out[0..max) with the guest's memory map, sorted by address and
 * non-overlapping: RAM below the EBDA, the EBDA and the ACPI/BIOS area
 * (reserved), RAM from 1 MiB to low_ram_size, the PCIe ECAM (reserved, Linux
 * checks MCFG against it), and RAM above 4 GiB. RAM ranges that would be
 * empty because low_ram_size is small are left out.
 * Returns the number of entries, -ENOSPC if max is too small, or -EINVAL if
 * the layout reaches into the ECAM.
 */
int e820_build(const struct layout *l, struct e820_entry *out, int max);

#endif
