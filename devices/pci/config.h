/*
 * Emulated PCI configuration space for ptvm's own devices (host bridge and
 * any other device ptvm models itself). Pure: no vm, no I/O, no allocation.
 *
 * Every byte has a value, a write mask and a write-1-to-clear mask. A guest
 * write changes only the wmask bits, then clears the w1c bits it wrote as 1:
 *   regs = (regs & ~wmask) | (val & wmask);  regs &= ~(val & w1c)
 * Devices set read-only values (interrupt status, error bits) with the raw
 * setters, which ignore the masks.
 *
 * BAR sizing falls out of the masks: the address bits below the BAR's size
 * and the type bits are read-only, so writing all ones reads back the size
 * mask. Capabilities are appended from 0x40 (standard list) and 0x100
 * (extended list); offsets 0x100..0xFFF read 0 until an extended capability
 * is added.
 */
#ifndef PTVM_PCI_CONFIG_H
#define PTVM_PCI_CONFIG_H

#include <linux/pci_regs.h> /* register offsets and bits: PCI_COMMAND, PCI_CAP_ID_*, ... */

#include "devices/pci/pci.h" /* enum pci_bar_kind */
#include "vmm/common.h"

#define PCI_CFG_SIZE 4096        /* PCIe: ECAM reaches all of it */
#define PCI_CFG_CAP_START 0x40   /* first byte after the header */
#define PCI_CFG_ECAP_START 0x100 /* PCIe: the first extended capability */
/* status: parity, target/master aborts, SERR; all write-1-to-clear */
#define PCI_CFG_STATUS_W1C 0xF900
/* header type bit 7; the bus sets it on function 0 of a multifunction slot */
#define PCI_CFG_HEADER_MULTIFN 0x80
/* a version 2 PCI Express capability, endpoint or integrated endpoint */
#define PCI_CFG_EXP_CAP_SIZE 0x3C

#define PCI_CFG_NR_BARS 6       /* type 0; a type 1 header has 2 */
#define PCI_CFG_BAR_ROM 6       /* index of the expansion ROM in the helpers */

/* What pci_cfg_write() changed, so a device acts on it (maps BARs, ...). */
#define PCI_CFG_WR_COMMAND 0x1
#define PCI_CFG_WR_BAR(n) (0x2u << (n)) /* n = 0..5, PCI_CFG_BAR_ROM */

struct pci_cfg_bar {
	u64 size;               /* 0: not implemented (or the upper half of a MEM64) */
	enum pci_bar_kind kind;
	bool prefetch;
};

struct pci_cfg {
	u8 regs[PCI_CFG_SIZE];
	u8 wmask[PCI_CFG_SIZE];
	u8 w1c[PCI_CFG_SIZE];
	struct pci_cfg_bar bars[PCI_CFG_NR_BARS + 1]; /* + ROM */
	u16 cap_next;  /* next free offset for a standard capability */
	u16 cap_last;  /* offset of the last standard capability, 0 = none */
	u16 ecap_next; /* same for the extended list */
	u16 ecap_last;
};

struct pci_cfg_id {
	u16 vendor, device;
	u32 class_code;   /* base << 16 | sub << 8 | prog-if */
	u8 revision;
	u8 header_type;   /* PCI_HEADER_TYPE_NORMAL or _BRIDGE; the bus adds MULTIFN */
	u16 subsys_vendor, subsys_id; /* type 0 only */
	u8 intx_pin;      /* 0 = none, 1..4 = INTA..INTD */
};

/* Zero the space and fill in the header: ids, class, pin, and the writable
 * command, cache-line and interrupt-line bits and w1c status bits. */
void pci_cfg_init(struct pci_cfg *c, const struct pci_cfg_id *id);

/* Guest access: len 1, 2 or 4 with off + len <= PCI_CFG_SIZE (else reads all
 * ones / the write is dropped). pci_cfg_write returns PCI_CFG_WR_* bits. */
