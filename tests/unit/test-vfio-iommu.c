/*
 * Pure passthrough helpers: IOVA range checks, the memlock verdict,
 * reserved_regions parsing, BAR splitting around the MSI-X table and PBA
 * (QEMU's nvme layout: table at BAR0+0x2000, PBA at +0x3000), and option
 * ROM validation.
 */
#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

#include "passthrough/bar-map.h"
#include "passthrough/iommu.h"
#include "passthrough/rom.h"
#include "tests/unit/harness.h"

TEST(iova_ranges)
{
	struct iova_range valid[2] = { { 0, 0xfedfffff, "" }, { 0xfef00000, (1ULL << 39) - 1, "" } };
	struct iova_range resv[1] = { { 0xfd00000000ULL, 0xffffffffffULL, "reserved" } };
	char err[512] = "";

	ASSERT_EQ(iommu_check_range(valid, 2, resv, 1, 0, 2 * GiB, err, sizeof(err)), 0);
	ASSERT_EQ(iommu_check_range(valid, 2, resv, 1, 4 * GiB, 8 * GiB, err, sizeof(err)), 0);
	/* crossing the MSI hole between the two valid ranges */
	ASSERT_EQ(iommu_check_range(valid, 2, resv, 1, 0xfe000000, 32 * MiB, err, sizeof(err)),
		  -EINVAL);
	ASSERT_STR_CONTAINS(err, "outside the IOMMU's usable");
	/* beyond 39 bits */
	ASSERT_EQ(iommu_check_range(valid, 2, NULL, 0, 1ULL << 39, GiB, err, sizeof(err)), -EINVAL);
	/* no valid list: only reserved ranges count; the AMD HT hole refuses RAM */
	ASSERT_EQ(iommu_check_range(NULL, 0, resv, 1, 4 * GiB, 1020 * GiB, err, sizeof(err)),
		  -EINVAL);
	ASSERT_STR_CONTAINS(err, "reserved region 0xfd00000000-0xffffffffff");
	ASSERT_EQ(iommu_check_range(NULL, 0, resv, 1, 4 * GiB, 1000 * GiB, err, sizeof(err)), 0);
}

TEST(memlock)
{
	char err[512] = "";

	ASSERT_EQ(iommu_memlock_verdict(GiB, 2 * GiB, 2 * GiB, false, err, sizeof(err)), 0);
	ASSERT_EQ(iommu_memlock_verdict(GiB, RLIM_INFINITY, RLIM_INFINITY, false, err, sizeof(err)), 0);
	ASSERT_EQ(iommu_memlock_verdict(GiB, 8 * MiB, 8 * MiB, true, err, sizeof(err)), 0);
	ASSERT_EQ(iommu_memlock_verdict(GiB, 8 * MiB, RLIM_INFINITY, false, err, sizeof(err)), 1);
	ASSERT_EQ(iommu_memlock_verdict(GiB, 8 * MiB, 2 * GiB, false, err, sizeof(err)), 1);
	ASSERT_EQ(iommu_memlock_verdict(GiB, 8 * MiB, 8 * MiB, false, err, sizeof(err)), -ENOMEM);
	ASSERT_STR_CONTAINS(err, "1024 MiB of locked memory needed");
	ASSERT_STR_CONTAINS(err, "allows 8 MiB");
	ASSERT_STR_CONTAINS(err, "ulimit -l 1048576");
	ASSERT_STR_CONTAINS(err, "limits.conf");
	ASSERT_STR_CONTAINS(err, "LimitMEMLOCK=");
}

