/*
 * Offsets in struct boot_params ("zero page") and the setup header, from
 * Documentation/arch/x86/boot.rst and zero-page.rst. Usable from C and
 * assembly.
 */
#ifndef GUEST_BOOTPARAM_H
#define GUEST_BOOTPARAM_H

#define BP_SIZE 4096
#define BP_ACPI_RSDP_ADDR 0x070	/* u64 */
#define BP_EXT_CMD_LINE_PTR 0x0c8	/* u32, high half of cmd_line_ptr */
#define BP_E820_ENTRIES 0x1e8		/* u8 */
#define BP_HDR 0x1f1			/* struct setup_header */
#define BP_SETUP_SECTS 0x1f1		/* u8 */
#define BP_BOOT_FLAG 0x1fe		/* u16, 0xaa55 */
#define BP_HEADER_MAGIC 0x202		/* "HdrS" */
#define BP_VERSION 0x206		/* u16 */
#define BP_TYPE_OF_LOADER 0x210	/* u8 */
#define BP_LOADFLAGS 0x211		/* u8 */
#define BP_CODE32_START 0x214		/* u32 */
#define BP_CMD_LINE_PTR 0x228		/* u32 */
#define BP_CMDLINE_SIZE 0x238		/* u32 */
#define BP_PREF_ADDRESS 0x258		/* u64 */
#define BP_INIT_SIZE 0x260		/* u32 */
#define BP_E820_TABLE 0x2d0		/* struct boot_e820_entry[E820_MAX_ENTRIES] */
#define E820_MAX_ENTRIES 128

#define LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x01

#define E820_TYPE_RAM 1
#define E820_TYPE_RESERVED 2
#define E820_TYPE_ACPI 3
#define E820_TYPE_NVS 4

/* Where the image runs (relocatable = 0) and how long a command line may be. */
#define GUEST_LOAD_ADDR 0x100000
#define GUEST_CMDLINE_MAX 4096

/* The real-mode stub builds boot_params here (same place ptvm uses). */
#define BOOT_PARAMS_16 0x7000

/* Our own GDT (start.S); the selectors match the boot protocol's __BOOT_CS/DS. */
#define CODE32_SEL 0x08
#define BOOT_CS 0x10			/* 64-bit code in our GDT */
#define BOOT_DS 0x18

/* SMP: the trampoline's address (SIPI vector 0x10) and the AP stacks. */
#define AP_TRAMPOLINE 0x10000
#define AP_MAX 64
#define AP_STACK_SHIFT 13		/* 8 KiB per AP */

/* Interrupt vectors with IDT entries besides the 32 exceptions. */
#define IRQ_VECTOR_FIRST 32
#define IRQ_VECTOR_COUNT 32
#define IRQ_VECTORS 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63

#endif