u32 pci_cfg_read(const struct pci_cfg *c, u16 off, int len);
unsigned int pci_cfg_write(struct pci_cfg *c, u16 off, int len, u32 val);

/* Raw access for the device itself: ignores wmask and w1c. */
u32 pci_cfg_get(const struct pci_cfg *c, u16 off, int len);
void pci_cfg_set(struct pci_cfg *c, u16 off, int len, u32 val);
/* Replace the guest-writable / write-1-to-clear bits of a register. */
void pci_cfg_set_wmask(struct pci_cfg *c, u16 off, int len, u32 mask);
void pci_cfg_set_w1c(struct pci_cfg *c, u16 off, int len, u32 mask);

/*
 * Declare BAR bar (0..5, or PCI_CFG_BAR_ROM) of size bytes, a power of two:
 * I/O 4..256, MEM32 16..2 GiB, MEM64 16.. (uses bar and bar + 1), ROM
 * 2 KiB..2 GiB (kind ignored). prefetch applies to memory BARs. Its address
 * is 0 until the guest (or pci_cfg_set_bar_addr) programs it.
 * 0, or -EINVAL (bad index, size or kind; MEM64 in the last BAR; BAR taken).
 */
int pci_cfg_add_bar(struct pci_cfg *c, int bar, enum pci_bar_kind kind, u64 size, bool prefetch);
/* Program a BAR's address as firmware would (addr aligned to the size). */
void pci_cfg_set_bar_addr(struct pci_cfg *c, int bar, u64 addr);
/* The address the BAR holds now (without type bits), even while sizing. */
u64 pci_cfg_bar_addr(const struct pci_cfg *c, int bar);
/* True if the command register enables I/O resp. memory decode. */
bool pci_cfg_io_enabled(const struct pci_cfg *c);
bool pci_cfg_mem_enabled(const struct pci_cfg *c);
/*
 * True (and *addr set) if the BAR is implemented, its decode is enabled (and,
 * for the ROM, its enable bit), its address is not 0 and the BAR fits below
 * its limit (64 KiB for I/O, 4 GiB for MEM32): i.e. it should be mapped now.
 */
bool pci_cfg_bar_live(const struct pci_cfg *c, int bar, u64 *addr);

/*
 * Append a standard capability of size bytes (>= 2) at the next dword-aligned
 * offset >= 0x40: byte 0 = id, byte 1 = next pointer (0, linked by the next
 * append), bytes 2.. = body (size - 2 bytes, NULL for zeros). Sets status
 * CAP_LIST and the pointer at 0x34 for the first one. Returns the offset, or
 * -ENOSPC if it does not fit below 0x100, -EINVAL if size < 2.
 * The body is read-only until the caller sets wmask/w1c on it.
 */
int pci_cfg_add_cap(struct pci_cfg *c, u8 id, const void *body, size_t size);
/* Offset of the first standard capability with this id, or 0. */
int pci_cfg_find_cap(const struct pci_cfg *c, u8 id);
/*
 * Append an extended capability (PCIe, 0x100..0xFFF): a dword header
 * id | version << 16 | next << 20, then size - 4 body bytes. Returns the
 * offset, -ENOSPC, or -EINVAL if size < 4.
 */
int pci_cfg_add_ecap(struct pci_cfg *c, u16 id, u8 version, const void *body, size_t size);
/* Offset of the first extended capability with this id, or 0. */
int pci_cfg_find_ecap(const struct pci_cfg *c, u16 id);
/*
 * Add a version 2 PCI Express capability for a device of port_type
 * PCI_EXP_TYPE_ENDPOINT (x1 link at 2.5 GT/s) or PCI_EXP_TYPE_RC_END (no
 * link registers). 128-byte max payload, no FLR, no extended tags. Returns
 * the offset or -errno as pci_cfg_add_cap, -EINVAL for another port_type.
 */
int pci_cfg_add_pcie_cap(struct pci_cfg *c, u8 port_type);

#endif
