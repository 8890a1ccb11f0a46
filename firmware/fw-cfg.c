/*
 * fw_cfg: an item store and the guest's view of it through the selector,
 * data and DMA ports (see fw-cfg.h). The store is filled before the vCPUs
 * run; afterwards only the guest's selector, offset and writable items
 * change, always under vm->lock (the bus callback).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/fw-cfg.h"
#include "vmm/log.h"
#include "vmm/memory.h"
#include "vmm/vm.h"

/* The DMA control structure the guest points at (all big-endian). */
#define DMA_ACCESS_SIZE 16

// Store v as an n-byte big-endian integer at p.
static void put_be(u8 *p, u64 v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (u8)(v >> (8 * (n - 1 - i)));
}

// The n-byte big-endian integer at p.
static u64 get_be(const u8 *p, int n)
{
	u64 v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

// Index of the item with key, or -1.
static int find_index(const struct fw_cfg *f, u16 key)
{
	for (int i = 0; i < f->nr; i++)
		if (f->items[i].key == key)
			return i;
	return -1;
}

// Order files by name in the directory (QEMU sorts them the same way).
static int cmp_by_name(const void *a, const void *b)
{
	const struct fw_cfg_item *x = *(const struct fw_cfg_item *const *)a;
	const struct fw_cfg_item *y = *(const struct fw_cfg_item *const *)b;

	return strcmp(x->name, y->name);
}

// Rebuild FW_CFG_FILE_DIR from the named items: be32 count, then entries by name.
static int rebuild_dir(struct fw_cfg *f)
{
	const struct fw_cfg_item *files[FW_CFG_MAX_ITEMS];
	u32 n = 0, size;
	u8 *dir;
	int i;

	for (i = 0; i < f->nr; i++)
		if (f->items[i].name[0])
			files[n++] = &f->items[i];
	qsort(files, n, sizeof(files[0]), cmp_by_name);
	size = 4 + n * FW_CFG_DIR_ENTRY_SIZE;
	dir = calloc(1, size);
	if (!dir)
		return -ENOMEM;
	put_be(dir, n, 4);
	for (u32 j = 0; j < n; j++) {
		u8 *e = dir + 4 + j * FW_CFG_DIR_ENTRY_SIZE;

		put_be(e, files[j]->size, 4);
		put_be(e + 4, files[j]->key, 2);
		memcpy(e + 8, files[j]->name, strlen(files[j]->name));
	}
	i = find_index(f, FW_CFG_FILE_DIR);
	free(f->items[i].data);
	f->items[i].data = dir;
	f->items[i].size = size;
	return 0;
}

// Put a copy of data into item slot i (a new or an existing one).
static int set_item(struct fw_cfg *f, int i, u16 key, const char *name, const void *data, u32 size)
{
	u8 *copy = malloc(size ? size : 1);

	if (!copy)
		return -ENOMEM;
	if (size)
		memcpy(copy, data, size);
	if (i == f->nr)
		f->nr++;
	else
		free(f->items[i].data);
	f->items[i].key = key;
	f->items[i].data = copy;
	f->items[i].size = size;
	memset(f->items[i].name, 0, sizeof(f->items[i].name));
	if (name)
		strcpy(f->items[i].name, name);
	/* a replaced item starts over for a guest that had it selected */
	if (f->cur == i)
		f->offset = 0;
	return 0;
}

// Start with the items every fw_cfg has.
int fw_cfg_init(struct fw_cfg *f, struct mem_map *mem)
{
	u8 empty_dir[4] = { 0 };
	int ret;

	memset(f, 0, sizeof(*f));
	f->mem = mem;
	f->cur = -1;
	f->next_file_key = FW_CFG_FILE_FIRST;
	ret = fw_cfg_add_bytes(f, FW_CFG_SIGNATURE, "QEMU", 4);
	ret = ret ?: fw_cfg_add_u32(f, FW_CFG_ID, FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA);
	ret = ret ?: fw_cfg_add_bytes(f, FW_CFG_FILE_DIR, empty_dir, sizeof(empty_dir));
	if (ret)
		fw_cfg_destroy(f);
	return ret;
}

// Free the items; unregister from the bus if registered.
void fw_cfg_destroy(struct fw_cfg *f)
{
	if (f->bus)
		bus_unregister(f->bus, &f->region);
	f->bus = NULL;
	for (int i = 0; i < f->nr; i++)
		free(f->items[i].data);
	f->nr = 0;
	f->cur = -1;
}

// Add or replace a numbered item.
int fw_cfg_add_bytes(struct fw_cfg *f, u16 key, const void *data, u32 size)
{
	int i = find_index(f, key);

	if (i < 0) {
		if (f->nr == FW_CFG_MAX_ITEMS)
			return -ENOSPC;
		i = f->nr;
	}
	return set_item(f, i, key, NULL, data, size);
}

// Little-endian integer items, as QEMU stores them.
int fw_cfg_add_u16(struct fw_cfg *f, u16 key, u16 v)
{
	u8 b[2] = { (u8)v, (u8)(v >> 8) };

	return fw_cfg_add_bytes(f, key, b, sizeof(b));
}

int fw_cfg_add_u32(struct fw_cfg *f, u16 key, u32 v)
{
	u8 b[4];

	for (int i = 0; i < 4; i++)
		b[i] = (u8)(v >> (8 * i));
	return fw_cfg_add_bytes(f, key, b, sizeof(b));
}

int fw_cfg_add_u64(struct fw_cfg *f, u16 key, u64 v)
{
	u8 b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (u8)(v >> (8 * i));
	return fw_cfg_add_bytes(f, key, b, sizeof(b));
}

// Add a named file under the next free key and list it in the directory.
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, u32 size)
{
	int ret;

	if (strlen(name) >= FW_CFG_NAME_SIZE || !name[0])
		return -ENAMETOOLONG;
	if (fw_cfg_find_file(f, name))
		return -EEXIST;
	if (f->nr == FW_CFG_MAX_ITEMS || f->next_file_key >= FW_CFG_WRITE_CHANNEL)
		return -ENOSPC;
	ret = set_item(f, f->nr, f->next_file_key, name, data, size);
	if (ret)
		return ret;
	f->next_file_key++;
	return rebuild_dir(f);
}

