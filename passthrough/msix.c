/*
 * MSI and MSI-X emulation state (see msix.h). Pure logic over guest writes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "passthrough/msix.h"

/* Little-endian loads from config bytes. */
static u16 ld16(const u8 *p) { return p[0] | (p[1] << 8); }
static u32 ld32(const u8 *p) { return ld16(p) | ((u32)ld16(p + 2) << 16); }

/* Capability length: ID/next/ctrl, address (4 or 8), data (2, padded to 4
 * when mask bits follow), mask and pending (4 each). */
int msi_cap_len(u16 ctrl)
{
	int len = (ctrl & MSI_CTRL_64BIT) ? 14 : 10;

	if (ctrl & MSI_CTRL_MASKABLE)
		len += 10;
	return len;
}

/* The data word sits after the 32- or 64-bit address. */
int msi_data_off(u16 ctrl)
{
	return (ctrl & MSI_CTRL_64BIT) ? 0x0c : 0x08;
}

/* The mask word follows the (padded) data word; 0 if not maskable. */
int msi_mask_off(u16 ctrl)
{
	if (!(ctrl & MSI_CTRL_MASKABLE))
		return 0;
	return msi_data_off(ctrl) + 4;
}

/* Record the device's MSI abilities; the guest view starts disabled. */
void msi_init(struct msi *m, u16 cap, u16 ctrl)
{
	memset(m, 0, sizeof(*m));
	m->cap = cap;
	m->ctrl_caps = ctrl & (MSI_CTRL_64BIT | MSI_CTRL_MASKABLE | (7 << MSI_CTRL_MMC_SHIFT));
	m->is64 = ctrl & MSI_CTRL_64BIT;
	m->maskable = ctrl & MSI_CTRL_MASKABLE;
	m->max_vecs = 1 << MIN((ctrl >> MSI_CTRL_MMC_SHIFT) & 7, 5);
	m->nvec = 1;
}

/* Compare the new capability contents with the state and say what changed.
 * A change of the vector count while enabled is a disable + enable, because
 * VFIO cannot resize an MSI block in place. */
unsigned msi_update(struct msi *m, u8 *cfg)
{
	u8 *c = cfg + m->cap;
	u16 ctrl = ld16(c + 2);
	int mme = (ctrl >> MSI_CTRL_MME_SHIFT) & 7;
	bool en = ctrl & MSI_CTRL_ENABLE;
	u64 addr = ld32(c + 4);
	u16 data;
	u32 mask = 0;
	int nvec;
	unsigned act = 0;

	if (m->is64)
		addr |= (u64)ld32(c + 8) << 32;
	data = ld16(c + msi_data_off(m->ctrl_caps));
	if (m->maskable)
		mask = ld32(c + msi_mask_off(m->ctrl_caps));
	nvec = 1 << MIN(mme, 5);
	if (nvec > m->max_vecs) {
		/* clamp MME so the guest reads back what it got */
		nvec = m->max_vecs;
		mme = __builtin_ctz(nvec);
		ctrl = (ctrl & ~(7 << MSI_CTRL_MME_SHIFT)) | (mme << MSI_CTRL_MME_SHIFT);
		c[2] = ctrl & 0xff;
		c[3] = ctrl >> 8;
	}

	if (m->enabled && (!en || nvec != m->nvec))
		act |= MSI_ACT_DISABLE;
	if (en && (!m->enabled || nvec != m->nvec))
		act |= MSI_ACT_ENABLE;
	if (en && m->enabled && !(act & MSI_ACT_ENABLE) &&
	    (addr != m->addr || data != m->data))
		act |= MSI_ACT_ROUTE;
	if (mask != m->mask && en)
		act |= MSI_ACT_MASK;

	m->enabled = en;
	m->nvec = nvec;
	m->addr = addr;
	m->data = data;
	m->mask = mask;
	return act;
}

/* Vector i's message: the data's low bits are replaced by the vector number. */
void msi_vector_msg(const struct msi *m, int i, u64 *addr, u32 *data)
{
	*addr = m->addr;
	*data = (m->data & ~(u32)(m->nvec - 1)) | (u32)i;
}

/* Masked if MSI is off or the per-vector mask bit (when present) is set. */
bool msi_vector_masked(const struct msi *m, int i)
{
	if (!m->enabled || i >= m->nvec)
		return true;
	return m->maskable && (m->mask & (1u << i));
}

/* Table and PBA dwords carry the BAR in bits 0-2 and an 8-byte aligned offset. */
int msix_init(struct msix *m, u16 cap, u16 ctrl, u32 table, u32 pba)
{
	memset(m, 0, sizeof(*m));
	m->cap = cap;
	m->nr = (ctrl & MSIX_CTRL_SIZE_MASK) + 1;
	m->table_bar = table & 7;
	m->table_off = table & ~7u;
	m->pba_bar = pba & 7;
	m->pba_off = pba & ~7u;
	if (m->table_bar > 5 || m->pba_bar > 5)
		return -EINVAL;
	if (m->table_bar == m->pba_bar) {
		u64 t0 = m->table_off, t1 = t0 + msix_table_size(m);
		u64 p0 = m->pba_off, p1 = p0 + msix_pba_size(m);

		if (t0 < p1 && p0 < t1)
			return -EINVAL;
	}
	m->table = calloc(m->nr, sizeof(*m->table));
	m->pending = calloc((m->nr + 63) / 64, sizeof(u64));
	if (!m->table || !m->pending) {
		msix_free(m);
		return -ENOMEM;
	}
	msix_reset(m);
	return 0;
}

