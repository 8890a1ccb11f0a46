/*
 * Port I/O and MMIO dispatch. A device embeds a struct bus_region, fills in
 * name, space, base, size, access and opaque, and registers it; the bus never
 * allocates regions. Lookups use the access's first byte only (an access that
 * runs past the end of a region is still given to it: check a->offset + a->len).
 *
 * Locking: the vCPU loop calls bus_dispatch() with vm->lock held, so access
 * callbacks run under the VM's device lock. bus_register/unregister/move are
 * called at setup (one thread) or from inside an access callback (lock held).
 */
#ifndef PTVM_BUS_H
#define PTVM_BUS_H

#include "vmm/common.h"

enum bus_space { BUS_PIO, BUS_MMIO, BUS_NR_SPACES };

struct bus_access {
	u64 addr;      /* absolute guest address */
	u64 offset;    /* addr - region->base */
	u8 *data;      /* len bytes, little-endian; fill on reads */
	u32 len;       /* 1, 2, 4 or 8 */
	bool is_write;
	int vcpu;      /* vCPU index, -1 if not from a vCPU */
};

typedef void bus_access_fn(void *opaque, struct bus_access *a);

struct bus_region {
	const char *name; /* used in log lines */
	enum bus_space space;
	u64 base, size;
	bus_access_fn *access;
	void *opaque;
	u64 accesses; /* counted by bus_dispatch (for --stats) */
};

struct bus_map {
	struct bus_region **regions; /* sorted by base, no overlaps */
	size_t nr, cap;
};

struct bus {
	struct bus_map maps[BUS_NR_SPACES];
	bool trace_unhandled; /* log every unclaimed access (--trace-unhandled) */
	u64 unclaimed[BUS_NR_SPACES]; /* accesses no region took */
};

void bus_init(struct bus *b);
void bus_destroy(struct bus *b);
/* 0, -EEXIST if it overlaps a registered region, -EINVAL if empty or wrapping */
int bus_register(struct bus *b, struct bus_region *r);
void bus_unregister(struct bus *b, struct bus_region *r);
/* Register n regions, all or none: on an error those already in are taken out. */
int bus_register_all(struct bus *b, struct bus_region *const *rs, int n);
void bus_unregister_all(struct bus *b, struct bus_region *const *rs, int n);
/* Move a registered region to new_base (BAR reprogramming); on -EEXIST it stays put. */
int bus_move(struct bus *b, struct bus_region *r, u64 new_base);
struct bus_region *bus_find(struct bus *b, enum bus_space s, u64 addr);
/* Print every region that was accessed, with its count (--stats). */
void bus_print_stats(struct bus *b);
/* Returns false if unclaimed: reads are filled with 0xff, writes dropped. */
bool bus_dispatch(struct bus *b, enum bus_space s, struct bus_access *a);

#endif
