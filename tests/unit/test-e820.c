/* The guest e820 map built from the layout. */
#include <errno.h>

#include "firmware/e820.h"
#include "tests/unit/harness.h"

/* The map is sorted, disjoint and has no empty entries. */
static int map_is_sane(const struct e820_entry *e, int n)
{
	for (int i = 0; i < n; i++) {
		if (!e[i].size)
			return 0;
		if (i && e[i - 1].addr + e[i - 1].size > e[i].addr)
			return 0;
	}
	return 1;
}

/* Total bytes of type in the map. */
static u64 map_total(const struct e820_entry *e, int n, u32 type)
{
	u64 t = 0;

	for (int i = 0; i < n; i++)
		if (e[i].type == type)
			t += e[i].size;
	return t;
}

TEST(small_guest)
{
	struct layout l;
	struct e820_entry e[16];
	int n;

	ASSERT_EQ(layout_compute(&l, 512 * MiB, 40, 0), 0);
	n = e820_build(&l, e, 16);
	ASSERT_EQ(n, 5);
	ASSERT_TRUE(map_is_sane(e, n));
	ASSERT_EQ(e[0].addr, 0);
	ASSERT_EQ(e[0].size, LAYOUT_EBDA_BASE);
	ASSERT_EQ(e[0].type, E820_RAM);
	ASSERT_EQ(e[1].addr, LAYOUT_EBDA_BASE);
	ASSERT_EQ(e[1].addr + e[1].size, 0xA0000);
	ASSERT_EQ(e[1].type, E820_RESERVED);
	ASSERT_EQ(e[2].addr, LAYOUT_ACPI_BASE);
	ASSERT_EQ(e[2].addr + e[2].size, 1 * MiB);
	ASSERT_EQ(e[2].type, E820_RESERVED);
	ASSERT_EQ(e[3].addr, 1 * MiB);
	ASSERT_EQ(e[3].addr + e[3].size, 512 * MiB);
	ASSERT_EQ(e[3].type, E820_RAM);
	ASSERT_EQ(e[4].addr, LAYOUT_ECAM_BASE);
	ASSERT_EQ(e[4].size, LAYOUT_ECAM_SIZE);
	ASSERT_EQ(e[4].type, E820_RESERVED);
}

TEST(large_guest_has_high_ram)
{
	struct layout l;
	struct e820_entry e[16];
	int n;

	ASSERT_EQ(layout_compute(&l, 6 * GiB, 40, 0), 0);
	n = e820_build(&l, e, 16);
	ASSERT_EQ(n, 6);
	ASSERT_TRUE(map_is_sane(e, n));
	ASSERT_EQ(e[3].addr + e[3].size, l.low_ram_size);
	ASSERT_EQ(e[5].addr, 4 * GiB);
	ASSERT_EQ(e[5].size, 4 * GiB);
	ASSERT_EQ(e[5].type, E820_RAM);
	/* all RAM is reported except the EBDA and the 640K..1M hole */
	ASSERT_EQ(map_total(e, n, E820_RAM), 6 * GiB - (1 * MiB - LAYOUT_EBDA_BASE));
}

TEST(low_ram_exactly_at_ecam)
{
	struct layout l;
	struct e820_entry e[16];
	int n;

	ASSERT_EQ(layout_compute(&l, LAYOUT_ECAM_BASE, 40, 0), 0);
	n = e820_build(&l, e, 16);
	ASSERT_EQ(n, 5);
	ASSERT_TRUE(map_is_sane(e, n));
	ASSERT_EQ(e[3].addr + e[3].size, e[4].addr);
}

TEST(tiny_low_ram_is_clipped)
{
	struct layout l = { .ram_size = 1 * MiB, .low_ram_size = 1 * MiB };
	struct e820_entry e[16];
	int n;

	/* no RAM above 1 MiB: that entry is left out, not made empty */
	n = e820_build(&l, e, 16);
	ASSERT_EQ(n, 4);
	ASSERT_TRUE(map_is_sane(e, n));
	ASSERT_EQ(map_total(e, n, E820_RAM), LAYOUT_EBDA_BASE);

	l.ram_size = l.low_ram_size = 256 * KiB;
	n = e820_build(&l, e, 16);
	ASSERT_EQ(n, 4);
	ASSERT_TRUE(map_is_sane(e, n));
	ASSERT_EQ(e[0].size, 256 * KiB);
	ASSERT_EQ(map_total(e, n, E820_RAM), 256 * KiB);
}

TEST(too_small_array)
{
	struct layout l;
	struct e820_entry e[5];

	ASSERT_EQ(layout_compute(&l, 6 * GiB, 40, 0), 0);
	ASSERT_EQ(e820_build(&l, e, 5), -ENOSPC);
	ASSERT_EQ(e820_build(&l, e, 0), -ENOSPC);
}

TEST(low_ram_into_ecam_rejected)
{
	struct layout l = { .low_ram_size = LAYOUT_ECAM_BASE + MiB };
	struct e820_entry e[16];

	ASSERT_EQ(e820_build(&l, e, 16), -EINVAL);
}

int main(void)
{
	RUN(small_guest);
	RUN(large_guest_has_high_ram);
	RUN(low_ram_exactly_at_ecam);
	RUN(tiny_low_ram_is_clipped);
	RUN(too_small_array);
	RUN(low_ram_into_ecam_rejected);
	return test_done();
}
