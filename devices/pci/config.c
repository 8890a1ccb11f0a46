/* Emulated PCI configuration space: storage, masks, BARs, capabilities (see config.h). */
#include <errno.h>
#include <string.h>

#include "devices/pci/config.h"

#define CFG_CAP_END 0x100           /* standard capabilities live below this */
#define CFG_CAP_MAX_WALK 48         /* (0x100 - 0x40) / 4: bounds a looping list */
#define CFG_ECAP_MAX_WALK ((PCI_CFG_SIZE - PCI_CFG_ECAP_START) / 4)
#define CFG_IO_LIMIT 0x10000ULL     /* I/O BARs decode 16 bits (bits 31:16 read 0) */
#define CFG_MEM32_LIMIT 0x100000000ULL
#define CFG_MEM64_LIMIT (1ULL << 52) /* the widest x86 physical address */
#define CFG_ROM_ADDR_MASK 0xFFFFF800u

// True if len is a config access size and [off, off + len) lies inside the space.
static bool cfg_range_ok(u16 off, int len)
{
	return (len == 1 || len == 2 || len == 4) && off + len <= PCI_CFG_SIZE;
}

// Little-endian load of len bytes from one of the byte arrays.
static u32 cfg_load(const u8 *a, u16 off, int len)
{
	u32 v = 0;

	for (int i = len - 1; i >= 0; i--)
		v = (v << 8) | a[off + i];
	return v;
}

// Little-endian store of len bytes into one of the byte arrays.
static void cfg_store(u8 *a, u16 off, int len, u32 v)
{
	for (int i = 0; i < len; i++, v >>= 8)
		a[off + i] = v & 0xff;
}

// Number of BARs the header type has: 6 in a type 0 header, 2 in a bridge's.
static int cfg_nr_bars(const struct pci_cfg *c)
{
	return (c->regs[PCI_HEADER_TYPE] & 0x7f) == PCI_HEADER_TYPE_BRIDGE ? 2 : PCI_CFG_NR_BARS;
}

// Offset of the expansion ROM register for the header type.
static u16 cfg_rom_off(const struct pci_cfg *c)
{
	return (c->regs[PCI_HEADER_TYPE] & 0x7f) == PCI_HEADER_TYPE_BRIDGE ?
		PCI_ROM_ADDRESS1 : PCI_ROM_ADDRESS;
}

// Offset of BAR bar's (lower) dword register.
static u16 cfg_bar_off(const struct pci_cfg *c, int bar)
{
	return bar == PCI_CFG_BAR_ROM ? cfg_rom_off(c) : PCI_BASE_ADDRESS_0 + 4 * bar;
}

// True if v is a power of two (v > 0).
static bool is_pow2(u64 v)
{
	return v && !(v & (v - 1));
}

