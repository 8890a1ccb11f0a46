/*
 * A Linux kernel for the firmware to boot (QEMU's -kernel with firmware):
 * the bzImage split into its real-mode setup (FW_CFG_SETUP_*) and the
 * protected-mode kernel (FW_CFG_KERNEL_*), the initrd (FW_CFG_INITRD_*) and
 * the command line (FW_CFG_CMDLINE_*). The setup header copy is patched as a
 * boot loader would: loader type, heap, command line and initrd address.
 * SeaBIOS runs QEMU's linuxboot_dma.bin option ROM to load them at the
 * *_ADDR items and jump to the setup code in real mode; OVMF reads the
 * same items and starts the kernel through its EFI stub.
 */
#ifndef PTVM_FW_KERNEL_H
#define PTVM_FW_KERNEL_H

#include "vmm/common.h"

struct fw_cfg;

#define FW_KERNEL_SETUP_ADDR 0x10000ULL   /* real-mode setup segment base */
#define FW_KERNEL_CMDLINE_ADDR 0x20000ULL
#define FW_KERNEL_PROT_ADDR 0x100000ULL
/* Room left above the initrd at the top of low RAM for the firmware's own
 * tables (SeaBIOS keeps its "high" zone and the ACPI tables there). */
#define FW_KERNEL_FIRMWARE_RESERVE (1 * MiB)

struct fw_kernel {
	const u8 *kernel;
	size_t kernel_len;
	const u8 *initrd; /* NULL: none */
	size_t initrd_len;
	const char *cmdline; /* NULL: empty */
	u64 low_ram_size;
};

/* Add the items for k to f. 0, or -errno with one line in err (-ENOEXEC not
 * a bzImage ptvm can boot, -E2BIG command line too long, -ENOMEM initrd does
 * not fit below the kernel's limit). */
int fw_kernel_add(struct fw_cfg *f, const struct fw_kernel *k, char *err, size_t errlen);

#endif
