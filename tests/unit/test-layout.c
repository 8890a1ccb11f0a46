/* The guest-physical address map. */
#include <errno.h>

#include "tests/unit/harness.h"
#include "vmm/layout.h"

TEST(small_guest_all_low)
{
	struct layout l;

	ASSERT_EQ(layout_compute(&l, 512 * MiB, 40, 0), 0);
	ASSERT_EQ(l.low_ram_size, 512 * MiB);
	ASSERT_EQ(l.high_ram_size, 0);
	ASSERT_EQ(l.mmio64_base, 4 * GiB);
	ASSERT_EQ(l.mmio64_size, LAYOUT_MMIO64_MIN_SIZE);
}

TEST(up_to_2g75_stays_low)
{
	struct layout l;

	ASSERT_EQ(layout_compute(&l, 0xB0000000ULL, 40, 0), 0);
	ASSERT_EQ(l.low_ram_size, 0xB0000000ULL);
	ASSERT_EQ(l.high_ram_size, 0);
}

TEST(large_guest_split_at_2g)
{
	struct layout l;

	ASSERT_EQ(layout_compute(&l, 4 * GiB, 40, 0), 0);
	ASSERT_EQ(l.low_ram_size, 2 * GiB);
	ASSERT_EQ(l.high_ram_size, 2 * GiB);
	ASSERT_EQ(l.mmio64_base, 6 * GiB);
	ASSERT_TRUE(l.mmio64_base >= LAYOUT_HIGH_RAM_BASE + l.high_ram_size);
}

TEST(window_grows_for_big_bars_and_is_aligned)
{
	struct layout l;

	ASSERT_EQ(layout_compute(&l, 4 * GiB, 46, 40 * GiB), 0);
	ASSERT_EQ(l.mmio64_size, 64 * GiB);
	ASSERT_EQ(l.mmio64_base % (64 * GiB), 0);
}

TEST(too_few_phys_bits)
{
	struct layout l;

	ASSERT_EQ(layout_compute(&l, 4 * GiB, 36, 128 * GiB), -EINVAL);
	ASSERT_EQ(layout_compute(&l, 4 * GiB, 20, 0), -EINVAL);
}

TEST(window_clipped_to_phys_bits)
{
	struct layout l;

	ASSERT_EQ(layout_compute(&l, 1 * GiB, 35, 0), 0);
	ASSERT_EQ(l.mmio64_base + l.mmio64_size, 1ULL << 35);
}

int main(void)
{
	RUN(small_guest_all_low);
	RUN(up_to_2g75_stays_low);
	RUN(large_guest_split_at_2g);
	RUN(window_grows_for_big_bars_and_is_aligned);
	RUN(too_few_phys_bits);
	RUN(window_clipped_to_phys_bits);
	return test_done();
}
