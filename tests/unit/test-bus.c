/* Port I/O and MMIO dispatch. */
#include <errno.h>

#include "tests/unit/harness.h"
#include "vmm/bus.h"

struct fake {
	int calls;
	u64 last_offset;
	u32 last_len;
	bool last_write;
};

static void fake_access(void *opaque, struct bus_access *a)
{
	struct fake *f = opaque;

	f->calls++;
	f->last_offset = a->offset;
	f->last_len = a->len;
	f->last_write = a->is_write;
	if (!a->is_write)
		memset(a->data, 0x5a, a->len);
}

static struct bus_region region(struct fake *f, enum bus_space s, u64 base, u64 size)
{
	struct bus_region r = { .name = "fake", .space = s, .base = base, .size = size,
				.access = fake_access, .opaque = f };
	return r;
}

TEST(overlap_rejected)
{
	struct bus b;
	struct fake f = { 0 };
	struct bus_region a = region(&f, BUS_PIO, 0x3f8, 8), c = region(&f, BUS_PIO, 0x3fc, 8),
			  d = region(&f, BUS_PIO, 0x3f0, 9), e = region(&f, BUS_PIO, 0x400, 1);

	bus_init(&b);
	ASSERT_EQ(bus_register(&b, &a), 0);
	ASSERT_EQ(bus_register(&b, &c), -EEXIST);
	ASSERT_EQ(bus_register(&b, &d), -EEXIST);
	ASSERT_EQ(bus_register(&b, &e), 0);
	bus_destroy(&b);
}

TEST(empty_or_wrapping_rejected)
{
	struct bus b;
	struct fake f = { 0 };
	struct bus_region a = region(&f, BUS_MMIO, 0x1000, 0), c = region(&f, BUS_MMIO, ~0ULL - 4, 16);

	bus_init(&b);
	ASSERT_EQ(bus_register(&b, &a), -EINVAL);
	ASSERT_EQ(bus_register(&b, &c), -EINVAL);
	bus_destroy(&b);
}

TEST(dispatch_by_first_byte_with_offset)
{
	struct bus b;
	struct fake f = { 0 }, g = { 0 };
	struct bus_region a = region(&f, BUS_MMIO, 0x1000, 0x100), c = region(&g, BUS_MMIO, 0x1100, 0x100);
	u8 buf[8];
	struct bus_access acc = { .addr = 0x10fe, .data = buf, .len = 4 };

	bus_init(&b);
	ASSERT_EQ(bus_register(&b, &c), 0);
	ASSERT_EQ(bus_register(&b, &a), 0);
	ASSERT_TRUE(bus_dispatch(&b, BUS_MMIO, &acc));
	ASSERT_EQ(f.calls, 1);
	ASSERT_EQ(g.calls, 0);
	ASSERT_EQ(f.last_offset, 0xfe);
	ASSERT_EQ(buf[0], 0x5a);
	acc.addr = 0x1100;
	ASSERT_TRUE(bus_dispatch(&b, BUS_MMIO, &acc));
	ASSERT_EQ(g.calls, 1);
	ASSERT_EQ(g.last_offset, 0);
	/* the same address in the other space is unclaimed */
	ASSERT_FALSE(bus_dispatch(&b, BUS_PIO, &acc));
	bus_destroy(&b);
}

TEST(unclaimed_reads_all_ones)
{
	struct bus b;
	u8 buf[4] = { 1, 2, 3, 4 };
	struct bus_access acc = { .addr = 0x80, .data = buf, .len = 4 };

	bus_init(&b);
	ASSERT_FALSE(bus_dispatch(&b, BUS_PIO, &acc));
	ASSERT_EQ(buf[0] & buf[1] & buf[2] & buf[3], 0xff);
	acc.is_write = true;
	buf[0] = 7;
	ASSERT_FALSE(bus_dispatch(&b, BUS_PIO, &acc));
	ASSERT_EQ(buf[0], 7);
	bus_destroy(&b);
}

