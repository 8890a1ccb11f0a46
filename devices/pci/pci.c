/*
 * PCI bus 0: config mechanism #1 (ports 0xCF8/0xCFC), ECAM, device slots,
 * and the BAR windows (see pci.h and docs/pci.md).
 *
 * Port layout around 0xCF8. The bus looks a region up by the first byte of
 * an access, and a region may be given accesses that run past its end. So:
 *   [0xCF8, 0xCF9)  CONFIG_ADDRESS, ours: a 4-byte access at 0xCF8 lands here
 *                   even though it covers 0xCF9..0xCFB. Only 4-byte accesses
 *                   mean CONFIG_ADDRESS; byte and word accesses at 0xCF8 read
 *                   all ones and are dropped (as on PIIX/ICH, where they do not
 *                   touch CONFIG_ADDRESS).
 *   [0xCF9, 0xCFA)  the reset control register, owned by devices/pm.c: a byte
 *                   access at 0xCF9 reaches it without passing through here.
 *   [0xCFA, 0xCFC)  unclaimed (mechanism #2's forward register): all ones,
 *                   which also makes Linux's mechanism #2 probe fail.
 *   [0xCFC, 0xD00)  CONFIG_DATA, ours: 1-, 2- and 4-byte accesses at any
 *                   naturally aligned offset select that byte of the dword.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci/config.h"
#include "devices/pci/host-bridge.h"
#include "devices/pci/pci.h"
#include "vmm/bus.h"
#include "vmm/layout.h"
#include "vmm/log.h"
#include "vmm/vm.h"     /* vm->bus, vm->layout */

#define PCI_PORT_ADDR 0xCF8
#define PCI_PORT_DATA 0xCFC
#define PCI_ADDR_ENABLE 0x80000000u
/* enable, extended register 27:24 (AMD style), bus, device, function, register 7:2 */
#define PCI_ADDR_MASK 0x8FFFFFFCu
#define PCI_MEM_MIN_ALIGN 4096 /* no two memory BARs share a page: VFIO maps pages */

struct pci_range {
	u64 addr, size;
};

/* One BAR window: the ranges handed out, sorted by address, never overlapping. */
struct pci_window {
	u64 base, end;
	struct pci_range *used;
	int nr, cap;
};

struct pci_bus {
	struct vm *vm;
	struct pci_dev *devs[PCI_MAX_SLOTS][PCI_MAX_FUNCS];
	u32 config_address;           /* the CONFIG_ADDRESS latch (PCI_ADDR_MASK bits) */
	struct bus_region addr_region; /* 0xCF8, 1 byte; see the top of this file */
	struct bus_region data_region; /* 0xCFC..0xCFF */
	struct bus_region ecam_region;
	struct pci_window io, mmio32, mmio64;
	struct pci_host host;
};

// All ones in the low len bytes.
static u32 ones(int len)
{
	return len >= 4 ? 0xffffffffu : (1u << (8 * len)) - 1;
}

// True for a config access the functions accept: 1/2/4 bytes, naturally aligned.
static bool cfg_access_ok(u16 off, int len)
{
	return (len == 1 || len == 2 || len == 4) && off % len == 0 && off + len <= PCI_CFG_SIZE;
}

// True if any function other than 0 of slot is plugged in.
static bool slot_is_multifn(const struct pci_bus *bus, int slot)
{
	for (int fn = 1; fn < PCI_MAX_FUNCS; fn++)
		if (bus->devs[slot][fn])
			return true;
	return false;
}

