/*
 * MSI and MSI-X state of a passed-through device, as the guest programs it.
 * Pure: no ioctls, no KVM. The config-space and MSI-X table emulation feed
 * guest writes in; each call returns the actions the glue (vfio-pci.c) must
 * carry out: enable/disable the host interrupt mode, update a vector's KVM
 * route, arm or disarm a vector's irqfd when its mask changes.
 *
 * Masking model: a vector is "masked" when MSI(-X) is off, the MSI-X function
 * mask is set, or the vector's own mask bit is set. The glue detaches a
 * masked vector's irqfd from KVM; the host keeps counting interrupts in the
 * eventfd, so the pending state survives and KVM delivers it on re-attach.
 */
#ifndef PTVM_MSIX_H
#define PTVM_MSIX_H

#include "vmm/common.h"

/* ---- MSI (capability ID 0x05) ---- */

#define MSI_CTRL_ENABLE 0x0001
#define MSI_CTRL_MMC_SHIFT 1      /* multiple message capable, log2 */
#define MSI_CTRL_MME_SHIFT 4      /* multiple message enable, log2 */
#define MSI_CTRL_64BIT 0x0080
#define MSI_CTRL_MASKABLE 0x0100  /* per-vector masking */
#define MSI_MAX_VECTORS 32

/* msi_update() results (bit mask) */
#define MSI_ACT_ENABLE  (1u << 0) /* turn host MSI on with msi_nvec() vectors */
#define MSI_ACT_DISABLE (1u << 1) /* turn host MSI off (comes before ENABLE if both) */
#define MSI_ACT_ROUTE   (1u << 2) /* address/data changed: update every vector's route */
#define MSI_ACT_MASK    (1u << 3) /* per-vector mask bits changed: re-sync irqfds */

struct msi {
	u16 cap;        /* config offset of the capability */
	u16 ctrl_caps;  /* read-only bits of message control as the device has them */
	bool is64, maskable;
	int max_vecs;   /* 1 << MMC */
	/* guest-programmed state */
	bool enabled;
	int nvec;       /* 1 << MME (clamped to max_vecs) */
	u64 addr;
	u16 data;
	u32 mask;
};

/* Bytes the capability occupies (10, 14, 20 or 24) for a control word. */
int msi_cap_len(u16 ctrl);
/* Config offsets, relative to the capability, of the data and mask words. */
int msi_data_off(u16 ctrl);
int msi_mask_off(u16 ctrl);
void msi_init(struct msi *m, u16 cap, u16 ctrl);
/* Re-read the capability from cfg (the emulated config bytes) after the guest
 * wrote it. Clamps MME to MMC in cfg. Returns MSI_ACT_* bits. */
unsigned msi_update(struct msi *m, u8 *cfg);
/* Message of vector i (< nvec): the low log2(nvec) data bits carry i. */
void msi_vector_msg(const struct msi *m, int i, u64 *addr, u32 *data);
bool msi_vector_masked(const struct msi *m, int i);

/* ---- MSI-X (capability ID 0x11) ---- */

#define MSIX_CTRL_SIZE_MASK 0x07ff
#define MSIX_CTRL_FMASK 0x4000
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_ENTRY_SIZE 16
#define MSIX_ENTRY_CTRL_MASKBIT 1
#define MSIX_CAP_LEN 12

/* msix_ctrl_write() / msix_table_write() results (bit mask) */
#define MSIX_ACT_ENABLE  (1u << 0) /* MSI-X turned on: put the host in MSI-X mode */
#define MSIX_ACT_DISABLE (1u << 1) /* MSI-X turned off: host vectors off */
#define MSIX_ACT_MASKS   (1u << 2) /* function mask or enable toggled: re-sync all vectors */
#define MSIX_ACT_ROUTE   (1u << 3) /* *vec's address/data changed */
#define MSIX_ACT_VMASK   (1u << 4) /* *vec's mask bit changed */

struct msix_entry {
	u32 addr_lo, addr_hi, data, ctrl;
};

struct msix {
	u16 cap;
	int nr;                   /* table size */
	u8 table_bar, pba_bar;
	u32 table_off, pba_off;   /* offsets into those BARs */
	bool enabled, fmask;
	struct msix_entry *table; /* nr entries, all masked at reset */
	u64 *pending;             /* nr bits, maintained by the glue */
};

/* Parse the capability (ctrl, table and PBA dwords as read from the device)
 * and allocate the table. -EINVAL if the layout is impossible, -ENOMEM. */
int msix_init(struct msix *m, u16 cap, u16 ctrl, u32 table, u32 pba);
void msix_free(struct msix *m);
/* Back to the power-on state: disabled, every entry zero and masked. */
void msix_reset(struct msix *m);
/* Bytes of the table and of the PBA inside their BARs. */
u64 msix_table_size(const struct msix *m);
u64 msix_pba_size(const struct msix *m);
/* The guest wrote message control. */
unsigned msix_ctrl_write(struct msix *m, u16 ctrl);
/* Table access at byte off of the table, len 1..8 inside one entry (larger
 * or straddling accesses are split by the caller). *vec gets the entry. */
unsigned msix_table_write(struct msix *m, u32 off, int len, u64 val, int *vec);
u64 msix_table_read(const struct msix *m, u32 off, int len);
/* PBA read at byte off (bits beyond nr read 0; writes are ignored). */
u64 msix_pba_read(const struct msix *m, u32 off, int len);
void msix_set_pending(struct msix *m, int vec, bool pending);
bool msix_vector_masked(const struct msix *m, int vec);
void msix_vector_msg(const struct msix *m, int vec, u64 *addr, u32 *data);

#endif
