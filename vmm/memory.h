/*
 * The guest-physical memory map: RAM, ROM and directly mapped device memory
 * (VFIO BARs). KVM memory slots and the IOMMU both follow it as listeners, so
 * neither keeps a list of its own.
 */
#ifndef PTVM_MEMORY_H
#define PTVM_MEMORY_H

#include "vmm/common.h"

enum mem_kind { MEM_RAM, MEM_ROM, MEM_DEVICE };

#define MEM_F_READONLY 1u

#define MEM_MAX_REGIONS 64

struct mem_region {
	const char *name;
	u64 gpa, size;
	void *hva;
	enum mem_kind kind;
	u32 flags;
	int slot; /* KVM slot, set by the KVM listener; -1 if none */
};

struct mem_listener {
	const char *name;
	/* NULL means every region */
	bool (*wants)(struct mem_listener *l, const struct mem_region *r);
	int (*region_add)(struct mem_listener *l, struct mem_region *r);
	void (*region_del)(struct mem_listener *l, struct mem_region *r);
	void *opaque;
	struct mem_listener *next; /* private */
};

struct mem_map {
	struct mem_region regions[MEM_MAX_REGIONS]; /* sorted by gpa */
	int nr;
	struct mem_listener *listeners;
};

void mem_init(struct mem_map *m);
/* Add a region and tell every listener; unwinds and returns -errno if one fails.
 * -EEXIST if it overlaps a region, -ENOSPC if the map is full. */
int mem_add(struct mem_map *m, const struct mem_region *r);
/* Remove the region starting at gpa (listeners told first); -ENOENT if none. */
int mem_del(struct mem_map *m, u64 gpa);
/* Register a listener and replay the existing regions to it; unwinds on error. */
int mem_listener_register(struct mem_map *m, struct mem_listener *l);
/* region_del for each region, then forget the listener. */
void mem_listener_unregister(struct mem_map *m, struct mem_listener *l);

/* The region containing gpa, or NULL. */
struct mem_region *mem_find(struct mem_map *m, u64 gpa);
/* Host pointer for [gpa, gpa+len) if it lies wholly inside one RAM region
 * (kind MEM_RAM), else NULL. Use for every guest-supplied address. */
void *mem_gpa_to_hva(struct mem_map *m, u64 gpa, u64 len);
/* Copy to/from guest RAM with the same check; 0 or -EFAULT. */
int mem_write(struct mem_map *m, u64 gpa, const void *src, u64 len);
int mem_read(struct mem_map *m, u64 gpa, void *dst, u64 len);

#endif