// Allow DMA WRITE into a file (bounded by its size).
int fw_cfg_set_writable(struct fw_cfg *f, const char *name)
{
	struct fw_cfg_item *it = (struct fw_cfg_item *)fw_cfg_find_file(f, name);

	if (!it)
		return -ENOENT;
	it->writable = true;
	return 0;
}

const struct fw_cfg_item *fw_cfg_find(const struct fw_cfg *f, u16 key)
{
	int i = find_index(f, key);

	return i < 0 ? NULL : &f->items[i];
}

const struct fw_cfg_item *fw_cfg_find_file(const struct fw_cfg *f, const char *name)
{
	for (int i = 0; i < f->nr; i++)
		if (f->items[i].name[0] && !strcmp(f->items[i].name, name))
			return &f->items[i];
	return NULL;
}

// Select an item and rewind; an unknown key selects nothing (reads give 0).
void fw_cfg_select(struct fw_cfg *f, u16 selector)
{
	f->cur = find_index(f, selector & (u16)~FW_CFG_WRITE_CHANNEL);
	f->offset = 0;
}

// The next byte of the selected item; 0 past its end or with nothing selected.
u8 fw_cfg_read_byte(struct fw_cfg *f)
{
	const struct fw_cfg_item *it;

	if (f->cur < 0)
		return 0;
	it = &f->items[f->cur];
	if (f->offset >= it->size)
		return 0;
	return it->data[f->offset++];
}

