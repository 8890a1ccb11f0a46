/*
 * Emulated config space of a passed-through function (see config-space.h).
 * Pure: the glue supplies the device's bytes and carries out the actions.
 */
#include <errno.h>
#include <string.h>

#include "passthrough/config-space.h"
#include "passthrough/msix.h" /* msi_cap_len, msi_data_off, MSIX_CTRL_* */

/* Little-endian loads and stores on config bytes. */
static u16 ld16(const u8 *p) { return p[0] | (p[1] << 8); }
static u32 ld32(const u8 *p) { return ld16(p) | ((u32)ld16(p + 2) << 16); }
static void st32(u8 *p, u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

/* True if [a, a+alen) and [b, b+blen) share a byte. */
static bool overlaps(u32 a, u32 alen, u32 b, u32 blen)
{
	return a < b + blen && b < a + alen;
}

/* Make len bytes at off emulated, holding val, with wmask writable by the guest. */
static void emulate(struct vcfg *c, u16 off, int len, u32 val, u32 wmask)
{
	for (int i = 0; i < len; i++) {
		c->shadow[off + i] = val >> (8 * i);
		c->emu[off + i] = 0xff;
		c->wmask[off + i] = wmask >> (8 * i);
	}
}

/* The capabilities a guest driver can use on a directly assigned function. */
static bool cap_kept(u8 id)
{
	return id == PCI_CAP_ID_PM || id == PCI_CAP_ID_MSI || id == PCI_CAP_ID_VNDR ||
	       id == PCI_CAP_ID_EXP || id == PCI_CAP_ID_MSIX;
}

/* Extended capabilities that cannot work in a guest without more emulation:
 * VFs and ARI (the guest cannot create functions), resizable BARs (the BAR
 * size is fixed at setup), and ATS/PRI/PASID (they need a virtual IOMMU). */
static bool ext_hidden(u16 id)
{
	switch (id) {
	case PCI_EXT_CAP_ID_ARI:
	case PCI_EXT_CAP_ID_ATS:
	case PCI_EXT_CAP_ID_SRIOV:
	case PCI_EXT_CAP_ID_MRIOV:
	case PCI_EXT_CAP_ID_PRI:
	case PCI_EXT_CAP_ID_REBAR:
	case PCI_EXT_CAP_ID_PASID:
	case PCI_EXT_CAP_ID_VF_REBAR:
		return true;
	default:
		return false;
	}
}

/* Remember a hidden capability's ID for the setup log. */
static void note_hidden(struct vcfg *c, u8 id)
{
	if (c->nr_hidden < (int)sizeof(c->hidden_ids))
		c->hidden_ids[c->nr_hidden] = id;
	c->nr_hidden++;
}

/* BARs: the type comes from the device's low bits, the size from VFIO. Sizing
 * works because only the address bits above the size are writable. */
static int init_bars(struct vcfg *c, const u8 *phys, const u64 bar_size[VCFG_NR_BARS])
{
	for (int i = 0; i < VCFG_NR_BARS; i++) {
		u16 off = PCI_BASE_ADDRESS_0 + 4 * i;
		u32 v = ld32(phys + off);
		u64 size = bar_size[i];
		struct vcfg_bar *b = &c->bars[i];

		if (b->type == VCFG_BAR_MEM64_HI)
			continue;
		if (!size || (size & (size - 1))) {
			b->type = VCFG_BAR_NONE;
			emulate(c, off, 4, 0, 0);
			continue;
		}
		b->size = size;
		if (v & PCI_BASE_ADDRESS_SPACE_IO) {
			if (size > 0x10000)
				return -EINVAL;
			b->type = VCFG_BAR_IO;
			emulate(c, off, 4, PCI_BASE_ADDRESS_SPACE_IO, ~(u32)(MAX(size, 4) - 1));
			continue;
		}
		b->prefetch = v & PCI_BASE_ADDRESS_MEM_PREFETCH;
		if ((v & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64) {
			if (i == VCFG_NR_BARS - 1)
				return -EINVAL;
			b->type = VCFG_BAR_MEM64;
			emulate(c, off, 4, v & 0xf, ~(u32)(MAX(size, 16) - 1) & ~0xfu);
			emulate(c, off + 4, 4, 0, (u32)(~(size - 1) >> 32));
			c->bars[i + 1].type = VCFG_BAR_MEM64_HI;
			continue;
		}
		if (size > 0x80000000ULL)
			return -EINVAL;
		b->type = VCFG_BAR_MEM32;
		emulate(c, off, 4, v & 0xf, ~(u32)(MAX(size, 16) - 1) & ~0xfu);
	}
	return 0;
}

/* The MSI capability is emulated whole: the guest's enable never reaches the
 * device directly; the glue enables host MSI through VFIO. */
static void init_msi(struct vcfg *c, const u8 *phys, u16 pos)
{
	u16 ctrl = ld16(phys + pos + 2);
	u16 mmc = (ctrl >> MSI_CTRL_MMC_SHIFT) & 7;
	int dat = msi_data_off(ctrl), msk = msi_mask_off(ctrl);
	u32 nvec = 1u << MIN(mmc, 5);

	c->msi_cap = pos;
	emulate(c, pos + 2, 2, ctrl & ~(MSI_CTRL_ENABLE | (7 << MSI_CTRL_MME_SHIFT)),
		MSI_CTRL_ENABLE | (7 << MSI_CTRL_MME_SHIFT));
	emulate(c, pos + 4, 4, 0, 0xfffffffc);
	if (ctrl & MSI_CTRL_64BIT)
		emulate(c, pos + 8, 4, 0, 0xffffffff);
	emulate(c, pos + dat, 2, 0, 0xffff);
	if (msk) {
		emulate(c, pos + dat + 2, 2, 0, 0);
		emulate(c, pos + msk, 4, 0, nvec == 32 ? 0xffffffff : (1u << nvec) - 1);
		emulate(c, pos + msk + 4, 4, 0, 0); /* pending: never set here */
	}
}

/* MSI-X message control is emulated (enable, function mask); the table and
 * PBA locations are the device's, read-only. */
static void init_msix(struct vcfg *c, const u8 *phys, u16 pos)
{
	u16 ctrl = ld16(phys + pos + 2);

	c->msix_cap = pos;
	emulate(c, pos + 2, 2, ctrl & ~(MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK),
		MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
	emulate(c, pos + 4, 4, ld32(phys + pos + 4), 0);
	emulate(c, pos + 8, 4, ld32(phys + pos + 8), 0);
}

/* Walk the standard list (bounded: 48 entries fit in 192 bytes), keep the
 * useful capabilities and relink them so the others are skipped. */
static void init_caps(struct vcfg *c, const u8 *phys)
{
	u8 kept[48];
	int nk = 0, guard = 48;
	u8 pos = 0;

	if (ld16(phys + PCI_STATUS) & PCI_STATUS_CAP_LIST)
		pos = phys[PCI_CAPABILITY_LIST] & 0xfc;
	while (pos >= 0x40 && guard--) {
		u8 id = phys[pos];

		if (cap_kept(id) && nk < (int)sizeof(kept))
			kept[nk++] = pos;
		else
			note_hidden(c, id);
		pos = phys[pos + 1] & 0xfc;
	}
	emulate(c, PCI_CAPABILITY_LIST, 1, nk ? kept[0] : 0, 0);
	c->emu[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	c->shadow[PCI_STATUS] = nk ? PCI_STATUS_CAP_LIST : 0;
	for (int i = 0; i < nk; i++) {
		u8 p = kept[i];

		emulate(c, p, 2, phys[p] | ((i + 1 < nk ? kept[i + 1] : 0) << 8), 0);
		switch (phys[p]) {
		case PCI_CAP_ID_MSI:
			init_msi(c, phys, p);
			break;
		case PCI_CAP_ID_MSIX:
			init_msix(c, phys, p);
			break;
		case PCI_CAP_ID_PM:
			c->pm_cap = p;
			break;
		case PCI_CAP_ID_EXP:
			c->exp_cap = p;
			break;
		}
	}
}

/* The extended list lives at 0x100 and up. A hidden first entry becomes a
 * null header (ID 0) that only points on, so the list still starts at 0x100. */
static void init_ext_caps(struct vcfg *c, const u8 *phys)
{
	u16 kept[64];
	int nk = 0, guard = (VCFG_SIZE - 0x100) / 4;
	u16 pos = 0x100;
	bool any = false;

	while (pos >= 0x100 && guard--) {
		u32 hdr = ld32(phys + pos);

		if (!hdr || hdr == 0xffffffff)
			break;
		any = true;
		if (!ext_hidden(hdr & 0xffff) && nk < (int)ARRAY_SIZE(kept))
			kept[nk++] = pos;
		else
			note_hidden(c, 0x80 | (hdr & 0x7f));
		pos = PCI_EXT_CAP_NEXT(hdr);
	}
	if (!any)
		return;
	for (int i = 0; i < nk; i++) {
		u32 hdr = ld32(phys + kept[i]) & 0xfffff;
		u32 next = i + 1 < nk ? kept[i + 1] : 0;

		emulate(c, kept[i], 4, hdr | (next << 20), 0);
	}
	if (!nk || kept[0] != 0x100)
		emulate(c, 0x100, 4, nk ? (u32)kept[0] << 20 : 0, 0);
}

/* Build the whole view; see config-space.h. */
int vcfg_init(struct vcfg *c, const u8 *phys, size_t len, const u64 bar_size[VCFG_NR_BARS],
	      u64 rom_size, bool has_intx, bool multifunction)
{
	u8 dev[VCFG_SIZE];
	int ret;

	memset(c, 0, sizeof(*c));
	if (len < 256 || (phys[PCI_HEADER_TYPE] & 0x7f) != PCI_HEADER_TYPE_NORMAL)
		return -EINVAL;
	c->size = len >= VCFG_SIZE ? VCFG_SIZE : 256;
	memset(dev, 0, sizeof(dev));
	memcpy(dev, phys, c->size);

	/* identity and class: read-only */
	emulate(c, PCI_VENDOR_ID, 4, ld32(dev + PCI_VENDOR_ID), 0);
	emulate(c, PCI_CLASS_REVISION, 4, ld32(dev + PCI_CLASS_REVISION), 0);
	emulate(c, PCI_HEADER_TYPE, 1, multifunction ? 0x80 : 0, 0);
	emulate(c, PCI_SUBSYSTEM_VENDOR_ID, 4, ld32(dev + PCI_SUBSYSTEM_VENDOR_ID), 0);
	emulate(c, PCI_INTERRUPT_LINE, 1, 0, 0xff);
	emulate(c, PCI_INTERRUPT_PIN, 1, has_intx ? dev[PCI_INTERRUPT_PIN] : 0, 0);

	ret = init_bars(c, dev, bar_size);
	if (ret)
		return ret;
	c->bars[VCFG_ROM_BAR].type = rom_size ? VCFG_BAR_ROM : VCFG_BAR_NONE;
	c->bars[VCFG_ROM_BAR].size = rom_size;
	if (rom_size && (rom_size & (rom_size - 1)))
		return -EINVAL;
	emulate(c, PCI_ROM_ADDRESS, 4, 0,
		rom_size ? (~(u32)(MAX(rom_size, 2048) - 1) & PCI_ROM_ADDRESS_MASK) |
				   PCI_ROM_ADDRESS_ENABLE : 0);

	init_caps(c, dev);
	if (c->size > 256)
		init_ext_caps(c, dev);
	else /* a conventional function has no extended space: reads 0 */
		for (int o = 256; o < VCFG_SIZE; o += 4)
			emulate(c, o, 4, 0, 0);
	return 0;
}

/* Bits of [off, off+len) that the device supplies. */
u32 vcfg_phys_mask(const struct vcfg *c, u16 off, int len)
{
	u32 m = 0;

	for (int i = 0; i < len && off + i < VCFG_SIZE; i++)
		m |= (u32)(u8)~c->emu[off + i] << (8 * i);
	return m;
}

/* Shadow bytes of [off, off+len) as a value. */
static u32 shadow_val(const struct vcfg *c, u16 off, int len)
{
	u32 v = 0;

	for (int i = 0; i < len && off + i < VCFG_SIZE; i++)
		v |= (u32)c->shadow[off + i] << (8 * i);
	return v;
}

/* The merge: emulated bits from the shadow, the rest from the device. */
u32 vcfg_read(const struct vcfg *c, u16 off, int len, u32 phys)
{
	u32 pm = vcfg_phys_mask(c, off, len);

	if (off + len > VCFG_SIZE)
		return 0xffffffff >> (32 - 8 * len);
	return (shadow_val(c, off, len) & ~pm) | (phys & pm);
}

/* Apply a guest write and work out what the glue has to do. */
unsigned vcfg_write(struct vcfg *c, u16 off, int len, u32 val, struct vcfg_write_result *r)
{
	unsigned act = 0;
	u32 pm;

	memset(r, 0, sizeof(*r));
	if (len < 1 || len > 4 || off + len > VCFG_SIZE)
		return 0;
	pm = vcfg_phys_mask(c, off, len);
	for (int i = 0; i < len; i++) {
		u16 o = off + i;
		u8 w = c->wmask[o] & c->emu[o];

		c->shadow[o] = (c->shadow[o] & ~w) | ((val >> (8 * i)) & w);
	}
	if (pm) {
		act |= VCFG_ACT_FORWARD;
		r->fwd_val = (val & pm) | (shadow_val(c, off, len) & ~pm);
	}
	if (overlaps(off, len, PCI_COMMAND, 2)) {
		u16 cmd = c->cmd;

		for (int i = 0; i < len; i++) {
			int b = off + i - PCI_COMMAND;

			if (b == 0 || b == 1)
				cmd = (cmd & ~(0xff << (8 * b))) | (((val >> (8 * i)) & 0xff) << (8 * b));
		}
		if ((cmd ^ c->cmd) & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY))
			act |= VCFG_ACT_DECODE;
		c->cmd = cmd;
	}
	for (int i = 0; i < VCFG_NR_BARS; i++) {
		enum vcfg_bar_type t = c->bars[i].type;

		if (t == VCFG_BAR_NONE || !overlaps(off, len, PCI_BASE_ADDRESS_0 + 4 * i, 4))
			continue;
		r->bars_changed |= 1u << (t == VCFG_BAR_MEM64_HI ? i - 1 : i);
		act |= VCFG_ACT_BAR;
	}
	if (c->bars[VCFG_ROM_BAR].type == VCFG_BAR_ROM && overlaps(off, len, PCI_ROM_ADDRESS, 4)) {
		r->bars_changed |= 1u << VCFG_ROM_BAR;
		act |= VCFG_ACT_BAR;
	}
	if (c->msi_cap &&
	    overlaps(off, len, c->msi_cap + 2, msi_cap_len(ld16(c->shadow + c->msi_cap + 2)) - 2))
		act |= VCFG_ACT_MSI;
	if (c->msix_cap && overlaps(off, len, c->msix_cap + 2, 2)) {
		act |= VCFG_ACT_MSIX;
		r->msix_ctrl = ld16(c->shadow + c->msix_cap + 2);
	}
	return act;
}

/* Address bits of BAR i as the guest programmed them. */
u64 vcfg_bar_addr(const struct vcfg *c, int i)
{
	const u8 *p = c->shadow + (i == VCFG_ROM_BAR ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * i);

	switch (c->bars[i].type) {
	case VCFG_BAR_IO:
		return ld32(p) & ~3u;
	case VCFG_BAR_MEM32:
		return ld32(p) & ~0xfu;
	case VCFG_BAR_MEM64:
		return (ld32(p) & ~0xfu) | ((u64)ld32(p + 4) << 32);
	case VCFG_BAR_ROM:
		return ld32(p) & PCI_ROM_ADDRESS_MASK;
	default:
		return 0;
	}
}

/* Write an address into BAR i, keeping its flag bits (and the ROM enable). */
void vcfg_set_bar(struct vcfg *c, int i, u64 addr)
{
	u8 *p = c->shadow + (i == VCFG_ROM_BAR ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * i);
	u32 lo = ld32(p);

	switch (c->bars[i].type) {
	case VCFG_BAR_IO:
		st32(p, ((u32)addr & ~3u) | (lo & 3));
		break;
	case VCFG_BAR_MEM32:
		st32(p, ((u32)addr & ~0xfu) | (lo & 0xf));
		break;
	case VCFG_BAR_MEM64:
		st32(p, ((u32)addr & ~0xfu) | (lo & 0xf));
		st32(p + 4, addr >> 32);
		break;
	case VCFG_BAR_ROM:
		st32(p, ((u32)addr & PCI_ROM_ADDRESS_MASK) | (lo & PCI_ROM_ADDRESS_ENABLE));
		break;
	default:
		break;
	}
}

/* Decoding needs the command bit of the BAR's space; the ROM also its enable. */
bool vcfg_bar_enabled(const struct vcfg *c, int i)
{
	switch (c->bars[i].type) {
	case VCFG_BAR_IO:
		return c->cmd & PCI_COMMAND_IO;
	case VCFG_BAR_MEM32:
	case VCFG_BAR_MEM64:
		return c->cmd & PCI_COMMAND_MEMORY;
	case VCFG_BAR_ROM:
		return (c->cmd & PCI_COMMAND_MEMORY) &&
		       (c->shadow[PCI_ROM_ADDRESS] & PCI_ROM_ADDRESS_ENABLE);
	default:
		return false;
	}
}

/* Setup and reset set the tracked command directly. */
void vcfg_set_cmd(struct vcfg *c, u16 cmd)
{
	c->cmd = cmd;
}

/* Reboot: BARs back to the setup addresses, ROM and interrupts off. */
void vcfg_reset(struct vcfg *c, const u64 bar_addr[VCFG_NR_BARS + 1], u16 cmd)
{
	for (int i = 0; i <= VCFG_NR_BARS; i++)
		vcfg_set_bar(c, i, bar_addr[i]);
	c->shadow[PCI_ROM_ADDRESS] &= ~PCI_ROM_ADDRESS_ENABLE;
	if (c->msi_cap) {
		u16 p = c->msi_cap;
		u16 ctrl = ld16(c->shadow + p + 2);
		int len = msi_cap_len(ctrl);

		ctrl &= ~(MSI_CTRL_ENABLE | (7 << MSI_CTRL_MME_SHIFT));
		c->shadow[p + 2] = ctrl & 0xff;
		c->shadow[p + 3] = ctrl >> 8;
		memset(c->shadow + p + 4, 0, len - 4);
	}
	if (c->msix_cap)
		c->shadow[c->msix_cap + 3] &= ~((MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK) >> 8);
	c->cmd = cmd;
}
