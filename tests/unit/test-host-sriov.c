/* ptvm sriov on a recorded PF whose fake kernel makes VFs on sriov_numvfs writes. */
#include "tests/unit/harness.h"
#include "tests/unit/host-fixture.h"

#include "passthrough/host/host-tools.h"
#include "passthrough/host/sriov.h"

#define PF "0000:05:00.0"

static char out[8192];

// A ConnectX-5 PF with 8 VFs possible and none made.
static void pf_tree(struct fixture *fx)
{
	fx_intel_host(fx);
	fx_dev(fx, PF, 0x15b3, 0x1017, 0x020000, "mlx5_core", 5);
	fx_file(fx, "sys/bus/pci/devices/" PF "/sriov_totalvfs", "8\n");
	fx_file(fx, "sys/bus/pci/devices/" PF "/sriov_numvfs", "0\n");
}

// Parse argv, hook the fake kernel, run host_run_sriov with stdout captured.
static int cli(struct fixture *fx, char **argv)
{
	struct host_opts o;
	struct fx_capture c;
	int argc = 0, rc;

	while (argv[argc])
		argc++;
	rc = host_opts_parse(&o, argc, argv, HOST_OPT_BDFS | HOST_OPT_VFS, "");
	if (rc)
		return rc > 0 ? 0 : 2;
	o.sys.after_write = fx_kernel;
	o.sys.opaque = fx;
	fx_capture_begin(&c);
	rc = host_run_sriov(&o);
	fx_capture_end(&c, out, sizeof(out));
	return rc;
}

static void set_body(struct fixture *fx)
{
	struct sriov_info si;

	pf_tree(fx);
	ASSERT_EQ(sriov_set(&fx->sys, PF, 4), 0);
	ASSERT_STR_EQ(fx->log, "sys/bus/pci/devices/" PF "/sriov_numvfs=4\n");
	ASSERT_EQ(sriov_read(&fx->sys, PF, &si), 0);
	ASSERT_EQ(si.num, 4);
	ASSERT_EQ(si.total, 8);
	ASSERT_EQ(si.nr_vfs, 4);
	ASSERT_STR_EQ(si.vfs[0].bdf, "0000:05:00.1");
	ASSERT_EQ(si.vfs[3].group, 103);
	sriov_free(&si);
	/* 4 -> 2: the kernel needs 0 in between */
	fx->log[0] = '\0';
	ASSERT_EQ(sriov_set(&fx->sys, PF, 2), 0);
	ASSERT_STR_EQ(fx->log, "sys/bus/pci/devices/" PF "/sriov_numvfs=0\n"
			       "sys/bus/pci/devices/" PF "/sriov_numvfs=2\n");
	/* same count: nothing written */
	fx->log[0] = '\0';
	ASSERT_EQ(sriov_set(&fx->sys, PF, 2), 0);
	ASSERT_STR_EQ(fx->log, "");
	ASSERT_EQ(sriov_set(&fx->sys, PF, 9), -ERANGE);
	ASSERT_STR_EQ(fx->log, "");
	ASSERT_EQ(sriov_set(&fx->sys, "0000:01:00.0", 1), -ENODEV);
	fx_dev(fx, "0000:03:00.0", 0x8086, 0x10d3, 0x020000, "e1000e", 3);
	ASSERT_EQ(sriov_set(&fx->sys, "0000:03:00.0", 1), -ENOTSUP);
}

TEST(set_and_read_vfs)
{
	struct fixture fx;

	fx_init(&fx);
	set_body(&fx);
	fx_cleanup(&fx);
}

static void cli_body(struct fixture *fx)
{
	char *set3[] = { "sriov", "--sysfs-root", fx->root, PF, "--vfs", "3", NULL };
	char *list[] = { "sriov", "--sysfs-root", fx->root, "05:00.0", "--json", NULL };
	char *zero[] = { "sriov", "--sysfs-root", fx->root, PF, "--vfs=0", NULL };
	char *bad[] = { "sriov", "--sysfs-root", fx->root, PF, "--vfs", "12", NULL };

	pf_tree(fx);
	ASSERT_EQ(cli(fx, set3), 0);
	ASSERT_STR_EQ(out, PF ": 3 of 8 VFs\n"
		      "  VF  ADDRESS       GROUP  DRIVER\n"
		      "  0   0000:05:00.1  100    -\n"
		      "  1   0000:05:00.2  101    -\n"
		      "  2   0000:05:00.3  102    -\n");
	ASSERT_EQ(cli(fx, list), 0);
	ASSERT_STR_CONTAINS(out, "{\"address\": \"" PF "\", \"totalvfs\": 8, \"numvfs\": 3, "
			    "\"vfs\": [{\"index\": 0, \"address\": \"0000:05:00.1\", \"group\": 100, "
			    "\"driver\": \"\"}");
	ASSERT_EQ(cli(fx, bad), 1);
	ASSERT_EQ(cli(fx, zero), 0);
	ASSERT_STR_EQ(out, PF ": 0 of 8 VFs\n");
	ASSERT_FALSE(fx_exists(fx, "sys/bus/pci/devices/" PF "/virtfn0"));
}

TEST(cmd_sriov)
{
	struct fixture fx;

	fx_init(&fx);
	cli_body(&fx);
	fx_cleanup(&fx);
}

int main(void)
{
	RUN(set_and_read_vfs);
	RUN(cmd_sriov);
	return test_done();
}