// Config read as both mechanisms see it: unplugged functions and other buses read all ones.
u32 pci_config_read(struct pci_bus *bus, u8 busno, u8 devfn, u16 off, int len)
{
	int slot = devfn >> 3, fn = devfn & 7;
	struct pci_dev *d;
	u32 v;

	if (!cfg_access_ok(off, len))
		return len > 0 && len <= 4 ? ones(len) : 0xffffffffu;
	d = busno == 0 ? bus->devs[slot][fn] : NULL;
	if (!d || !d->cfg_read)
		return ones(len);
	v = d->cfg_read(d, off, len) & ones(len);
	/* Linux scans functions 1..7 only if function 0 says multifunction */
	if (fn == 0 && off <= PCI_HEADER_TYPE && PCI_HEADER_TYPE < off + len &&
	    slot_is_multifn(bus, slot))
		v |= (u32)PCI_CFG_HEADER_MULTIFN << (8 * (PCI_HEADER_TYPE - off));
	return v;
}

// Config write as both mechanisms see it: dropped where nothing is plugged in.
void pci_config_write(struct pci_bus *bus, u8 busno, u8 devfn, u16 off, int len, u32 val)
{
	struct pci_dev *d;

	if (!cfg_access_ok(off, len) || busno != 0)
		return;
	d = bus->devs[devfn >> 3][devfn & 7];
	if (d && d->cfg_write)
		d->cfg_write(d, off, len, val & ones(len));
}

// Copy the low a->len bytes of v into the access, little-endian.
static void put_data(struct bus_access *a, u64 v)
{
	for (u32 i = 0; i < a->len; i++, v >>= 8)
		a->data[i] = v & 0xff;
}

// The access's data as a number, little-endian.
static u64 get_data(const struct bus_access *a)
{
	u64 v = 0;

	for (int i = (int)a->len - 1; i >= 0; i--)
		v = (v << 8) | a->data[i];
	return v;
}

// CONFIG_ADDRESS at 0xCF8: only a 4-byte access from the base means the register.
static void pci_addr_access(void *opaque, struct bus_access *a)
{
	struct pci_bus *bus = opaque;

	if (a->offset != 0 || a->len != 4) {
		if (!a->is_write)
			memset(a->data, 0xff, a->len);
		return;
	}
	if (a->is_write)
		bus->config_address = (u32)get_data(a) & PCI_ADDR_MASK;
	else
		put_data(a, bus->config_address);
}

// CONFIG_DATA at 0xCFC..0xCFF: the register CONFIG_ADDRESS selects, plus the byte offset.
static void pci_data_access(void *opaque, struct bus_access *a)
{
	struct pci_bus *bus = opaque;
	u32 ca = bus->config_address;
	u16 reg;
	u8 busno, devfn;

	/* a->offset + a->len past 0xCFF, or misaligned: not a config access */
	if (!(ca & PCI_ADDR_ENABLE) || a->len > 4 || a->offset % a->len ||
	    a->offset + a->len > 4) {
		if (!a->is_write)
			memset(a->data, 0xff, a->len);
		return;
	}
	reg = ((ca >> 16) & 0xf00) | (ca & 0xfc) | a->offset;
	busno = (ca >> 16) & 0xff;
	devfn = (ca >> 8) & 0xff;
	if (a->is_write)
		pci_config_write(bus, busno, devfn, reg, a->len, (u32)get_data(a));
	else
		put_data(a, pci_config_read(bus, busno, devfn, reg, a->len));
}

// ECAM: offset = bus << 20 | devfn << 12 | register; 8-byte accesses split in two dwords.
static void pci_ecam_access(void *opaque, struct bus_access *a)
{
	struct pci_bus *bus = opaque;
	u64 off = a->offset;
	u8 busno = (off >> 20) & 0xff, devfn = (off >> 12) & 0xff;
	u16 reg = off & 0xfff;

	if (off + a->len > LAYOUT_ECAM_SIZE || off % a->len) {
		if (!a->is_write)
			memset(a->data, 0xff, a->len);
		return;
	}
	if (a->len == 8) {
		if (a->is_write) {
			u64 v = get_data(a);

			pci_config_write(bus, busno, devfn, reg, 4, (u32)v);
			pci_config_write(bus, busno, devfn, reg + 4, 4, (u32)(v >> 32));
		} else {
			put_data(a, pci_config_read(bus, busno, devfn, reg, 4) |
				    (u64)pci_config_read(bus, busno, devfn, reg + 4, 4) << 32);
		}
		return;
	}
	if (a->is_write)
		pci_config_write(bus, busno, devfn, reg, a->len, (u32)get_data(a));
	else
		put_data(a, pci_config_read(bus, busno, devfn, reg, a->len));
}