TEST(reserved_parse)
{
	struct iova_range r[4];

	ASSERT_EQ(iommu_parse_reserved("", r, 4), 0);
	ASSERT_EQ(iommu_parse_reserved("0x00000000fee00000 0x00000000feefffff msi\n", r, 4), 1);
	ASSERT_EQ(r[0].start, 0xfee00000);
	ASSERT_STR_EQ(r[0].what, "msi");
	ASSERT_EQ(iommu_parse_reserved("0x1000 0x1fff direct\n0x2000 0x2fff direct-relaxable\n"
				       "0x3000 0x3fff reserved\n", r, 4), 2);
	ASSERT_EQ(r[1].start, 0x3000);
	ASSERT_EQ(iommu_parse_reserved("0x2000 0x1000 msi\n", r, 4), -EINVAL);
	ASSERT_EQ(iommu_parse_reserved("junk\n", r, 4), -EINVAL);
	ASSERT_EQ(iommu_parse_reserved("0x1 0x2 a\n0x3 0x4 b\n", r, 1), -ENOSPC);
}

TEST(barmap_nvme)
{
	/* 16 KiB BAR0, all mmap-able, MSI-X table (65 x 16 bytes) at 0x2000, PBA at 0x3000 */
	struct barmap_range ok[1] = { { 0, 0x4000 } };
	struct barmap_range traps[2] = { { 0x2000, 65 * 16 }, { 0x3000, 16 } };
	struct barmap_seg s[BARMAP_MAX_SEGS];
	int n = barmap_split(0x4000, ok, 1, traps, 2, 4096, s, BARMAP_MAX_SEGS);

	ASSERT_EQ(n, 2);
	ASSERT_EQ(s[0].off, 0);
	ASSERT_EQ(s[0].size, 0x2000);
	ASSERT_TRUE(s[0].mmap);     /* registers and doorbells: no exits */
	ASSERT_EQ(s[1].off, 0x2000);
	ASSERT_EQ(s[1].size, 0x2000);
	ASSERT_FALSE(s[1].mmap);    /* table and PBA pages trapped */
}

TEST(barmap_other_layouts)
{
	struct barmap_seg s[BARMAP_MAX_SEGS];
	struct barmap_range whole[1] = { { 0, 0x20000 } };
	struct barmap_range mid[1] = { { 0x10800, 0x40 } };
	struct barmap_range sparse[2] = { { 0, 0x8000 }, { 0xc000, 0x4000 } };
	struct barmap_range tbl[1] = { { 0, 0x50 } };
	int n;

	/* no traps: one mapping */
	n = barmap_split(0x20000, whole, 1, NULL, 0, 4096, s, BARMAP_MAX_SEGS);
	ASSERT_EQ(n, 1);
	ASSERT_TRUE(s[0].mmap);
	/* a table in the middle of a page: the whole page traps, both sides map */
	n = barmap_split(0x20000, whole, 1, mid, 1, 4096, s, BARMAP_MAX_SEGS);
	ASSERT_EQ(n, 3);
	ASSERT_EQ(s[1].off, 0x10000);
	ASSERT_EQ(s[1].size, 0x1000);
	ASSERT_FALSE(s[1].mmap);
	ASSERT_EQ(s[2].off, 0x11000);
	ASSERT_TRUE(s[2].mmap);
	/* a sparse list (the kernel keeps the table out of it): gap trapped */
	n = barmap_split(0x10000, sparse, 2, NULL, 0, 4096, s, BARMAP_MAX_SEGS);
	ASSERT_EQ(n, 3);
	ASSERT_TRUE(s[0].mmap);
	ASSERT_EQ(s[1].off, 0x8000);
	ASSERT_EQ(s[1].size, 0x4000);
	ASSERT_FALSE(s[1].mmap);
	ASSERT_TRUE(s[2].mmap);
	/* not mmap-able at all (e1000e's small BAR3 when mmap is refused) */
	n = barmap_split(0x4000, NULL, 0, tbl, 1, 4096, s, BARMAP_MAX_SEGS);
	ASSERT_EQ(n, 1);
	ASSERT_FALSE(s[0].mmap);
	ASSERT_EQ(s[0].size, 0x4000);
	/* smaller than a page: trapped */
	n = barmap_split(0x100, whole, 1, NULL, 0, 4096, s, BARMAP_MAX_SEGS);
	ASSERT_EQ(n, 1);
	ASSERT_FALSE(s[0].mmap);
	/* too little room for the output */
	ASSERT_EQ(barmap_split(0x20000, whole, 1, mid, 1, 4096, s, 2), -ENOSPC);
}

