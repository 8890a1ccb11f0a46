/* pci.ids lookups, group verdicts and `ptvm groups` on recorded sysfs trees. */
#include "tests/unit/harness.h"
#include "tests/unit/host-fixture.h"

#include "passthrough/host/groups.h"
#include "passthrough/host/host-tools.h"
#include "passthrough/host/output.h"
#include "passthrough/host/pciids.h"

static char out[16384];

static void pciids_body(struct fixture *fx)
{
	struct pciids ids;
	char b[128];

	ASSERT_EQ(pciids_load(&ids, &fx->sys), 0);
	ASSERT_TRUE(ids.data);
	ASSERT_STR_EQ(pciids_vendor(&ids, 0x10de, b, sizeof(b)), "NVIDIA Corporation");
	ASSERT_STR_EQ(pciids_device(&ids, 0x10de, 0x1b80, b, sizeof(b)), "GP104 [GeForce GTX 1080]");
	ASSERT_STR_EQ(pciids_device(&ids, 0x10de, 0x10f0, b, sizeof(b)),
		      "GP104 High Definition Audio Controller");
	/* a device id of another vendor, and an unknown one */
	ASSERT_STR_EQ(pciids_device(&ids, 0x10de, 0x10d3, b, sizeof(b)), "");
	ASSERT_STR_EQ(pciids_device(&ids, 0x1234, 0x1111, b, sizeof(b)), "");
	ASSERT_STR_EQ(pciids_vendor(&ids, 0x1234, b, sizeof(b)), "");
	/* subsystem lines (two tabs) are not device lines */
	ASSERT_STR_EQ(pciids_device(&ids, 0x10de, 0x10de, b, sizeof(b)), "");
	ASSERT_STR_EQ(pciids_class(&ids, 0x0c0330, b, sizeof(b)), "USB controller");
	ASSERT_STR_EQ(pciids_class(&ids, 0x030000, b, sizeof(b)), "VGA compatible controller");
	/* unknown subclass: the class name */
	ASSERT_STR_EQ(pciids_class(&ids, 0x038000, b, sizeof(b)), "Display controller");
	ASSERT_STR_EQ(pciids_class(&ids, 0xff0000, b, sizeof(b)), "");
	/* a short buffer truncates, never overflows */
	ASSERT_STR_EQ(pciids_vendor(&ids, 0x10de, b, 7), "NVIDIA");
	pciids_free(&ids);
	/* no pci.ids at all (package missing): empty names, no error */
	fx_unlink(fx, "usr/share/misc/pci.ids");
	ASSERT_EQ(pciids_load(&ids, &fx->sys), 0);
	ASSERT_FALSE(ids.data);
	ASSERT_STR_EQ(pciids_vendor(&ids, 0x10de, b, sizeof(b)), "");
	ASSERT_STR_EQ(pciids_class(&ids, 0x030000, b, sizeof(b)), "");
	pciids_free(&ids);
}

TEST(pciids_lookups)
{
	struct fixture fx;

	fx_init(&fx);
	pciids_body(&fx);
	fx_cleanup(&fx);
}

TEST(driver_kinds)
{
	ASSERT_EQ(host_driver_kind(""), DRV_NONE);
	ASSERT_EQ(host_driver_kind("vfio-pci"), DRV_VFIO);
	ASSERT_EQ(host_driver_kind("mlx5_vfio_pci"), DRV_VFIO);
	ASSERT_EQ(host_driver_kind("pci-stub"), DRV_HARMLESS);
	ASSERT_EQ(host_driver_kind("pcieport"), DRV_HARMLESS);
	ASSERT_EQ(host_driver_kind("xhci_hcd"), DRV_HOST);
	ASSERT_EQ(host_driver_kind("nvidia"), DRV_HOST);
}

// Four groups: ready GPU+audio, GPU sharing with USB, an unbound NIC, a bridge alone.
static void four_groups(struct fixture *fx)
{
	fx_intel_host(fx);
	fx_dev(fx, "0000:00:01.0", 0x8086, 0x1901, 0x060400, "pcieport", 1);
	fx_dev(fx, "0000:01:00.0", 0x10de, 0x1b80, 0x030000, "vfio-pci", 1);
	fx_dev(fx, "0000:01:00.1", 0x10de, 0x10f0, 0x040300, "vfio-pci", 1);
	fx_dev(fx, "0000:02:00.0", 0x10de, 0x1b80, 0x030000, "vfio-pci", 2);
	fx_dev(fx, "0000:00:14.0", 0x8086, 0xa36d, 0x0c0330, "xhci_hcd", 2);
	fx_dev(fx, "0000:03:00.0", 0x8086, 0x10d3, 0x020000, "", 10);
	fx_dev(fx, "0000:00:1c.0", 0x8086, 0x1901, 0x060400, "pcieport", 9);
}