// Take [addr, addr + size) from the first aligned gap of w that fits.
static int window_alloc(struct pci_window *w, u64 size, u64 align, u64 *addr)
{
	u64 cur = w->base;

	for (int i = 0; i <= w->nr; i++) {
		u64 lim = i < w->nr ? w->used[i].addr : w->end;
		u64 a = ALIGN_UP(cur, align);

		if (a >= cur && a <= lim && lim - a >= size) {
			if (w->nr == w->cap) {
				int cap = w->cap ? 2 * w->cap : 16;
				struct pci_range *u = realloc(w->used, cap * sizeof(*u));

				if (!u)
					return -ENOMEM;
				w->used = u;
				w->cap = cap;
			}
			memmove(&w->used[i + 1], &w->used[i], (w->nr - i) * sizeof(*w->used));
			w->used[i] = (struct pci_range){ a, size };
			w->nr++;
			*addr = a;
			return 0;
		}
		if (i < w->nr)
			cur = w->used[i].addr + w->used[i].size;
	}
	return -ENOSPC;
}

// Give back the range starting at addr; -ENOENT if w did not hand it out.
static int window_free(struct pci_window *w, u64 addr)
{
	for (int i = 0; i < w->nr; i++) {
		if (w->used[i].addr != addr)
			continue;
		memmove(&w->used[i], &w->used[i + 1], (w->nr - i - 1) * sizeof(*w->used));
		w->nr--;
		return 0;
	}
	return -ENOENT;
}

// True if addr lies in w.
static bool window_has(const struct pci_window *w, u64 addr)
{
	return addr >= w->base && addr < w->end;
}

// Place a BAR: natural alignment; memory BARs take at least a page.
int pci_alloc_bar(struct pci_bus *bus, enum pci_bar_kind kind, u64 size, u64 *addr)
{
	u64 span;
	int ret;

	if (!size || (size & (size - 1)))
		return -EINVAL;
	if (kind == PCI_BAR_IO)
		return window_alloc(&bus->io, size, size, addr);
	span = MAX(size, (u64)PCI_MEM_MIN_ALIGN);
	if (kind == PCI_BAR_MEM64) {
		ret = window_alloc(&bus->mmio64, span, span, addr);
		/* a 64-bit BAR may live below 4 GiB too */
		if (ret != -ENOSPC)
			return ret;
	}
	return window_alloc(&bus->mmio32, span, span, addr);
}

// Return a BAR's range to the window it came from.
int pci_free_bar(struct pci_bus *bus, enum pci_bar_kind kind, u64 addr)
{
	if (kind == PCI_BAR_IO)
		return window_free(&bus->io, addr);
	if (window_has(&bus->mmio64, addr))
		return window_free(&bus->mmio64, addr);
	return window_free(&bus->mmio32, addr);
}

// Plug a function in; see pci.h for the slot rules.
int pci_register(struct pci_bus *bus, struct pci_dev *d, int slot, int fn)
{
	if (!d || fn < 0 || fn >= PCI_MAX_FUNCS || slot < -1 || slot >= PCI_MAX_SLOTS ||
	    d->intx_pin > 4)
		return -EINVAL;
	if (slot == -1) {
		if (fn != 0)
			return -EINVAL;
		for (int s = 1; s < PCI_MAX_SLOTS && slot < 0; s++) {
			bool empty = true;

			for (int f = 0; f < PCI_MAX_FUNCS; f++)
				empty = empty && !bus->devs[s][f];
			if (empty)
				slot = s;
		}
		if (slot < 0)
			return -ENOSPC;
	}
	if (bus->devs[slot][fn])
		return -EBUSY;
	if (fn > 0 && !bus->devs[slot][0])
		return -ENOENT;
	d->slot = slot;
	d->fn = fn;
	d->intx_gsi = d->intx_pin ? PCI_INTX_GSI(slot, d->intx_pin - 1) : -1;
	bus->devs[slot][fn] = d;
	pr_debug("pci: %s at 00:%02x.%d", d->name ? d->name : "?", slot, fn);
	return 0;
}

