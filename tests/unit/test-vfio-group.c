/*
 * Pre-open passthrough checks against a fake sysfs tree in a temp dir: no
 * such device, IOMMU off, wrong driver, non-viable group (each blocker and
 * its driver named), viable groups with bridges and unbound members, the
 * group's reserved regions and the VFIO cdev name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "passthrough/vfio-group.h"
#include "tests/unit/harness.h"

static char root[256];

/* mkdir -p under the root. */
static void mkdirs(const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (char *c = p + strlen(root) + 1; *c; c++) {
		if (*c == '/') {
			*c = 0;
			mkdir(p, 0755);
			*c = '/';
		}
	}
	mkdir(p, 0755);
}

/* Write a small file under the root. */
static void put(const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* A symlink under the root (the target may dangle: only its name is read). */
static void link_to(const char *target, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	unlink(p);
	if (symlink(target, p))
		perror("symlink");
}

/* A PCI device in group grp (-1: no IOMMU) bound to drv ("" = none). */
static void add_dev(const char *bdf, int grp, const char *drv, const char *cls)
{
	char d[128], r[192], t[128];

	snprintf(d, sizeof(d), "sys/bus/pci/devices/%s", bdf);
	mkdirs(d);
	snprintf(r, sizeof(r), "%s/vendor", d);
	put(r, "0x1234\n");
	snprintf(r, sizeof(r), "%s/device", d);
	put(r, "0x11e8\n");
	snprintf(r, sizeof(r), "%s/class", d);
	put(r, cls);
	if (drv[0]) {
		snprintf(t, sizeof(t), "../../../bus/pci/drivers/%s", drv);
		snprintf(r, sizeof(r), "%s/driver", d);
		link_to(t, r);
	}
	if (grp >= 0) {
		snprintf(t, sizeof(t), "../../../kernel/iommu_groups/%d", grp);
		snprintf(r, sizeof(r), "%s/iommu_group", d);
		link_to(t, r);
		snprintf(r, sizeof(r), "sys/kernel/iommu_groups/%d/devices/%s", grp, bdf);
		mkdirs(r);
	}
}

static void setup_tree(void)
{
	char r[128];

	snprintf(root, sizeof(root), "/tmp/ptvm-test-vfio-group.XXXXXX");
	if (!mkdtemp(root))
		abort();
	/* group 3: edu alone, on vfio-pci, with a vfio cdev */
	add_dev("0000:00:10.0", 3, "vfio-pci", "0x00ff00\n");
	mkdirs("sys/bus/pci/devices/0000:00:10.0/vfio-dev/vfio0");
	put("sys/kernel/iommu_groups/3/reserved_regions",
	    "0x00000000fee00000 0x00000000feefffff msi\n");
	/* group 7: a GPU on vfio-pci, its audio on snd_hda_intel, a bridge on pcieport */
	add_dev("0000:01:00.0", 7, "vfio-pci", "0x030000\n");
	add_dev("0000:01:00.1", 7, "snd_hda_intel", "0x040300\n");
	add_dev("0000:00:01.0", 7, "pcieport", "0x060400\n");
	/* group 8: NIC on e1000e */
	add_dev("0000:02:00.0", 8, "e1000e", "0x020000\n");
	/* group 9: on vfio-pci with an unbound sibling and a pci-stub one */
	add_dev("0000:03:00.0", 9, "vfio-pci", "0x010802\n");
	add_dev("0000:03:00.1", 9, "", "0x010802\n");
	add_dev("0000:03:00.2", 9, "pci-stub", "0x010802\n");
	put("sys/kernel/iommu_groups/9/reserved_regions",
	    "0x00000000fee00000 0x00000000feefffff msi\n"
	    "0x00000000000a0000 0x00000000000bffff direct-relaxable\n"
	    "0x000000fd00000000 0x000000ffffffffff reserved\n");
	/* no IOMMU: no iommu_group link */
	add_dev("0000:04:00.0", -1, "vfio-pci", "0x020000\n");
	/* no driver at all */
	add_dev("0000:05:00.0", 11, "", "0x020000\n");
	/* resources: a 64-bit 256 MiB BAR0, a 32-bit BAR2, a 64-bit 12 KiB BAR4 */
	put("sys/bus/pci/devices/0000:01:00.0/resource",
	    "0x0000006000000000 0x000000600fffffff 0x000000000014220c\n"
	    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	    "0x00000000fd000000 0x00000000fdffffff 0x0000000000040200\n"
	    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	    "0x0000006010000000 0x0000006010002fff 0x0000000000140204\n"
	    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	    "0x00000000fe000000 0x00000000fe07ffff 0x0000000000046200\n");
	/* group 12: garbage reserved_regions */
	add_dev("0000:06:00.0", 12, "vfio-pci", "0x020000\n");
	snprintf(r, sizeof(r), "sys/kernel/iommu_groups/12/reserved_regions");
	put(r, "not a region\n");
}

static struct sysfs sys;

TEST(ready_device)
{
	struct vgrp_info in;
	char err[1024] = "";

	ASSERT_EQ(vgrp_check(&sys, "0000:00:10.0", &in, err, sizeof(err)), 0);
	ASSERT_STR_EQ(in.dev.bdf, "0000:00:10.0");
	ASSERT_EQ(in.dev.group, 3);
	ASSERT_STR_EQ(in.dev.cdev, "vfio0");
	ASSERT_EQ(in.vendor, 0x1234);
	ASSERT_EQ(in.device, 0x11e8);
	ASSERT_EQ(in.nr_reserved, 1);
	ASSERT_EQ(in.reserved[0].start, 0xfee00000);
	ASSERT_EQ(in.reserved[0].last, 0xfeefffff);
	ASSERT_STR_EQ(in.reserved[0].what, "msi");
}

TEST(no_such_device)
{
	struct vgrp_info in;
	char err[1024] = "";

	ASSERT_EQ(vgrp_check(&sys, "0000:09:00.0", &in, err, sizeof(err)), -ENOENT);
	ASSERT_STR_CONTAINS(err, "0000:09:00.0");
	ASSERT_STR_CONTAINS(err, "no such PCI device");
	ASSERT_STR_CONTAINS(err, "lspci");
}

TEST(iommu_off)
{
	struct vgrp_info in;
	char err[1024] = "";

	ASSERT_EQ(vgrp_check(&sys, "0000:04:00.0", &in, err, sizeof(err)), -ENODEV);
	ASSERT_STR_CONTAINS(err, "no IOMMU group");
	ASSERT_STR_CONTAINS(err, "intel_iommu=on");
	ASSERT_STR_CONTAINS(err, "amd_iommu=on");
	ASSERT_STR_CONTAINS(err, "BIOS");
}

TEST(wrong_driver)
{
	struct vgrp_info in;
	char err[1024] = "";

	ASSERT_EQ(vgrp_check(&sys, "0000:02:00.0", &in, err, sizeof(err)), -EBUSY);
	ASSERT_STR_CONTAINS(err, "bound to e1000e, not vfio-pci");
	ASSERT_STR_CONTAINS(err, "ptvm bind 0000:02:00.0");
	ASSERT_STR_CONTAINS(err, "driver_override");
	ASSERT_EQ(strchr(err, '\n'), NULL);

	ASSERT_EQ(vgrp_check(&sys, "0000:05:00.0", &in, err, sizeof(err)), -EBUSY);
	ASSERT_STR_CONTAINS(err, "not bound to vfio-pci (no driver)");
}

TEST(group_not_viable)
{
	struct vgrp_info in;
	char err[1024] = "";

	ASSERT_EQ(vgrp_check(&sys, "0000:01:00.0", &in, err, sizeof(err)), -EBUSY);
	ASSERT_STR_CONTAINS(err, "IOMMU group 7 is not viable");
	ASSERT_STR_CONTAINS(err, "0000:01:00.1 (snd_hda_intel)");
	/* the bridge on pcieport does not block */
	ASSERT_EQ(strstr(err, "0000:00:01.0"), NULL);
	ASSERT_STR_CONTAINS(err, "ptvm bind --group 0000:01:00.0");
	ASSERT_EQ(strchr(err, '\n'), NULL);
}

TEST(viable_with_unbound_and_stub_members)
{
	struct vgrp_info in;
	char err[1024] = "";

	ASSERT_EQ(vgrp_check(&sys, "0000:03:00.0", &in, err, sizeof(err)), 0);
	ASSERT_EQ(in.dev.group, 9);
	ASSERT_STR_EQ(in.dev.cdev, "");
	/* direct-relaxable is skipped; msi and reserved kept */
	ASSERT_EQ(in.nr_reserved, 2);
	ASSERT_EQ(in.reserved[1].start, 0xfd00000000ULL);
	ASSERT_EQ(in.reserved[1].last, 0xffffffffffULL);
}

TEST(bad_reserved_regions)
{
	struct vgrp_info in;
	char err[1024] = "";

	ASSERT_EQ(vgrp_check(&sys, "0000:06:00.0", &in, err, sizeof(err)), -EINVAL);
	ASSERT_STR_CONTAINS(err, "reserved_regions");
}

TEST(mmio64_need)
{
	/* 256 MiB + 16 KiB (12 KiB rounded up); the 32-bit BAR and the ROM do not count */
	ASSERT_EQ(vgrp_mmio64_need(&sys, "0000:01:00.0"), 256 * 1024 * 1024ULL + 16384);
	ASSERT_EQ(vgrp_mmio64_need(&sys, "0000:00:10.0"), 0); /* no resource file */
}

int main(void)
{
	char cmd[300];
	int ret;

	setup_tree();
	sysfs_init(&sys, root);
	RUN(ready_device);
	RUN(no_such_device);
	RUN(iommu_off);
	RUN(wrong_driver);
	RUN(group_not_viable);
	RUN(viable_with_unbound_and_stub_members);
	RUN(bad_reserved_regions);
	RUN(mmio64_need);
	ret = test_done();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		ret = 1;
	return ret;
}
