/*
 * SMBIOS tables for firmware (fw_cfg etc/smbios/smbios-tables and
 * etc/smbios/smbios-anchor, the format QEMU gives SeaBIOS and OVMF):
 * the structures back to back, and a 2.8 entry point ("_SM_", 31 bytes)
 * whose table address the firmware fills in when it places the tables.
 *
 * Structures: type 0 (BIOS), 1 (system), 3 (chassis), 4 (one per vCPU),
 * 16 (memory array), 17 (one memory device per 16 GiB), 19 (one mapped
 * range per RAM range), 32 (boot status) and 127 (end). Handles count up
 * from 0 in that order.
 */
#ifndef PTVM_SMBIOS_H
#define PTVM_SMBIOS_H

#include "vmm/common.h"

#define SMBIOS_ANCHOR_SIZE 31
#define SMBIOS_FILE_TABLES "etc/smbios/smbios-tables"
#define SMBIOS_FILE_ANCHOR "etc/smbios/smbios-anchor"

/* Strings the user may set (--smbios); NULL gives ptvm's default. */
struct smbios_strings {
	const char *bios_vendor, *bios_version, *bios_date;                 /* type 0 */
	const char *sys_manufacturer, *sys_product, *sys_version, *sys_serial; /* type 1 */
	const char *sys_sku, *sys_family;
};

struct smbios_params {
	int nr_cpus;
	u64 low_ram_size, high_ram_size; /* RAM at 0 and at 4 GiB */
	u8 uuid[16];                     /* type 1 UUID, as SMBIOS stores it */
	struct smbios_strings str;
};

struct smbios_result {
	u8 *tables;  /* malloc'd */
	size_t len;
	u8 anchor[SMBIOS_ANCHOR_SIZE];
	int nr_structs;
	u16 max_struct; /* largest structure, strings included */
};

/* Build the tables and the entry point. 0, -EINVAL (no CPUs, no RAM, or a
 * table too big for the 2.x entry point), -ENOMEM. */
int smbios_build(const struct smbios_params *p, struct smbios_result *out);
void smbios_free(struct smbios_result *r);

#endif