static void verdicts_body(struct fixture *fx)
{
	struct host_group g;
	const struct host_dev *bl[4];
	int *ids, n;

	four_groups(fx);
	ASSERT_EQ(host_group_ids(&fx->sys, &ids, &n), 0);
	ASSERT_EQ(n, 4);
	/* numeric order: 10 after 9 */
	ASSERT_EQ(ids[0], 1);
	ASSERT_EQ(ids[2], 9);
	ASSERT_EQ(ids[3], 10);
	free(ids);

	ASSERT_EQ(host_group_read(&fx->sys, 1, &g), 0);
	ASSERT_EQ(g.nr_devs, 3);
	ASSERT_STR_EQ(g.devs[0].bdf, "0000:00:01.0");
	ASSERT_EQ(g.devs[1].class, 0x030000);
	ASSERT_EQ(g.devs[1].vendor, 0x10de);
	ASSERT_EQ(host_group_verdict(&g), GROUP_READY);
	host_group_free(&g);

	ASSERT_EQ(host_group_read(&fx->sys, 2, &g), 0);
	ASSERT_EQ(host_group_verdict(&g), GROUP_NOT_VIABLE);
	ASSERT_EQ(host_group_blockers(&g, bl, 4), 1);
	ASSERT_STR_EQ(bl[0]->bdf, "0000:00:14.0");
	host_group_free(&g);

	ASSERT_EQ(host_group_read(&fx->sys, 10, &g), 0);
	ASSERT_EQ(host_group_verdict(&g), GROUP_UNBOUND);
	host_group_free(&g);
	ASSERT_EQ(host_group_read(&fx->sys, 9, &g), 0);
	ASSERT_EQ(host_group_verdict(&g), GROUP_UNBOUND);
	host_group_free(&g);
	ASSERT_EQ(host_group_read(&fx->sys, 77, &g), -ENOENT);
}

TEST(group_verdicts)
{
	struct fixture fx;

	fx_init(&fx);
	verdicts_body(&fx);
	fx_cleanup(&fx);
}

static void cmd_body(struct fixture *fx)
{
	char *argv[] = { "groups", "--sysfs-root", fx->root, NULL, NULL };

	four_groups(fx);
	ASSERT_EQ(fx_capture(cmd_groups, 3, argv, out, sizeof(out)), 0);
	/* aligned columns: every row starts the address at the same column */
	ASSERT_STR_CONTAINS(out, "GROUP  ADDRESS       CLASS                      DEVICE");
	ASSERT_STR_CONTAINS(out, "\n1      0000:00:01.0  PCI bridge  ");
	ASSERT_STR_CONTAINS(out, "\n       0000:01:00.0  VGA compatible controller  NVIDIA "
			    "Corporation GP104 [GeForce GTX 1080] [10de:1b80]");
	ASSERT_STR_CONTAINS(out, "ready\n");
	ASSERT_STR_CONTAINS(out, "not viable: 0000:00:14.0 on xhci_hcd\n");
	ASSERT_STR_CONTAINS(out, "viable, not bound\n");
	ASSERT_FALSE(strstr(out, "\033["));         /* not a terminal: no colours */
	ASSERT_FALSE(strstr(out, " \n"));           /* no trailing blanks */

	argv[3] = "--json";
	ASSERT_EQ(fx_capture(cmd_groups, 4, argv, out, sizeof(out)), 0);
	ASSERT_STR_CONTAINS(out, "{\"groups\": [\n  {\"group\": 1, \"status\": \"ready\", "
			    "\"viable\": true, \"ready\": true, \"blockers\": [], \"devices\": [");
	ASSERT_STR_CONTAINS(out, "{\"group\": 2, \"status\": \"not viable\", \"viable\": false, "
			    "\"ready\": false, \"blockers\": [\"0000:00:14.0\"]");
	ASSERT_STR_CONTAINS(out, "{\"address\": \"0000:00:14.0\", \"class\": \"0c0330\", "
			    "\"class_name\": \"USB controller\", \"vendor\": \"8086\", "
			    "\"vendor_name\": \"Intel Corporation\", \"device\": \"a36d\", "
			    "\"device_name\": \"Cannon Lake PCH USB 3.1 xHCI Host Controller\", "
			    "\"driver\": \"xhci_hcd\"}");
	ASSERT_STR_CONTAINS(out, "]}\n");
	/* without pci.ids: numbers only */
	fx_unlink(fx, "usr/share/misc/pci.ids");
	ASSERT_EQ(fx_capture(cmd_groups, 3, argv, out, sizeof(out)), 0);
	ASSERT_STR_CONTAINS(out, "0000:01:00.0  030000  [10de:1b80]");
}

