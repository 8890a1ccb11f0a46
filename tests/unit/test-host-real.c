/*
 * `ptvm check` on this machine's real / . On a machine without an IOMMU (the
 * development and CI machines) it must say so and fail; on one with an IOMMU
 * the claim does not apply and the test is skipped. Either way the verdict
 * must agree with what sysfs shows, read here independently.
 */
#include <dirent.h>

#include "tests/unit/harness.h"
#include "tests/unit/host-fixture.h"

#include "passthrough/host/host-tools.h"

static char out[16384];

// Entries in a directory other than . and ..; 0 when it is missing.
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

static bool has_iommu(void)
{
	return entries("/sys/class/iommu") > 0 || entries("/sys/kernel/iommu_groups") > 0;
}

TEST(check_reports_missing_iommu)
{
	char *argv[] = { "check", NULL };
	char *json[] = { "check", "--json", "--sysfs-root", "/", NULL };

	ASSERT_EQ(fx_capture(cmd_check, 1, argv, out, sizeof(out)), 1);
	ASSERT_TRUE(strstr(out, "FAIL  no IOMMU: ") || strstr(out, "is present but "));
	ASSERT_STR_CONTAINS(out, "problem");
	ASSERT_EQ(fx_capture(cmd_check, 4, json, out, sizeof(out)), 1);
	ASSERT_STR_CONTAINS(out, "{\"ok\": false,");
	ASSERT_STR_CONTAINS(out, "{\"level\": \"fail\", \"check\": \"iommu\"");
}

TEST(groups_fails_without_groups)
{
	char *argv[] = { "groups", NULL };

	ASSERT_EQ(fx_capture(cmd_groups, 1, argv, out, sizeof(out)), 1);
}

int main(void)
{
	if (has_iommu()) {
		printf("1..0 # SKIP this machine has an IOMMU\n");
		return 0;
	}
	RUN(check_reports_missing_iommu);
	RUN(groups_fails_without_groups);
	return test_done();
}
