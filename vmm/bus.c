/*
 * Port I/O and MMIO dispatch: per address space, a sorted array of
 * non-overlapping regions searched by binary search on the access's first
 * byte. Devices own their struct bus_region; the bus only keeps pointers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/bus.h"
#include "vmm/log.h"

static const char *const space_names[BUS_NR_SPACES] = { "port", "mmio" };

// Prepare both address spaces, empty.
void bus_init(struct bus *b)
{
	memset(b, 0, sizeof(*b));
}

// Free the arrays (regions belong to their devices).
void bus_destroy(struct bus *b)
{
	for (int s = 0; s < BUS_NR_SPACES; s++)
		free(b->maps[s].regions);
	memset(b, 0, sizeof(*b));
}

// Index of the first region whose end is above addr (the insertion point).
static size_t lower_bound(const struct bus_map *m, u64 addr)
{
	size_t lo = 0, hi = m->nr;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct bus_region *r = m->regions[mid];

		if (r->base + r->size <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

// Insert r into m at its sorted place, unless it overlaps a neighbour.
static int map_insert(struct bus_map *m, struct bus_region *r)
{
	size_t i;

	if (r->size == 0 || r->base + r->size < r->base)
		return -EINVAL;
	i = lower_bound(m, r->base);
	if (i < m->nr && m->regions[i]->base < r->base + r->size)
		return -EEXIST;
	if (m->nr == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct bus_region **n = realloc(m->regions, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		m->regions = n;
		m->cap = cap;
	}
	memmove(&m->regions[i + 1], &m->regions[i], (m->nr - i) * sizeof(*m->regions));
	m->regions[i] = r;
	m->nr++;
	return 0;
}

// Remove r from m if present.
static void map_remove(struct bus_map *m, struct bus_region *r)
{
	for (size_t i = 0; i < m->nr; i++) {
		if (m->regions[i] == r) {
			memmove(&m->regions[i], &m->regions[i + 1],
				(m->nr - i - 1) * sizeof(*m->regions));
			m->nr--;
			return;
		}
	}
}

// Claim [r->base, r->base + r->size) in r->space for r.
int bus_register(struct bus *b, struct bus_region *r)
{
	int ret;

	if (r->space >= BUS_NR_SPACES || !r->access)
		return -EINVAL;
	ret = map_insert(&b->maps[r->space], r);
	if (ret == -EEXIST)
		pr_err("%s: %s range 0x%llx+0x%llx overlaps %s", r->name, space_names[r->space],
		       (unsigned long long)r->base, (unsigned long long)r->size,
		       bus_find(b, r->space, r->base) ? bus_find(b, r->space, r->base)->name :
							"another region");
	return ret;
}

// Release r's range.
void bus_unregister(struct bus *b, struct bus_region *r)
{
	if (r->space < BUS_NR_SPACES)
		map_remove(&b->maps[r->space], r);
}

// Register every region of rs, or none of them.
int bus_register_all(struct bus *b, struct bus_region *const *rs, int n)
{
	for (int i = 0; i < n; i++) {
		int ret = bus_register(b, rs[i]);

		if (ret) {
			bus_unregister_all(b, rs, i);
			return ret;
		}
	}
	return 0;
}

// Unregister the first n regions of rs, last first.
void bus_unregister_all(struct bus *b, struct bus_region *const *rs, int n)
{
	while (n-- > 0)
		bus_unregister(b, rs[n]);
}

// Move r to new_base, keeping it where it was if the new place is taken.
int bus_move(struct bus *b, struct bus_region *r, u64 new_base)
{
	u64 old = r->base;
	int ret;

	map_remove(&b->maps[r->space], r);
	r->base = new_base;
	ret = map_insert(&b->maps[r->space], r);
	if (ret) {
		r->base = old;
		map_insert(&b->maps[r->space], r);
	}
	return ret;
}

// The region holding addr, or NULL.
struct bus_region *bus_find(struct bus *b, enum bus_space s, u64 addr)
{
	struct bus_map *m = &b->maps[s];
	size_t i = lower_bound(m, addr);

	if (i < m->nr && m->regions[i]->base <= addr)
		return m->regions[i];
	return NULL;
}

// Hand an access to the region holding its first byte.
bool bus_dispatch(struct bus *b, enum bus_space s, struct bus_access *a)
{
	struct bus_region *r = bus_find(b, s, a->addr);

	if (r) {
		r->accesses++;
		a->offset = a->addr - r->base;
		r->access(r->opaque, a);
		return true;
	}
	b->unclaimed[s]++;
	if (!a->is_write)
		memset(a->data, 0xff, a->len);
	if (b->trace_unhandled) {
		u64 v = 0;

		memcpy(&v, a->data, MIN(a->len, sizeof(v)));
		pr_warn("unhandled %s %s 0x%llx len %u%s0x%llx", space_names[s],
			a->is_write ? "write" : "read", (unsigned long long)a->addr, a->len,
			a->is_write ? " value " : " -> ", (unsigned long long)v);
	}
	return false;
}

// Print every region that was accessed, with its count.
void bus_print_stats(struct bus *b)
{
	for (int s = 0; s < BUS_NR_SPACES; s++) {
		struct bus_map *m = &b->maps[s];

		for (size_t i = 0; i < m->nr; i++) {
			struct bus_region *r = m->regions[i];

			if (r->accesses)
				pr_err("stats: %s %s 0x%llx+0x%llx: %llu accesses", space_names[s], r->name,
				       (unsigned long long)r->base, (unsigned long long)r->size,
				       (unsigned long long)r->accesses);
		}
		if (b->unclaimed[s])
			pr_err("stats: %s unclaimed: %llu accesses", space_names[s],
			       (unsigned long long)b->unclaimed[s]);
	}
}
