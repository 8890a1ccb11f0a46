/*
 * The guest-physical memory map. Regions are kept sorted by address; every
 * change is told to each listener (KVM memory slots, the IOMMU), and a
 * listener that fails makes the change unwind, so the map and all listeners
 * always agree.
 */
#include <errno.h>
#include <string.h>

#include "vmm/memory.h"

// Start with no regions and no listeners.
void mem_init(struct mem_map *m)
{
	memset(m, 0, sizeof(*m));
}

// Does listener l want to hear about region r?
static bool wants(struct mem_listener *l, const struct mem_region *r)
{
	return !l->wants || l->wants(l, r);
}

// Tell listeners from first up to (not including) stop that r is gone.
static void del_from(struct mem_map *m, struct mem_region *r, struct mem_listener *stop)
{
	for (struct mem_listener *l = m->listeners; l && l != stop; l = l->next)
		if (wants(l, r) && l->region_del)
			l->region_del(l, r);
}

// Add a region and tell every listener.
int mem_add(struct mem_map *m, const struct mem_region *r)
{
	struct mem_region *n;
	int i, ret;

	if (r->size == 0 || r->gpa + r->size < r->gpa || !r->hva)
		return -EINVAL;
	if (m->nr == MEM_MAX_REGIONS)
		return -ENOSPC;
	for (i = 0; i < m->nr; i++) {
		struct mem_region *o = &m->regions[i];

		if (r->gpa < o->gpa + o->size && o->gpa < r->gpa + r->size)
			return -EEXIST;
		if (o->gpa > r->gpa)
			break;
	}
	memmove(&m->regions[i + 1], &m->regions[i], (m->nr - i) * sizeof(*n));
	n = &m->regions[i];
	*n = *r;
	n->slot = -1;
	m->nr++;
	for (struct mem_listener *l = m->listeners; l; l = l->next) {
		if (!wants(l, n))
			continue;
		ret = l->region_add(l, n);
		if (ret) {
			del_from(m, n, l);
			m->nr--;
			memmove(n, n + 1, (m->nr - i) * sizeof(*n));
			return ret;
		}
	}
	return 0;
}

// Remove the region starting at gpa.
int mem_del(struct mem_map *m, u64 gpa)
{
	for (int i = 0; i < m->nr; i++) {
		if (m->regions[i].gpa != gpa)
			continue;
		del_from(m, &m->regions[i], NULL);
		m->nr--;
		memmove(&m->regions[i], &m->regions[i + 1], (m->nr - i) * sizeof(m->regions[0]));
		return 0;
	}
	return -ENOENT;
}

// Register l at the end of the list and replay the existing regions to it.
int mem_listener_register(struct mem_map *m, struct mem_listener *l)
{
	struct mem_listener **p = &m->listeners;
	int i, ret;

	for (i = 0; i < m->nr; i++) {
		if (!wants(l, &m->regions[i]))
			continue;
		ret = l->region_add(l, &m->regions[i]);
		if (ret) {
			while (--i >= 0)
				if (wants(l, &m->regions[i]) && l->region_del)
					l->region_del(l, &m->regions[i]);
			return ret;
		}
	}
	while (*p)
		p = &(*p)->next;
	l->next = NULL;
	*p = l;
	return 0;
}

// Tell l every region is gone, then forget it.
void mem_listener_unregister(struct mem_map *m, struct mem_listener *l)
{
	for (struct mem_listener **p = &m->listeners; *p; p = &(*p)->next) {
		if (*p != l)
			continue;
		*p = l->next;
		for (int i = m->nr - 1; i >= 0; i--)
			if (wants(l, &m->regions[i]) && l->region_del)
				l->region_del(l, &m->regions[i]);
		return;
	}
}

// The region containing gpa, or NULL.
struct mem_region *mem_find(struct mem_map *m, u64 gpa)
{
	for (int i = 0; i < m->nr; i++) {
		struct mem_region *r = &m->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

// Host address of guest RAM [gpa, gpa+len), or NULL unless wholly inside one RAM region.
void *mem_gpa_to_hva(struct mem_map *m, u64 gpa, u64 len)
{
	struct mem_region *r = mem_find(m, gpa);

	if (!r || r->kind != MEM_RAM)
		return NULL;
	/* written so that no sum can overflow */
	if (len > r->size || gpa - r->gpa > r->size - len)
		return NULL;
	return (u8 *)r->hva + (gpa - r->gpa);
}

// Copy len bytes into guest RAM at gpa.
int mem_write(struct mem_map *m, u64 gpa, const void *src, u64 len)
{
	void *p = len ? mem_gpa_to_hva(m, gpa, len) : NULL;

	if (!len)
		return 0;
	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

// Copy len bytes out of guest RAM at gpa.
int mem_read(struct mem_map *m, u64 gpa, void *dst, u64 len)
{
	void *p = len ? mem_gpa_to_hva(m, gpa, len) : NULL;

	if (!len)
		return 0;
	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}