/* Free the table; safe on a zeroed or already freed struct. */
void msix_free(struct msix *m)
{
	free(m->table);
	free(m->pending);
	m->table = NULL;
	m->pending = NULL;
}

/* Power-on state (PCI spec): MSI-X off, function unmasked, all vectors masked. */
void msix_reset(struct msix *m)
{
	m->enabled = false;
	m->fmask = false;
	memset(m->table, 0, m->nr * sizeof(*m->table));
	memset(m->pending, 0, (m->nr + 63) / 64 * sizeof(u64));
	for (int i = 0; i < m->nr; i++)
		m->table[i].ctrl = MSIX_ENTRY_CTRL_MASKBIT;
}

/* 16 bytes per entry. */
u64 msix_table_size(const struct msix *m)
{
	return (u64)m->nr * MSIX_ENTRY_SIZE;
}

/* One bit per vector, in whole qwords. */
u64 msix_pba_size(const struct msix *m)
{
	return ((u64)m->nr + 63) / 64 * 8;
}

/* Enable and function-mask changes affect every vector's effective mask. */
unsigned msix_ctrl_write(struct msix *m, u16 ctrl)
{
	bool en = ctrl & MSIX_CTRL_ENABLE, fm = ctrl & MSIX_CTRL_FMASK;
	unsigned act = 0;

	if (en && !m->enabled)
		act |= MSIX_ACT_ENABLE | MSIX_ACT_MASKS;
	if (!en && m->enabled)
		act |= MSIX_ACT_DISABLE | MSIX_ACT_MASKS;
	if (fm != m->fmask && (en || m->enabled))
		act |= MSIX_ACT_MASKS;
	m->enabled = en;
	m->fmask = fm;
	return act;
}

/* Merge len bytes of val at byte offset off into the 16-byte entry e. */
static void entry_merge(struct msix_entry *e, u32 off, int len, u64 val)
{
	u8 b[MSIX_ENTRY_SIZE];
	u32 w[4] = { e->addr_lo, e->addr_hi, e->data, e->ctrl };

	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			b[i * 4 + j] = w[i] >> (8 * j);
	for (int i = 0; i < len; i++)
		b[off + i] = val >> (8 * i);
	e->addr_lo = ld32(b);
	e->addr_hi = ld32(b + 4);
	e->data = ld32(b + 8);
	/* only the mask bit of vector control is writable */
	e->ctrl = (e->ctrl & ~MSIX_ENTRY_CTRL_MASKBIT) | (ld32(b + 12) & MSIX_ENTRY_CTRL_MASKBIT);
}

/* A table write changes one entry: report route and/or mask changes. */
unsigned msix_table_write(struct msix *m, u32 off, int len, u64 val, int *vec)
{
	int v = off / MSIX_ENTRY_SIZE;
	u32 eoff = off % MSIX_ENTRY_SIZE;
	struct msix_entry old, *e;
	unsigned act = 0;

	*vec = v;
	if (v >= m->nr || len < 1 || len > 8 || eoff + len > MSIX_ENTRY_SIZE)
		return 0;
	e = &m->table[v];
	old = *e;
	entry_merge(e, eoff, len, val);
	if (e->addr_lo != old.addr_lo || e->addr_hi != old.addr_hi || e->data != old.data)
		act |= MSIX_ACT_ROUTE;
	if ((e->ctrl ^ old.ctrl) & MSIX_ENTRY_CTRL_MASKBIT)
		act |= MSIX_ACT_VMASK;
	return act;
}

/* Table reads come from the emulated copy; out-of-range bytes read 0. */
u64 msix_table_read(const struct msix *m, u32 off, int len)
{
	u64 val = 0;

	for (int i = 0; i < len; i++) {
		u32 o = off + i;
		int v = o / MSIX_ENTRY_SIZE;
		const struct msix_entry *e;
		u32 w;

		if (v >= m->nr)
			continue;
		e = &m->table[v];
		switch ((o % MSIX_ENTRY_SIZE) / 4) {
		case 0: w = e->addr_lo; break;
		case 1: w = e->addr_hi; break;
		case 2: w = e->data; break;
		default: w = e->ctrl; break;
		}
		val |= (u64)((w >> (8 * (o % 4))) & 0xff) << (8 * i);
	}
	return val;
}

/* The PBA as a little-endian bit array. */
u64 msix_pba_read(const struct msix *m, u32 off, int len)
{
	u64 val = 0;

	for (int i = 0; i < len; i++) {
		u32 byte = off + i;
		u8 b;

		if (byte >= msix_pba_size(m))
			continue;
		b = m->pending[byte / 8] >> (8 * (byte % 8));
		val |= (u64)b << (8 * i);
	}
	return val;
}

/* The glue sets a vector's pending bit from its host eventfd while masked. */
void msix_set_pending(struct msix *m, int vec, bool pending)
{
	if (vec < 0 || vec >= m->nr)
		return;
	if (pending)
		m->pending[vec / 64] |= 1ULL << (vec % 64);
	else
		m->pending[vec / 64] &= ~(1ULL << (vec % 64));
}

/* Effective mask: MSI-X off, function mask, or the vector's own bit. */
bool msix_vector_masked(const struct msix *m, int vec)
{
	if (vec < 0 || vec >= m->nr || !m->enabled || m->fmask)
		return true;
	return m->table[vec].ctrl & MSIX_ENTRY_CTRL_MASKBIT;
}

/* The message the guest programmed for vec. */
void msix_vector_msg(const struct msix *m, int vec, u64 *addr, u32 *data)
{
	const struct msix_entry *e = &m->table[vec];

	*addr = ((u64)e->addr_hi << 32) | e->addr_lo;
	*data = e->data;
}
