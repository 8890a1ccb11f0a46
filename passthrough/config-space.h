/*
 * The emulated config space of a passed-through PCI function. Pure: it never
 * touches the device; the glue reads and writes the VFIO config region.
 *
 * Every bit is either emulated (the guest sees shadow[]) or passed through
 * (the guest sees the device): a read merges (shadow & emu) | (phys & ~emu),
 * as QEMU's emulated_config_bits do. Emulated here:
 *   - IDs, class, revision, subsystem IDs, header type (read-only; bit 7 of
 *     the header type follows the guest slot's multifunction setting)
 *   - BARs 0-5 and the ROM BAR: sizing reads back the size mask, the address
 *     is what the guest (or setup, vcfg_set_bar) wrote; never reaches the device
 *   - interrupt line (writable) and pin (the device's, or 0 without INTx)
 *   - the capability lists: kept capabilities are relinked, others skipped
 *   - the MSI and MSI-X capabilities (the glue programs the host through
 *     VFIO_DEVICE_SET_IRQS instead)
 * Passed through: command and status, PM, PCIe and vendor capability bodies,
 * and everything else. The command register is also tracked so that memory
 * and I/O decode changes can be reported.
 *
 * vcfg_write() returns VCFG_ACT_* bits for the glue to act on.
 */
#ifndef PTVM_CONFIG_SPACE_H
#define PTVM_CONFIG_SPACE_H

#include <linux/pci_regs.h> /* PCI_COMMAND, PCI_CAP_ID_*, ... */

#include "vmm/common.h"

#define VCFG_SIZE 4096
#define VCFG_NR_BARS 6
#define VCFG_ROM_BAR 6 /* index of the ROM BAR in bars[] */

/* Extended capability IDs older headers lack. */
#ifndef PCI_EXT_CAP_ID_VF_REBAR
#define PCI_EXT_CAP_ID_VF_REBAR 0x24
#endif

enum vcfg_bar_type {
	VCFG_BAR_NONE,
	VCFG_BAR_IO,
	VCFG_BAR_MEM32,
	VCFG_BAR_MEM64,    /* low dword of a 64-bit BAR */
	VCFG_BAR_MEM64_HI, /* its high dword: no BAR of its own */
	VCFG_BAR_ROM,
};

struct vcfg_bar {
	enum vcfg_bar_type type;
	u64 size;      /* power of two, 0 if absent */
	bool prefetch;
};

/* vcfg_write() results (bit mask) */
#define VCFG_ACT_BAR     (1u << 0) /* bars_changed says which BAR registers changed */
#define VCFG_ACT_DECODE  (1u << 1) /* memory or I/O decode toggled */
#define VCFG_ACT_MSI     (1u << 2) /* MSI capability written: msi_update() */
#define VCFG_ACT_MSIX    (1u << 3) /* MSI-X message control written */
#define VCFG_ACT_FORWARD (1u << 4) /* write fwd_val over the same off/len to the device */

struct vcfg_write_result {
	u8 bars_changed; /* bit i: BAR i (VCFG_ROM_BAR: ROM); 64-bit BARs by their low index */
	u32 fwd_val;
	u16 msix_ctrl;   /* with VCFG_ACT_MSIX: the new message control */
};

struct vcfg {
	u8 shadow[VCFG_SIZE];
	u8 emu[VCFG_SIZE];    /* 1 bits come from shadow, 0 bits from the device */
	u8 wmask[VCFG_SIZE];  /* guest-writable bits of shadow */
	u16 size;             /* 256 (conventional) or 4096 (PCIe) */
	struct vcfg_bar bars[VCFG_NR_BARS + 1];
	u16 cmd;              /* command as last written (decode tracking) */
	u16 msi_cap, msix_cap, pm_cap, exp_cap; /* offsets of kept capabilities, 0 if none */
	int nr_hidden;        /* capabilities hidden from the guest (for the log) */
	u8 hidden_ids[16];    /* their IDs (extended ones with bit 7 set, low byte of the ID) */
};

/*
 * Build the view from the device's config bytes phys[0..len) (len 256 or
 * more), the BAR sizes VFIO reports (bar_size[6], 0 = none), the ROM size to
 * offer (0 = no ROM BAR), whether the device has INTx, and whether the guest
 * slot is multifunction. -EINVAL if phys is not a type 0 header or a 64-bit
 * BAR has no room for its high half.
 */
int vcfg_init(struct vcfg *c, const u8 *phys, size_t len, const u64 bar_size[VCFG_NR_BARS],
	      u64 rom_size, bool has_intx, bool multifunction);
/* Mask of the bits in [off, off+len) that come from the device (0: no need to
 * read it). */
u32 vcfg_phys_mask(const struct vcfg *c, u16 off, int len);
/* The guest's view of [off, off+len), len 1, 2 or 4; phys is the device's
 * value of the same bytes (ignored where emulated). */
u32 vcfg_read(const struct vcfg *c, u16 off, int len, u32 phys);
/* A guest write of len bytes. Updates the shadow; returns VCFG_ACT_* bits. */
unsigned vcfg_write(struct vcfg *c, u16 off, int len, u32 val, struct vcfg_write_result *r);
/* The guest address of BAR i (0..6), flags stripped; 64-bit BARs combined. */
u64 vcfg_bar_addr(const struct vcfg *c, int i);
/* Program BAR i's address (setup: firmware-like preassignment). */
void vcfg_set_bar(struct vcfg *c, int i, u64 addr);
/* True if BAR i is present and its decode is on (ROM: also its enable bit). */
bool vcfg_bar_enabled(const struct vcfg *c, int i);
/* Set the tracked command bits (setup turns memory/I/O decode on). */
void vcfg_set_cmd(struct vcfg *c, u16 cmd);
/* Put the emulated registers back to their reset values (guest reboot):
 * BARs keep the setup addresses given, MSI/MSI-X off, decode as given. */
void vcfg_reset(struct vcfg *c, const u64 bar_addr[VCFG_NR_BARS + 1], u16 cmd);

#endif
