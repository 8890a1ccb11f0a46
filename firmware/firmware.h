/*
 * Booting through firmware (--firmware seabios|ovmf|PATH[,vars=PATH]): the
 * firmware image in the guest, fw_cfg with everything the firmware reads
 * (RAM, CPUs, e820, ACPI through the table loader, SMBIOS, boot order, the
 * kernel for --kernel), the ICH9 LPC bridge q35 firmware programs, and the
 * boot vCPU at the reset vector. See docs/firmware.md.
 *
 *   BIOS image (seabios, or PATH without vars=): read-only at 4 GiB - size,
 *     its last 128 KiB copied into RAM at 0xE0000 (the shadow copy firmware
 *     expects below 1 MiB; PAM programming has no effect, the region stays
 *     RAM).
 *   OVMF (ovmf, or PATH with vars=): the code as a read-only CFI flash at
 *     4 GiB - size, the vars file as a writable CFI flash right below it.
 *     The vars file is created from the template on first use.
 */
#ifndef PTVM_FIRMWARE_H
#define PTVM_FIRMWARE_H

#include <limits.h>

#include "vmm/common.h"

struct vm;
struct pci_bus;
struct firmware;
struct fw_cfg;
struct layout;
struct config_smbios;

#define FIRMWARE_SEABIOS "/usr/share/seabios/bios-256k.bin"
#define FIRMWARE_OVMF_CODE "/usr/share/OVMF/OVMF_CODE_4M.fd"
#define FIRMWARE_OVMF_VARS "/usr/share/OVMF/OVMF_VARS_4M.fd"
#define FIRMWARE_OVMF_VARS_DEFAULT "ptvm-ovmf-vars.fd" /* in the current folder */
#define FIRMWARE_LINUXBOOT "/usr/share/qemu/linuxboot_dma.bin"
#define FIRMWARE_BIOS_MAX (16 * MiB)
#define FIRMWARE_BIOS_ALIAS (128 * KiB) /* copied below 1 MiB */

enum firmware_kind { FIRMWARE_BIOS, FIRMWARE_OVMF };

struct firmware_paths {
	enum firmware_kind kind;
	char code[PATH_MAX];
	char vars[PATH_MAX];          /* OVMF only */
	char vars_template[PATH_MAX]; /* OVMF only; "" if none is known */
};

/* Turn --firmware and vars= into files; nothing is opened. 0 or -EINVAL
 * with one line in err. */
int firmware_resolve(const char *firmware, const char *vars, struct firmware_paths *out, char *err,
		     size_t errlen);
/* -ENOENT with one line in err if the firmware image cannot be read. */
int firmware_check(const struct firmware_paths *p, char *err, size_t errlen);
/* Open the vars file read-write, creating it from the template first if it
 * does not exist. Returns the fd, or -errno with one line in err. */
int firmware_open_vars(const struct firmware_paths *p, char *err, size_t errlen);

/* The fw_cfg files firmware_create() adds, for tests: etc/e820; the ACPI
 * table-loader files; the SMBIOS tables and anchor (user: --smbios strings,
 * NULL for the defaults). 0 or -errno. */
int firmware_add_e820(struct fw_cfg *f, const struct layout *l);
int firmware_add_acpi(struct fw_cfg *f, const struct layout *l, int nr_cpus);
int firmware_add_smbios(struct fw_cfg *f, const struct layout *l, int nr_cpus,
			const struct config_smbios *user);

/* Load and map the firmware, fill fw_cfg, add the LPC bridge to pci. 0 or
 * -errno (the error was printed). */
int firmware_create(struct vm *vm, struct pci_bus *pci, struct firmware **out);
/* Start the boot vCPU at the reset vector. */
int firmware_boot(struct vm *vm, struct firmware *fw);
/* NULL is fine. */
void firmware_destroy(struct firmware *fw);

#endif