// Unplug a function (its BARs are the caller's to free).
void pci_unregister(struct pci_bus *bus, struct pci_dev *d)
{
	if (d && d->slot >= 0 && d->slot < PCI_MAX_SLOTS && d->fn >= 0 && d->fn < PCI_MAX_FUNCS &&
	    bus->devs[d->slot][d->fn] == d)
		bus->devs[d->slot][d->fn] = NULL;
}

// Fill in a port or MMIO region served by this bus.
static void pci_region(struct pci_bus *bus, struct bus_region *r, const char *name,
		       enum bus_space space, u64 base, u64 size, bus_access_fn *fn)
{
	*r = (struct bus_region){
		.name = name, .space = space, .base = base, .size = size,
		.access = fn, .opaque = bus,
	};
}

// Build bus 0: windows from the layout, the three regions, the host bridge.
struct pci_bus *pci_bus_create(struct vm *vm)
{
	struct pci_bus *bus = calloc(1, sizeof(*bus));
	int ret;

	if (!bus) {
		pr_err("pci: out of memory creating the PCI bus");
		return NULL;
	}
	bus->vm = vm;
	bus->io = (struct pci_window){ .base = LAYOUT_PIO_PCI_BASE, .end = LAYOUT_PIO_PCI_END };
	bus->mmio32 = (struct pci_window){ .base = LAYOUT_MMIO32_BASE, .end = LAYOUT_MMIO32_END };
	bus->mmio64 = (struct pci_window){
		.base = vm->layout.mmio64_base,
		.end = vm->layout.mmio64_base + vm->layout.mmio64_size,
	};
	pci_region(bus, &bus->addr_region, "pci-config-address", BUS_PIO, PCI_PORT_ADDR, 1,
		   pci_addr_access);
	pci_region(bus, &bus->data_region, "pci-config-data", BUS_PIO, PCI_PORT_DATA, 4,
		   pci_data_access);
	pci_region(bus, &bus->ecam_region, "pci-ecam", BUS_MMIO, LAYOUT_ECAM_BASE,
		   LAYOUT_ECAM_SIZE, pci_ecam_access);
	ret = bus_register(&vm->bus, &bus->addr_region);
	if (!ret) {
		ret = bus_register(&vm->bus, &bus->data_region);
		if (!ret) {
			ret = bus_register(&vm->bus, &bus->ecam_region);
			if (ret)
				bus_unregister(&vm->bus, &bus->data_region);
		}
		if (ret)
			bus_unregister(&vm->bus, &bus->addr_region);
	}
	if (ret) {
		pr_err("pci: cannot claim ports 0xCF8/0xCFC and ECAM at 0x%llx (%s): another device has them",
		       (unsigned long long)LAYOUT_ECAM_BASE, strerror(-ret));
		free(bus);
		return NULL;
	}
	pci_host_init(&bus->host);
	/* cannot fail: 00:00.0 of a new bus is free */
	pci_register(bus, &bus->host.dev, 0, 0);
	return bus;
}

// Release the regions and the bus; devices belong to their owners.
void pci_bus_destroy(struct pci_bus *bus)
{
	if (!bus)
		return;
	bus_unregister(&bus->vm->bus, &bus->ecam_region);
	bus_unregister(&bus->vm->bus, &bus->data_region);
	bus_unregister(&bus->vm->bus, &bus->addr_region);
	free(bus->io.used);
	free(bus->mmio32.used);
	free(bus->mmio64.used);
	free(bus);
}