TEST(move_and_unregister)
{
	struct bus b;
	struct fake f = { 0 }, g = { 0 };
	struct bus_region a = region(&f, BUS_MMIO, 0x1000, 0x100), c = region(&g, BUS_MMIO, 0x3000, 0x100);

	bus_init(&b);
	ASSERT_EQ(bus_register(&b, &a), 0);
	ASSERT_EQ(bus_register(&b, &c), 0);
	ASSERT_EQ(bus_move(&b, &a, 0x2000), 0);
	ASSERT_TRUE(bus_find(&b, BUS_MMIO, 0x1000) == NULL);
	ASSERT_TRUE(bus_find(&b, BUS_MMIO, 0x20ff) == &a);
	/* a move onto another region fails and leaves it where it was */
	ASSERT_EQ(bus_move(&b, &a, 0x2f80), -EEXIST);
	ASSERT_EQ(a.base, 0x2000);
	ASSERT_TRUE(bus_find(&b, BUS_MMIO, 0x2000) == &a);
	bus_unregister(&b, &a);
	ASSERT_TRUE(bus_find(&b, BUS_MMIO, 0x2000) == NULL);
	ASSERT_TRUE(bus_find(&b, BUS_MMIO, 0x3000) == &c);
	bus_destroy(&b);
}

TEST(many_regions_sorted)
{
	struct bus b;
	struct fake f = { 0 };
	struct bus_region r[40];

	bus_init(&b);
	for (int i = 0; i < 40; i++) {
		/* insert in a scrambled order */
		int k = (i * 17) % 40;

		r[k] = region(&f, BUS_PIO, 0x100 + k * 4, 4);
		ASSERT_EQ(bus_register(&b, &r[k]), 0);
	}
	for (int i = 0; i < 40; i++) {
		ASSERT_TRUE(bus_find(&b, BUS_PIO, 0x100 + i * 4 + 3) == &r[i]);
	}
	ASSERT_TRUE(bus_find(&b, BUS_PIO, 0xff) == NULL);
	ASSERT_TRUE(bus_find(&b, BUS_PIO, 0x100 + 160) == NULL);
	bus_destroy(&b);
}

TEST(register_all_or_none)
{
	struct bus b;
	struct fake f = { 0 };
	struct bus_region a = region(&f, BUS_PIO, 0x60, 1), c = region(&f, BUS_PIO, 0x64, 1),
			  taken = region(&f, BUS_PIO, 0x64, 1);

	bus_init(&b);
	ASSERT_EQ(bus_register(&b, &taken), 0);
	ASSERT_EQ(bus_register_all(&b, (struct bus_region *[]){ &a, &c }, 2), -EEXIST);
	ASSERT_TRUE(bus_find(&b, BUS_PIO, 0x60) == NULL); /* the first one was taken back */
	bus_unregister(&b, &taken);
	ASSERT_EQ(bus_register_all(&b, (struct bus_region *[]){ &a, &c }, 2), 0);
	ASSERT_TRUE(bus_find(&b, BUS_PIO, 0x60) == &a);
	ASSERT_TRUE(bus_find(&b, BUS_PIO, 0x64) == &c);
	bus_unregister_all(&b, (struct bus_region *[]){ &a, &c }, 2);
	ASSERT_TRUE(bus_find(&b, BUS_PIO, 0x60) == NULL);
	ASSERT_TRUE(bus_find(&b, BUS_PIO, 0x64) == NULL);
	bus_destroy(&b);
}

int main(void)
{
	RUN(overlap_rejected);
	RUN(empty_or_wrapping_rejected);
	RUN(dispatch_by_first_byte_with_offset);
	RUN(unclaimed_reads_all_ones);
	RUN(move_and_unregister);
	RUN(many_regions_sorted);
	RUN(register_all_or_none);
	return test_done();
}
