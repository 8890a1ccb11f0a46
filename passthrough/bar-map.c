/*
 * BAR splitting between direct mappings and traps (see bar-map.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "passthrough/bar-map.h"

/* qsort comparator for u64. */
static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return (x > y) - (x < y);
}

/* True if [a, b) lies inside one mmap-able area. */
static bool in_area(const struct barmap_range *ok, int nr_ok, u64 a, u64 b)
{
	for (int i = 0; i < nr_ok; i++)
		if (a >= ok[i].off && b <= ok[i].off + ok[i].size)
			return true;
	return false;
}

/* True if [a, b) overlaps a trap (already page-widened). */
static bool in_trap(const struct barmap_range *t, int nr, u64 page, u64 a, u64 b)
{
	for (int i = 0; i < nr; i++) {
		u64 s = ALIGN_DOWN(t[i].off, page), e = ALIGN_UP(t[i].off + t[i].size, page);

		if (t[i].size && a < e && s < b)
			return true;
	}
	return false;
}

/* Cut the BAR at every boundary, classify each piece, merge neighbours. */
int barmap_split(u64 bar_size, const struct barmap_range *mmap_ok, int nr_ok,
		 const struct barmap_range *traps, int nr_traps, u64 page,
		 struct barmap_seg *out, int max)
{
	u64 cut[2 + 4 * (BARMAP_MAX_SEGS + 8)];
	int nc = 0, n = 0;

	if (nr_ok > BARMAP_MAX_SEGS || nr_traps > 8)
		return -ENOSPC;
	cut[nc++] = 0;
	cut[nc++] = bar_size;
	for (int i = 0; i < nr_ok; i++) {
		cut[nc++] = MIN(mmap_ok[i].off, bar_size);
		cut[nc++] = MIN(mmap_ok[i].off + mmap_ok[i].size, bar_size);
	}
	for (int i = 0; i < nr_traps; i++) {
		cut[nc++] = MIN(ALIGN_DOWN(traps[i].off, page), bar_size);
		cut[nc++] = MIN(ALIGN_UP(traps[i].off + traps[i].size, page), bar_size);
	}
	qsort(cut, nc, sizeof(u64), cmp_u64);
	for (int i = 0; i + 1 < nc; i++) {
		u64 a = cut[i], b = cut[i + 1];
		bool m;

		if (a == b)
			continue;
		m = in_area(mmap_ok, nr_ok, a, b) && !in_trap(traps, nr_traps, page, a, b) &&
		    IS_ALIGNED(a, page) && IS_ALIGNED(b, page);
		if (n && out[n - 1].mmap == m && out[n - 1].off + out[n - 1].size == a) {
			out[n - 1].size += b - a;
			continue;
		}
		if (n == max)
			return -ENOSPC;
		out[n].off = a;
		out[n].size = b - a;
		out[n].mmap = m;
		n++;
	}
	return n;
}