/* A minimal option ROM: 0x55AA, PCIR at 0x20 naming vendor:device. */
static void make_rom(u8 *img, size_t len, u16 vendor, u16 device)
{
	memset(img, 0, len);
	img[0] = 0x55;
	img[1] = 0xaa;
	img[2] = len / 512;
	img[0x18] = 0x20;
	memcpy(img + 0x20, "PCIR", 4);
	img[0x24] = vendor;
	img[0x25] = vendor >> 8;
	img[0x26] = device;
	img[0x27] = device >> 8;
}

TEST(rom_validate_and_read)
{
	u8 img[3000];
	char msg[200];
	struct vrom r = { 0 };

	make_rom(img, sizeof(img), 0x8086, 0x10d3);
	ASSERT_EQ(vrom_validate(img, sizeof(img), 0x8086, 0x10d3, msg, sizeof(msg)), 0);
	ASSERT_EQ(vrom_validate(img, sizeof(img), 0x8086, 0x100e, msg, sizeof(msg)), 1);
	ASSERT_STR_CONTAINS(msg, "8086:10d3");
	ASSERT_STR_CONTAINS(msg, "8086:100e");
	img[0x20] = 'X';
	ASSERT_EQ(vrom_validate(img, sizeof(img), 0x8086, 0x10d3, msg, sizeof(msg)), 1);
	ASSERT_STR_CONTAINS(msg, "PCIR");
	img[0] = 0;
	ASSERT_EQ(vrom_validate(img, sizeof(img), 0x8086, 0x10d3, msg, sizeof(msg)), -EINVAL);
	ASSERT_STR_CONTAINS(msg, "0x55AA");
	ASSERT_EQ(vrom_validate(img, 4, 0x8086, 0x10d3, msg, sizeof(msg)), -EINVAL);

	make_rom(img, sizeof(img), 0x8086, 0x10d3);
	ASSERT_EQ(vrom_set(&r, img, sizeof(img)), 0);
	ASSERT_EQ(r.size, 4096); /* rounded up to a power of two */
	ASSERT_EQ(vrom_read(&r, 0, 2), 0xaa55);
	ASSERT_EQ(vrom_read(&r, 0x20, 4), 0x52494350);
	ASSERT_EQ(vrom_read(&r, 2998, 4), 0xffff0000); /* past the image: 0xff */
	ASSERT_EQ(vrom_set(&r, img, 0), -EINVAL);
	vrom_free(&r);
	ASSERT_EQ(r.data, NULL);
}

TEST(romfile_errors)
{
	struct vrom r = { 0 };
	char err[300];
	char path[] = "/tmp/ptvm-test-rom.XXXXXX";
	int fd;

	ASSERT_EQ(vrom_load_file(&r, "/nonexistent/vbios.rom", err, sizeof(err)), -ENOENT);
	ASSERT_STR_CONTAINS(err, "/nonexistent/vbios.rom");
	ASSERT_STR_CONTAINS(err, "romfile=");
	fd = mkstemp(path);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(vrom_load_file(&r, path, err, sizeof(err)), -EINVAL); /* empty */
	ASSERT_EQ(write(fd, "\x55\xaa", 2), 2);
	close(fd);
	ASSERT_EQ(vrom_load_file(&r, path, err, sizeof(err)), 0);
	ASSERT_EQ(r.len, 2);
	ASSERT_EQ(r.size, 2048);
	unlink(path);
	vrom_free(&r);
}

int main(void)
{
	RUN(iova_ranges);
	RUN(memlock);
	RUN(reserved_parse);
	RUN(barmap_nvme);
	RUN(barmap_other_layouts);
	RUN(rom_validate_and_read);
	RUN(romfile_errors);
	return test_done();
}
