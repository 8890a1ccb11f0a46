/*
 * The fw_cfg files through which firmware (SeaBIOS, OVMF) installs ptvm's
 * ACPI tables, in the format QEMU defines (hw/acpi/bios-linker-loader.c):
 *   etc/acpi/rsdp     the RSDP, to be placed in the F segment
 *   etc/acpi/tables   every other table, back to back
 *   etc/table-loader  128-byte commands: ALLOCATE each file, ADD_POINTER
 *                     (add a file's load address to a field that holds an
 *                     offset into it), ADD_CHECKSUM (store the checksum of a
 *                     range at an offset).
 * Generated from the tables acpi_build() made, so both boot paths give the
 * guest the same bytes apart from the addresses.
 */
#ifndef PTVM_ACPI_LOADER_H
#define PTVM_ACPI_LOADER_H

#include "firmware/acpi.h"
#include "vmm/common.h"

#define ACPI_LOADER_FILE_RSDP "etc/acpi/rsdp"
#define ACPI_LOADER_FILE_TABLES "etc/acpi/tables"
#define ACPI_LOADER_FILE_CMDS "etc/table-loader"

/* Command format: u32 command, then the command's fields; names are
 * NUL-padded to ACPI_LOADER_FNAME_SIZE; every integer little-endian. */
#define ACPI_LOADER_ENTRY_SIZE 128
#define ACPI_LOADER_FNAME_SIZE 56
#define ACPI_LOADER_ALLOCATE 1    /* file, u32 align, u8 zone */
#define ACPI_LOADER_ADD_POINTER 2 /* dest file, src file, u32 offset, u8 size */
#define ACPI_LOADER_ADD_CHECKSUM 3 /* file, u32 offset, u32 start, u32 length */
#define ACPI_LOADER_ZONE_HIGH 1   /* anywhere below 4 GiB */
#define ACPI_LOADER_ZONE_FSEG 2   /* 0xF0000-0xFFFFF, where RSDP scans look */

struct acpi_loader {
	u8 *rsdp, *tables, *cmds; /* malloc'd; contents of the three files */
	size_t rsdp_len, tables_len, cmds_len;
};

/*
 * Make the three files from buf and r as acpi_build() left them (any
 * base_gpa). In the copies every pointer field holds the offset of its
 * target in the target's file and every checksum byte is 0, as the loader
 * commands expect. Returns 0, -EINVAL if r does not describe a layout the
 * files can express (RSDP not apart from the rest, FACS not 64-byte aligned
 * in the tables file), or -ENOMEM. Free with acpi_loader_free().
 */
int acpi_loader_build(const u8 *buf, const struct acpi_build_result *r,
		      struct acpi_loader *out);
void acpi_loader_free(struct acpi_loader *l);

#endif
