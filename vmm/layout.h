/*
 * The guest-physical address map of the q35-like machine. Pure: computed from
 * the RAM size and the host's physical address bits, used by memory setup,
 * e820, ACPI (_CRS, MCFG), PCI BAR placement and fw_cfg.
 *
 *   0            .. low_ram_size   RAM (with the legacy holes e820 describes)
 *   0xB0000000   .. 0xC0000000     PCIe ECAM, 256 buses
 *   0xC0000000   .. 0xFEC00000     32-bit PCI MMIO window
 *   0xFEC00000                     IOAPIC, 0xFEE00000 local APICs
 *   0xFF000000?  .. 4 GiB          firmware flash (only when firmware is used)
 *   4 GiB        .. +high_ram_size RAM above the hole
 *   mmio64_base  .. +mmio64_size   64-bit PCI MMIO window (large BARs)
 */
#ifndef PTVM_LAYOUT_H
#define PTVM_LAYOUT_H

#include "vmm/common.h"

#define LAYOUT_LOW_RAM_MAX_SMALL 0xB0000000ULL /* RAM up to this stays below the hole */
#define LAYOUT_LOW_RAM_MAX 0x80000000ULL       /* otherwise split here */
#define LAYOUT_ECAM_BASE 0xB0000000ULL
#define LAYOUT_ECAM_SIZE 0x10000000ULL
#define LAYOUT_ECAM_BUSES 256
#define LAYOUT_MMIO32_BASE 0xC0000000ULL
#define LAYOUT_MMIO32_END 0xFEC00000ULL
#define LAYOUT_IOAPIC_BASE 0xFEC00000ULL
#define LAYOUT_LAPIC_BASE 0xFEE00000ULL
#define LAYOUT_HIGH_RAM_BASE 0x100000000ULL
#define LAYOUT_PIO_PCI_BASE 0xC000 /* I/O BARs are placed in 0xC000..0xFFFF */
#define LAYOUT_PIO_PCI_END 0x10000
#define LAYOUT_MMIO64_MIN_SIZE (32 * GiB)

/* Legacy low memory used by direct boot (all inside the first MiB of RAM). */
#define LAYOUT_BOOT_GDT 0x500ULL
#define LAYOUT_BOOT_PARAMS 0x7000ULL
#define LAYOUT_BOOT_PML4 0x9000ULL /* + PDPT at 0xA000, 4 page directories 0xB000..0xEFFF */
#define LAYOUT_BOOT_CMDLINE 0x20000ULL
#define LAYOUT_BOOT_CMDLINE_MAX 0x10000ULL
#define LAYOUT_EBDA_BASE 0x9FC00ULL
#define LAYOUT_ACPI_BASE 0xE0000ULL /* ACPI tables and RSDP: 0xE0000..0xFFFFF */
#define LAYOUT_ACPI_SIZE 0x20000ULL
#define LAYOUT_KERNEL_BASE 0x100000ULL

/* Fixed I/O ports of the machine (shared by the devices, ACPI and firmware). */
#define PORT_COM1 0x3f8
#define IRQ_COM1 4
#define PORT_CMOS 0x70          /* index 0x70, data 0x71 */
#define IRQ_RTC 8
#define PORT_I8042_DATA 0x60
#define PORT_I8042_CMD 0x64
#define IRQ_KBD 1
#define PORT_PM_BASE 0x600      /* ACPI PM block, q35 style */
#define PORT_PM1A_EVT (PORT_PM_BASE + 0x00) /* 4 bytes: status, enable */
#define PORT_PM1A_CNT (PORT_PM_BASE + 0x04) /* 2 bytes */
#define PORT_PM_TMR (PORT_PM_BASE + 0x08)   /* 4 bytes, 24-bit 3.579545 MHz */
#define PORT_GPE0 (PORT_PM_BASE + 0x20)     /* 16 bytes: 8 status, 8 enable */
#define PORT_GPE0_LEN 16
#define IRQ_SCI 9
#define PM_SLP_TYP_S5 5         /* the \_S5 value in the DSDT; SLP_TYP is PM1_CNT bits 10-12 */
#define PORT_RESET_CNT 0xcf9    /* write 0x06 (or any value with bit 2): reset */
#define PORT_FW_CFG 0x510       /* selector 0x510, data 0x511, DMA 0x514 (issue 5) */
#define PORT_DEBUGCON 0x402     /* firmware debug console */

struct layout {
	u64 ram_size;
	u64 low_ram_size;  /* RAM at 0 .. low_ram_size */
	u64 high_ram_size; /* RAM at 4 GiB .. 4 GiB + high_ram_size */
	u64 mmio64_base;   /* 64-bit PCI window, 1 GiB aligned, above RAM */
	u64 mmio64_size;
	int phys_bits;     /* guest-physical address bits */
};

/*
 * Fill *l for ram_size bytes of RAM on a host with phys_bits address bits.
 * mmio64_need is the space 64-bit BARs need (0 if unknown); the window is at
 * least LAYOUT_MMIO64_MIN_SIZE when the address bits allow it.
 * Returns 0, or -EINVAL if the RAM plus the window cannot fit in phys_bits.
 */
int layout_compute(struct layout *l, u64 ram_size, int phys_bits, u64 mmio64_need);

#endif