// One DMA READ, SKIP or WRITE of len bytes at guest address addr; false on error.
static bool dma_transfer(struct fw_cfg *f, u32 control, u64 addr, u32 len)
{
	struct fw_cfg_item *it = f->cur >= 0 ? &f->items[f->cur] : NULL;
	u32 avail = it && f->offset < it->size ? it->size - f->offset : 0;
	u32 n = MIN(len, avail);
	u8 *p;

	if (control & FW_CFG_DMA_READ) {
		/* the item's bytes, then zeros for the part past its end (as QEMU) */
		if (addr + len < addr)
			return false;
		p = len ? mem_gpa_to_hva(f->mem, addr, len) : NULL;
		if (len && !p)
			return false;
		if (n)
			memcpy(p, it->data + f->offset, n);
		if (len > n)
			memset(p + n, 0, len - n);
	} else if (control & FW_CFG_DMA_WRITE) {
		if (!it || !it->writable || len > avail)
			return false;
		if (len && mem_read(f->mem, addr, it->data + f->offset, len))
			return false;
	}
	/* SKIP, or the bytes just moved */
	f->offset += n;
	return true;
}

// Run the guest's DMA request at gpa and write its status back.
void fw_cfg_dma(struct fw_cfg *f, u64 gpa)
{
	u8 acc[DMA_ACCESS_SIZE];
	u32 control, len;
	u64 addr;
	bool ok = true;

	if (mem_read(f->mem, gpa, acc, sizeof(acc))) {
		pr_debug("fw_cfg: DMA request at 0x%llx is outside guest RAM", (unsigned long long)gpa);
		return;
	}
	control = (u32)get_be(acc, 4);
	len = (u32)get_be(acc + 4, 4);
	addr = get_be(acc + 8, 8);
	if (control & FW_CFG_DMA_SELECT)
		fw_cfg_select(f, (u16)(control >> 16));
	if (control & (FW_CFG_DMA_READ | FW_CFG_DMA_SKIP | FW_CFG_DMA_WRITE))
		ok = dma_transfer(f, control, addr, len);
	if (!ok)
		pr_debug("fw_cfg: DMA control 0x%x, 0x%x bytes at 0x%llx: rejected", control, len,
			 (unsigned long long)addr);
	put_be(acc, ok ? 0 : FW_CFG_DMA_ERROR, 4);
	mem_write(f->mem, gpa, acc, 4);
}

// Bus callback for 0x510..0x51b.
static void fw_cfg_access(void *opaque, struct bus_access *a)
{
	static const char dma_sig[] = FW_CFG_DMA_SIGNATURE;
	struct fw_cfg *f = opaque;
	u64 off = a->offset;

	if (!a->is_write) {
		for (u32 i = 0; i < a->len; i++) {
			u64 o = off + i;

			if (o == 1)
				a->data[i] = fw_cfg_read_byte(f);
			else if (o >= 4 && o < 12)
				a->data[i] = (u8)dma_sig[o - 4];
			else
				a->data[i] = 0;
		}
		return;
	}
	if (off == 0 && a->len >= 2) {
		fw_cfg_select(f, (u16)(a->data[0] | a->data[1] << 8));
	} else if (off == 4 && a->len == 4) {
		f->dma_hi = (u32)get_be(a->data, 4);
	} else if (off == 8 && a->len == 4) {
		/* the low half starts the request; the address resets for the next one */
		fw_cfg_dma(f, (u64)f->dma_hi << 32 | get_be(a->data, 4));
		f->dma_hi = 0;
	}
	/* data port writes are ignored (QEMU dropped them in 2.4) */
}

// Claim the fw_cfg ports.
int fw_cfg_register(struct fw_cfg *f, struct vm *vm)
{
	int ret;

	f->region = (struct bus_region){
		.name = "fw_cfg", .space = BUS_PIO, .base = FW_CFG_PORT_SEL, .size = FW_CFG_PORT_SIZE,
		.access = fw_cfg_access, .opaque = f,
	};
	ret = bus_register(&vm->bus, &f->region);
	if (ret) {
		pr_err("fw_cfg: ports 0x%x-0x%x are taken: %s", FW_CFG_PORT_SEL,
		       FW_CFG_PORT_SEL + FW_CFG_PORT_SIZE - 1, strerror(-ret));
		return ret;
	}
	f->bus = &vm->bus;
	return 0;
}