// Fill in the header; see config.h for which bits the guest may write.
void pci_cfg_init(struct pci_cfg *c, const struct pci_cfg_id *id)
{
	memset(c, 0, sizeof(*c));
	pci_cfg_set(c, PCI_VENDOR_ID, 2, id->vendor);
	pci_cfg_set(c, PCI_DEVICE_ID, 2, id->device);
	pci_cfg_set(c, PCI_REVISION_ID, 1, id->revision);
	pci_cfg_set(c, PCI_CLASS_PROG, 1, id->class_code & 0xff);
	pci_cfg_set(c, PCI_CLASS_PROG + 1, 2, (id->class_code >> 8) & 0xffff);
	pci_cfg_set(c, PCI_HEADER_TYPE, 1, id->header_type & 0x7f);
	if ((id->header_type & 0x7f) == PCI_HEADER_TYPE_NORMAL) {
		pci_cfg_set(c, PCI_SUBSYSTEM_VENDOR_ID, 2, id->subsys_vendor);
		pci_cfg_set(c, PCI_SUBSYSTEM_ID, 2, id->subsys_id);
	}
	pci_cfg_set(c, PCI_INTERRUPT_PIN, 1, id->intx_pin);

	pci_cfg_set_wmask(c, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			  PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
	pci_cfg_set_w1c(c, PCI_STATUS, 2, PCI_CFG_STATUS_W1C);
	pci_cfg_set_wmask(c, PCI_CACHE_LINE_SIZE, 1, 0xff);
	pci_cfg_set_wmask(c, PCI_INTERRUPT_LINE, 1, 0xff);
	c->cap_next = PCI_CFG_CAP_START;
	c->ecap_next = PCI_CFG_ECAP_START;
}

// Guest read: the stored bytes, whatever the masks.
u32 pci_cfg_read(const struct pci_cfg *c, u16 off, int len)
{
	if (!cfg_range_ok(off, len))
		return 0xffffffffu;
	return cfg_load(c->regs, off, len);
}

// Which PCI_CFG_WR_* bit a change of byte o belongs to (0 if none).
static unsigned int cfg_change_bit(const struct pci_cfg *c, u16 o)
{
	u16 rom = cfg_rom_off(c);
	int bar;

	if (o == PCI_COMMAND || o == PCI_COMMAND + 1)
		return PCI_CFG_WR_COMMAND;
	if (o >= rom && o < rom + 4)
		return PCI_CFG_WR_BAR(PCI_CFG_BAR_ROM);
	if (o < PCI_BASE_ADDRESS_0 || o >= PCI_BASE_ADDRESS_0 + 4 * cfg_nr_bars(c))
		return 0;
	bar = (o - PCI_BASE_ADDRESS_0) / 4;
	/* the upper dword of a 64-bit BAR reports as the BAR itself */
	if (bar > 0 && c->bars[bar - 1].size && c->bars[bar - 1].kind == PCI_BAR_MEM64)
		bar--;
	return PCI_CFG_WR_BAR(bar);
}

// Guest write through wmask and w1c; reports what changed.
unsigned int pci_cfg_write(struct pci_cfg *c, u16 off, int len, u32 val)
{
	unsigned int changed = 0;

	if (!cfg_range_ok(off, len))
		return 0;
	for (int i = 0; i < len; i++, val >>= 8) {
		u16 o = off + i;
		u8 v = val & 0xff;
		u8 old = c->regs[o];
		u8 b = (old & ~c->wmask[o]) | (v & c->wmask[o]);

		b &= ~(v & c->w1c[o]);
		c->regs[o] = b;
		if (b != old)
			changed |= cfg_change_bit(c, o);
	}
	return changed;
}

// Raw read for the device model.
u32 pci_cfg_get(const struct pci_cfg *c, u16 off, int len)
{
	if (!cfg_range_ok(off, len))
		return 0xffffffffu;
	return cfg_load(c->regs, off, len);
}

// Raw write for the device model: read-only bits included.
void pci_cfg_set(struct pci_cfg *c, u16 off, int len, u32 val)
{
	if (cfg_range_ok(off, len))
		cfg_store(c->regs, off, len, val);
}

// Set which bits of a register the guest may write.
void pci_cfg_set_wmask(struct pci_cfg *c, u16 off, int len, u32 mask)
{
	if (cfg_range_ok(off, len))
		cfg_store(c->wmask, off, len, mask);
}

// Set which bits of a register a guest write of 1 clears.
void pci_cfg_set_w1c(struct pci_cfg *c, u16 off, int len, u32 mask)
{
	if (cfg_range_ok(off, len))
		cfg_store(c->w1c, off, len, mask);
}

// True if BAR slot bar is already used (by itself or as a MEM64's upper half).
static bool cfg_bar_taken(const struct pci_cfg *c, int bar)
{
	if (c->bars[bar].size)
		return true;
	return bar > 0 && bar < PCI_CFG_NR_BARS && c->bars[bar - 1].size &&
		c->bars[bar - 1].kind == PCI_BAR_MEM64;
}

// Declare a BAR: type bits read-only, address bits above the size writable.
int pci_cfg_add_bar(struct pci_cfg *c, int bar, enum pci_bar_kind kind, u64 size, bool prefetch)
{
	u16 off;
	u64 wm;

	if (bar == PCI_CFG_BAR_ROM) {
		if (!is_pow2(size) || size < 2 * KiB || size > 2 * GiB || c->bars[bar].size)
			return -EINVAL;
		off = cfg_rom_off(c);
		pci_cfg_set(c, off, 4, 0);
		pci_cfg_set_wmask(c, off, 4, ((u32)~(size - 1) & CFG_ROM_ADDR_MASK) | PCI_ROM_ADDRESS_ENABLE);
		c->bars[bar] = (struct pci_cfg_bar){ .size = size, .kind = PCI_BAR_MEM32 };
		return 0;
	}
	if (bar < 0 || bar >= cfg_nr_bars(c) || !is_pow2(size) || cfg_bar_taken(c, bar))
		return -EINVAL;
	off = cfg_bar_off(c, bar);
	switch (kind) {
	case PCI_BAR_IO:
		if (size < 4 || size > 256)
			return -EINVAL;
		pci_cfg_set(c, off, 4, PCI_BASE_ADDRESS_SPACE_IO);
		pci_cfg_set_wmask(c, off, 4, (u32)~(size - 1) & 0xfffc);
		prefetch = false;
		break;
	case PCI_BAR_MEM32:
		if (size < 16 || size > 2 * GiB)
			return -EINVAL;
		pci_cfg_set(c, off, 4, prefetch ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
		pci_cfg_set_wmask(c, off, 4, (u32)~(size - 1) & ~0xfu);
		break;
	case PCI_BAR_MEM64:
		if (size < 16 || bar + 1 >= cfg_nr_bars(c) || cfg_bar_taken(c, bar + 1))
			return -EINVAL;
		wm = ~(size - 1) & ~0xfULL;
		pci_cfg_set(c, off, 4, PCI_BASE_ADDRESS_MEM_TYPE_64 | (prefetch ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0));
		pci_cfg_set(c, off + 4, 4, 0);
		pci_cfg_set_wmask(c, off, 4, (u32)wm);
		pci_cfg_set_wmask(c, off + 4, 4, (u32)(wm >> 32));
		break;
	default:
		return -EINVAL;
	}
	c->bars[bar] = (struct pci_cfg_bar){ .size = size, .kind = kind, .prefetch = prefetch };
	return 0;
}

// Program a BAR's address bits (the type bits and the ROM enable bit stay).
void pci_cfg_set_bar_addr(struct pci_cfg *c, int bar, u64 addr)
{
	u16 off;
	u32 wm;

	if (bar < 0 || bar > PCI_CFG_BAR_ROM || !c->bars[bar].size)
		return;
	off = cfg_bar_off(c, bar);
	wm = cfg_load(c->wmask, off, 4);
	if (bar == PCI_CFG_BAR_ROM)
		wm &= ~PCI_ROM_ADDRESS_ENABLE;
	pci_cfg_set(c, off, 4, (pci_cfg_get(c, off, 4) & ~wm) | ((u32)addr & wm));
	if (c->bars[bar].kind == PCI_BAR_MEM64 && bar != PCI_CFG_BAR_ROM) {
		wm = cfg_load(c->wmask, off + 4, 4);
		pci_cfg_set(c, off + 4, 4, (pci_cfg_get(c, off + 4, 4) & ~wm) | ((u32)(addr >> 32) & wm));
	}
}

// The BAR's address bits as the guest sees them now.
u64 pci_cfg_bar_addr(const struct pci_cfg *c, int bar)
{
	u16 off;
	u32 lo;

	if (bar < 0 || bar > PCI_CFG_BAR_ROM || !c->bars[bar].size)
		return 0;
	off = cfg_bar_off(c, bar);
	lo = pci_cfg_get(c, off, 4);
	if (bar == PCI_CFG_BAR_ROM)
		return lo & CFG_ROM_ADDR_MASK;
	switch (c->bars[bar].kind) {
	case PCI_BAR_IO:
		return lo & ~0x3u;
	case PCI_BAR_MEM32:
		return lo & ~0xfu;
	case PCI_BAR_MEM64:
		return (lo & ~0xfu) | (u64)pci_cfg_get(c, off + 4, 4) << 32;
	}
	return 0;
}

// Command register: I/O space enable.
bool pci_cfg_io_enabled(const struct pci_cfg *c)
{
	return pci_cfg_get(c, PCI_COMMAND, 2) & PCI_COMMAND_IO;
}

// Command register: memory space enable.
bool pci_cfg_mem_enabled(const struct pci_cfg *c)
{
	return pci_cfg_get(c, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY;
}

// Whether the BAR should be mapped now, and where (see config.h).
bool pci_cfg_bar_live(const struct pci_cfg *c, int bar, u64 *addr)
{
	const struct pci_cfg_bar *b;
	u64 a, limit;

	if (bar < 0 || bar > PCI_CFG_BAR_ROM || !c->bars[bar].size)
		return false;
	b = &c->bars[bar];
	a = pci_cfg_bar_addr(c, bar);
	if (b->kind == PCI_BAR_IO) {
		if (!pci_cfg_io_enabled(c))
			return false;
		limit = CFG_IO_LIMIT;
	} else {
		if (!pci_cfg_mem_enabled(c))
			return false;
		if (bar == PCI_CFG_BAR_ROM &&
		    !(pci_cfg_get(c, cfg_rom_off(c), 4) & PCI_ROM_ADDRESS_ENABLE))
			return false;
		limit = b->kind == PCI_BAR_MEM64 ? CFG_MEM64_LIMIT : CFG_MEM32_LIMIT;
	}
	/* written without a + size so a sizing pattern near 2^64 cannot wrap */
	if (!a || b->size > limit || a > limit - b->size)
		return false;
	*addr = a;
	return true;
}

// Append a standard capability and link it to the list.
int pci_cfg_add_cap(struct pci_cfg *c, u8 id, const void *body, size_t size)
{
	u16 off = ALIGN_UP(c->cap_next, 4);

	if (size < 2)
		return -EINVAL;
	if (size > CFG_CAP_END || off + size > CFG_CAP_END)
		return -ENOSPC;
	c->regs[off] = id;
	c->regs[off + 1] = 0;
	if (body)
		memcpy(&c->regs[off + 2], body, size - 2);
	else
		memset(&c->regs[off + 2], 0, size - 2);
	if (c->cap_last)
		c->regs[c->cap_last + 1] = off;
	else
		c->regs[PCI_CAPABILITY_LIST] = off;
	c->regs[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	c->cap_last = off;
	c->cap_next = off + size;
	return off;
}

// Walk the standard list (bounded, so a corrupted list cannot loop).
int pci_cfg_find_cap(const struct pci_cfg *c, u8 id)
{
	u8 p;

	if (!(c->regs[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return 0;
	p = c->regs[PCI_CAPABILITY_LIST] & ~3;
	for (int i = 0; p >= PCI_CFG_CAP_START && i < CFG_CAP_MAX_WALK; i++) {
		if (c->regs[p] == id)
			return p;
		p = c->regs[p + 1] & ~3;
	}
	return 0;
}

// Append an extended capability; the first one lands at 0x100 as PCIe requires.
int pci_cfg_add_ecap(struct pci_cfg *c, u16 id, u8 version, const void *body, size_t size)
{
	u16 off = ALIGN_UP(c->ecap_next, 4);

	if (size < 4)
		return -EINVAL;
	if (size > PCI_CFG_SIZE || off + size > PCI_CFG_SIZE)
		return -ENOSPC;
	cfg_store(c->regs, off, 4, id | (u32)(version & 0xf) << 16);
	if (body)
		memcpy(&c->regs[off + 4], body, size - 4);
	else
		memset(&c->regs[off + 4], 0, size - 4);
	if (c->ecap_last) {
		u32 hdr = cfg_load(c->regs, c->ecap_last, 4);

		cfg_store(c->regs, c->ecap_last, 4, (hdr & 0xfffff) | (u32)off << 20);
	}
	c->ecap_last = off;
	c->ecap_next = off + size;
	return off;
}

// Walk the extended list from 0x100 (bounded).
int pci_cfg_find_ecap(const struct pci_cfg *c, u16 id)
{
	u16 p = PCI_CFG_ECAP_START;

	for (int i = 0; p >= PCI_CFG_ECAP_START && i < CFG_ECAP_MAX_WALK; i++) {
		u32 hdr = cfg_load(c->regs, p, 4);

		if (!hdr)
			return 0;
		if ((hdr & 0xffff) == id)
			return p;
		p = (hdr >> 20) & ~3u;
	}
	return 0;
}

// Build the PCI Express capability for an endpoint or RC integrated endpoint.
int pci_cfg_add_pcie_cap(struct pci_cfg *c, u8 port_type)
{
	int off;

	if (port_type != PCI_EXP_TYPE_ENDPOINT && port_type != PCI_EXP_TYPE_RC_END)
		return -EINVAL;
	off = pci_cfg_add_cap(c, PCI_CAP_ID_EXP, NULL, PCI_CFG_EXP_CAP_SIZE);
	if (off < 0)
		return off;
	pci_cfg_set(c, off + PCI_EXP_FLAGS, 2, 2 | port_type << 4);
	/* max payload 128 bytes (field 0), role-based error reporting */
	pci_cfg_set(c, off + PCI_EXP_DEVCAP, 4, 1u << 15);
	/* reset values: relaxed ordering and no snoop on, max read request 512 */
	pci_cfg_set(c, off + PCI_EXP_DEVCTL, 2, 0x2810);
	/* error reporting enables, relaxed ordering, MPS, no snoop, MRRS */
	pci_cfg_set_wmask(c, off + PCI_EXP_DEVCTL, 2, 0x78ff);
	/* correctable, non-fatal, fatal, unsupported-request detected */
	pci_cfg_set_w1c(c, off + PCI_EXP_DEVSTA, 2, 0x000f);
	if (port_type == PCI_EXP_TYPE_ENDPOINT) {
		/* one lane at 2.5 GT/s, no ASPM support */
		pci_cfg_set(c, off + PCI_EXP_LNKCAP, 4, 0x11);
		/* ASPM control, read completion boundary, common clock, extended synch */
		pci_cfg_set_wmask(c, off + PCI_EXP_LNKCTL, 2, 0x00cb);
		pci_cfg_set(c, off + PCI_EXP_LNKSTA, 2, 0x11);
	}
	return off;
}