TEST(cmd_groups_table_and_json)
{
	struct fixture fx;

	fx_init(&fx);
	cmd_body(&fx);
	fx_cleanup(&fx);
}

static void none_body(struct fixture *fx)
{
	char *argv[] = { "groups", "--sysfs-root", fx->root, "--json", NULL };

	fx_dev(fx, "0000:03:00.0", 0x8086, 0x10d3, 0x020000, "e1000e", -1);
	ASSERT_EQ(fx_capture(cmd_groups, 4, argv, out, sizeof(out)), 1);
	ASSERT_STR_EQ(out, "{\"groups\": []}\n");
}

TEST(cmd_groups_without_iommu)
{
	struct fixture fx;

	fx_init(&fx);
	none_body(&fx);
	fx_cleanup(&fx);
}

TEST(table_alignment)
{
	static const char *const heads[] = { "A", "LONGER", "C" };
	const char *r1[] = { "xyz", "1", "last" };
	const char *r2[] = { "q", "22", "" };
	struct out_table t;
	struct out o;
	struct fx_capture c;

	fx_capture_begin(&c);
	out_init(&o, stdout, false);
	table_init(&t, 3, heads, 2);
	table_add(&t, MARK_OK, r1);
	table_add(&t, MARK_FAIL, r2);
	table_print(&o, &t, "> ");
	table_free(&t);
	json_str(stdout, "a\"b\\c\n\x01");
	fx_capture_end(&c, out, sizeof(out));
	ASSERT_STR_EQ(out, "> A    LONGER  C\n> xyz  1       last\n> q    22\n"
		      "\"a\\\"b\\\\c\\n\\u0001\"");
}

TEST(bdf_parsing)
{
	char b[16];

	ASSERT_EQ(host_parse_bdf("01:00.0", b), 0);
	ASSERT_STR_EQ(b, "0000:01:00.0");
	ASSERT_EQ(host_parse_bdf("0000:AF:1f.7", b), 0);
	ASSERT_STR_EQ(b, "0000:af:1f.7");
	ASSERT_EQ(host_parse_bdf("0000:01:20.0", b), -EINVAL);
	ASSERT_EQ(host_parse_bdf("0000:01:00.8", b), -EINVAL);
	ASSERT_EQ(host_parse_bdf("01:00.0x", b), -EINVAL);
	ASSERT_EQ(host_parse_bdf("1:0.0", b), -EINVAL);
	ASSERT_EQ(host_parse_bdf("", b), -EINVAL);
}

TEST(size_parsing)
{
	uint64_t v;

	ASSERT_EQ(host_parse_size("8G", &v), 0);
	ASSERT_EQ(v, 8ULL << 30);
	ASSERT_EQ(host_parse_size("512MiB", &v), 0);
	ASSERT_EQ(v, 512ULL << 20);
	ASSERT_EQ(host_parse_size("4096", &v), 0);
	ASSERT_EQ(v, 4096);
	ASSERT_EQ(host_parse_size("-1G", &v), -EINVAL);
	ASSERT_EQ(host_parse_size("1X", &v), -EINVAL);
	ASSERT_EQ(host_parse_size("99999999999T", &v), -EINVAL);
}

int main(void)
{
	RUN(pciids_lookups);
	RUN(driver_kinds);
	RUN(group_verdicts);
	RUN(cmd_groups_table_and_json);
	RUN(cmd_groups_without_iommu);
	RUN(table_alignment);
	RUN(bdf_parsing);
	RUN(size_parsing);
	return test_done();
}
