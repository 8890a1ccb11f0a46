/*
 * bind/unbind against a recorded tree with a fake kernel (host-fixture.h):
 * the exact sysfs write sequence, the state file, exact restore, all-or-
 * nothing on failures, and the managed API used by ptvm run.
 */
#include "tests/unit/harness.h"
#include "tests/unit/host-fixture.h"

#include "passthrough/host/bind.h"
#include "passthrough/host/host-tools.h"

static char out[8192];

// Parse argv as ptvm would, hook the fake kernel in, run with stdout captured.
static int cli(struct fixture *fx, int (*run)(struct host_opts *), char **argv)
{
	struct host_opts o;
	struct fx_capture c;
	int argc = 0, rc;

	while (argv[argc])
		argc++;
	if (host_opts_parse(&o, argc, argv, HOST_OPT_BDFS | HOST_OPT_GROUP, "") != 0)
		return -1;
	o.sys.after_write = fx_kernel;
	o.sys.opaque = fx;
	fx_capture_begin(&c);
	rc = run(&o);
	fx_capture_end(&c, out, sizeof(out));
	return rc;
}

#define DEV "sys/bus/pci/devices/"

// The driver a fixture device is on now ("" = none).
static const char *driver_of(struct fixture *fx, const char *bdf, char *buf, size_t len)
{
	struct host_dev d;

	buf[0] = '\0';
	if (host_dev_read(&fx->sys, bdf, &d) == 0)
		snprintf(buf, len, "%s", d.driver);
	return buf;
}

// A NIC on e1000e (group 3) and a GPU + audio on their host drivers (group 1).
static void host_tree(struct fixture *fx)
{
	fx_intel_host(fx);
	fx_dev(fx, "0000:03:00.0", 0x8086, 0x10d3, 0x020000, "e1000e", 3);
	fx_dev(fx, "0000:00:01.0", 0x8086, 0x1901, 0x060400, "pcieport", 1);
	fx_dev(fx, "0000:01:00.0", 0x10de, 0x1b80, 0x030000, "nouveau", 1);
	fx_dev(fx, "0000:01:00.1", 0x10de, 0x10f0, 0x040300, "snd_hda_intel", 1);
}

static void sequence_body(struct fixture *fx)
{
	struct host_bind_state st;
	struct host_bind_opts o = { 0 };
	char buf[256];

	host_tree(fx);
	ASSERT_EQ(host_bind(&fx->sys, "0000:03:00.0", &o, &st), 0);
	ASSERT_STR_EQ(fx->log,
		DEV "0000:03:00.0/driver_override=vfio-pci\n"
		DEV "0000:03:00.0/driver/unbind=0000:03:00.0\n"
		"sys/bus/pci/drivers_probe=0000:03:00.0\n");
	ASSERT_STR_EQ(driver_of(fx, "0000:03:00.0", buf, sizeof(buf)), "vfio-pci");
	ASSERT_EQ(st.active, 1);
	ASSERT_STR_EQ(st.prev_driver, "e1000e");
	fx_read(fx, "run/ptvm/0000:03:00.0", buf, sizeof(buf));
	ASSERT_STR_CONTAINS(buf, "bdf=0000:03:00.0\ndriver=e1000e\noverride=\n");

	fx->log[0] = '\0';
	ASSERT_EQ(host_restore(&st), 0);
	ASSERT_STR_EQ(fx->log,
		DEV "0000:03:00.0/driver/unbind=0000:03:00.0\n"
		DEV "0000:03:00.0/driver_override=\\n\n"
		"sys/bus/pci/drivers_probe=0000:03:00.0\n");
	ASSERT_STR_EQ(driver_of(fx, "0000:03:00.0", buf, sizeof(buf)), "e1000e");
	ASSERT_FALSE(fx_exists(fx, "run/ptvm/0000:03:00.0"));
	ASSERT_EQ(st.active, 0);
	/* idempotent: a second restore writes nothing */
	fx->log[0] = '\0';
	ASSERT_EQ(host_restore(&st), 0);
	ASSERT_STR_EQ(fx->log, "");
}

TEST(bind_then_restore_write_sequence)
{
	struct fixture fx;

	fx_init(&fx);
	sequence_body(&fx);
	fx_cleanup(&fx);
}

static void cli_body(struct fixture *fx)
{
	char *bind_argv[] = { "bind", "--sysfs-root", fx->root, "03:00.0", NULL };
	char *unbind_argv[] = { "unbind", "--sysfs-root", fx->root, "0000:03:00.0", "--json", NULL };
	char buf[64];

	host_tree(fx);
	ASSERT_EQ(cli(fx, host_run_bind, bind_argv), 0);
	ASSERT_STR_EQ(out, "0000:03:00.0: e1000e -> vfio-pci\n");
	/* a second bind changes nothing and keeps the record of e1000e */
	fx->log[0] = '\0';
	ASSERT_EQ(cli(fx, host_run_bind, bind_argv), 0);
	ASSERT_STR_EQ(fx->log, "");
	ASSERT_STR_EQ(out, "0000:03:00.0: vfio-pci -> vfio-pci\n");
	ASSERT_TRUE(fx_exists(fx, "run/ptvm/0000:03:00.0"));
	/* unbind reads the state file written by the first bind */
	ASSERT_EQ(cli(fx, host_run_unbind, unbind_argv), 0);
	ASSERT_STR_EQ(out, "{\"ok\": true, \"devices\": [{\"address\": \"0000:03:00.0\", "
		      "\"from\": \"vfio-pci\", \"driver\": \"e1000e\"}]}\n");
	ASSERT_STR_EQ(driver_of(fx, "0000:03:00.0", buf, sizeof(buf)), "e1000e");
	ASSERT_FALSE(fx_exists(fx, "run/ptvm/0000:03:00.0"));
}

TEST(cli_bind_unbind_via_state_file)
{
	struct fixture fx;

	fx_init(&fx);
	cli_body(&fx);
	fx_cleanup(&fx);
}

static void group_body(struct fixture *fx)
{
	char *bind_argv[] = { "bind", "--sysfs-root", fx->root, "--group", "0000:01:00.1", NULL };
	char *unbind_argv[] = { "unbind", "--sysfs-root", fx->root, "0000:01:00.0", "--group", NULL };
	char buf[64];

	host_tree(fx);
	ASSERT_EQ(cli(fx, host_run_bind, bind_argv), 0);
	/* the named device first, then its group mates; the bridge stays on pcieport */
	ASSERT_STR_EQ(out, "0000:01:00.1: snd_hda_intel -> vfio-pci\n"
			   "0000:01:00.0: nouveau -> vfio-pci\n");
	ASSERT_STR_EQ(driver_of(fx, "0000:00:01.0", buf, sizeof(buf)), "pcieport");
	ASSERT_EQ(cli(fx, host_run_unbind, unbind_argv), 0);
	ASSERT_STR_EQ(out, "0000:01:00.0: vfio-pci -> nouveau\n"
			   "0000:01:00.1: vfio-pci -> snd_hda_intel\n");
	ASSERT_STR_EQ(driver_of(fx, "0000:01:00.1", buf, sizeof(buf)), "snd_hda_intel");
}

TEST(group_bind_and_unbind)
{
	struct fixture fx;

	fx_init(&fx);
	group_body(&fx);
	fx_cleanup(&fx);
}

static void rollback_body(struct fixture *fx)
{
	struct host_bind_state st[3];
	struct host_bind_opts o = { 0 };
	char bdfs[3][16] = { "0000:03:00.0", "0000:01:00.1", "0000:01:00.0" };
	char buf[256];

	host_tree(fx);
	/* nouveau's unbind file is missing: the third device fails midway */
	fx_unlink(fx, "sys/bus/pci/drivers/nouveau/unbind");
	ASSERT_TRUE(host_bind_all(&fx->sys, bdfs, 3, &o, st) < 0);
	ASSERT_STR_EQ(driver_of(fx, "0000:03:00.0", buf, sizeof(buf)), "e1000e");
	ASSERT_STR_EQ(driver_of(fx, "0000:01:00.1", buf, sizeof(buf)), "snd_hda_intel");
	ASSERT_STR_EQ(driver_of(fx, "0000:01:00.0", buf, sizeof(buf)), "nouveau");
	/* the overrides are cleared and no state file is left */
	fx_read(fx, DEV "0000:01:00.0/driver_override", buf, sizeof(buf));
	ASSERT_STR_EQ(buf, "\n");
	fx_read(fx, DEV "0000:03:00.0/driver_override", buf, sizeof(buf));
	ASSERT_STR_EQ(buf, "\n");
	ASSERT_FALSE(fx_exists(fx, "run/ptvm/0000:03:00.0"));
	ASSERT_FALSE(fx_exists(fx, "run/ptvm/0000:01:00.0"));
	ASSERT_FALSE(fx_exists(fx, "run/ptvm/0000:01:00.1"));
}

TEST(bind_all_or_nothing)
{
	struct fixture fx;

	fx_init(&fx);
	rollback_body(&fx);
	fx_cleanup(&fx);
}

static void unbind_rollback_body(struct fixture *fx)
{
	struct host_bind_state st[2];
	struct host_bind_opts o = { 0 };
	char bdfs[2][16] = { "0000:03:00.0", "0000:01:00.1" };
	char buf[64];

	host_tree(fx);
	ASSERT_EQ(host_bind_all(&fx->sys, bdfs, 2, &o, st), 0);
	/* snd_hda_intel refuses the device back: the first one goes to vfio-pci again */
	fx_file(fx, "sys/bus/pci/drivers/snd_hda_intel/refuse", "1");
	ASSERT_TRUE(host_unbind_all(&fx->sys, bdfs, 2, st) < 0);
	ASSERT_STR_EQ(driver_of(fx, "0000:03:00.0", buf, sizeof(buf)), "vfio-pci");
	ASSERT_TRUE(fx_exists(fx, "run/ptvm/0000:03:00.0"));
	/* the failed one keeps its record so a later unbind can finish */
	ASSERT_TRUE(fx_exists(fx, "run/ptvm/0000:01:00.1"));
	fx_unlink(fx, "sys/bus/pci/drivers/snd_hda_intel/refuse");
	ASSERT_EQ(host_unbind_all(&fx->sys, bdfs, 2, st), 0);
	ASSERT_STR_EQ(driver_of(fx, "0000:03:00.0", buf, sizeof(buf)), "e1000e");
	ASSERT_STR_EQ(driver_of(fx, "0000:01:00.1", buf, sizeof(buf)), "snd_hda_intel");
}

TEST(unbind_all_or_nothing)
{
	struct fixture fx;

	fx_init(&fx);
	unbind_rollback_body(&fx);
	fx_cleanup(&fx);
}

static void explicit_bind_body(struct fixture *fx)
{
	struct host_bind_state st;
	struct host_bind_opts o = { 0 };
	char buf[256];

	host_tree(fx);
	/* on pci-stub through new_id, which a probe would not choose again */
	fx_set_driver(fx, "0000:03:00.0", "pci-stub");
	ASSERT_EQ(host_bind(&fx->sys, "0000:03:00.0", &o, &st), 0);
	fx->log[0] = '\0';
	ASSERT_EQ(host_restore(&st), 0);
	ASSERT_STR_CONTAINS(fx->log, "sys/bus/pci/drivers/pci-stub/bind=0000:03:00.0\n");
	ASSERT_STR_EQ(driver_of(fx, "0000:03:00.0", buf, sizeof(buf)), "pci-stub");

	/* a device that had no driver and an override goes back to exactly that */
	fx_set_driver(fx, "0000:03:00.0", "");
	fx_file(fx, DEV "0000:03:00.0/driver_override", "pci-stub\n");
	fx_unlink(fx, "sys/bus/pci/drivers/pci-stub");
	fx_file(fx, "sys/bus/pci/drivers/pci-stub/refuse", "1");
	ASSERT_EQ(host_bind(&fx->sys, "0000:03:00.0", &o, &st), 0);
	ASSERT_EQ(host_restore(&st), 0);
	ASSERT_STR_EQ(driver_of(fx, "0000:03:00.0", buf, sizeof(buf)), "");
	fx_read(fx, DEV "0000:03:00.0/driver_override", buf, sizeof(buf));
	ASSERT_STR_EQ(buf, "pci-stub");
}

TEST(restore_exact_previous_state)
{
	struct fixture fx;

	fx_init(&fx);
	explicit_bind_body(&fx);
	fx_cleanup(&fx);
}

static void refuse_body(struct fixture *fx)
{
	struct host_bind_state st;
	struct host_bind_opts o = { 0 };
	char buf[64];

	host_tree(fx);
	fx_file(fx, DEV "0000:01:00.0/boot_vga", "1\n");
	ASSERT_EQ(host_bind(&fx->sys, "0000:01:00.0", &o, &st), -EBUSY);
	ASSERT_STR_EQ(fx->log, "");
	ASSERT_STR_EQ(driver_of(fx, "0000:01:00.0", buf, sizeof(buf)), "nouveau");
	o.force = true;
	ASSERT_EQ(host_bind(&fx->sys, "0000:01:00.0", &o, &st), 0);
	ASSERT_EQ(host_restore(&st), 0);
	/* bridges, missing devices, devices without a group, no vfio-pci driver */
	ASSERT_EQ(host_bind(&fx->sys, "0000:00:01.0", &o, &st), -EINVAL);
	ASSERT_EQ(host_bind(&fx->sys, "0000:42:00.0", &o, &st), -ENODEV);
	fx_dev(fx, "0000:05:00.0", 0x8086, 0x10d3, 0x020000, "e1000e", -1);
	ASSERT_EQ(host_bind(&fx->sys, "0000:05:00.0", &o, &st), -ENXIO);
	fx_unlink(fx, "sys/bus/pci/drivers/vfio-pci/bind");
	fx_unlink(fx, "sys/bus/pci/drivers/vfio-pci/unbind");
	rmdir(strcat(strcpy(buf, fx->root), "/sys/bus/pci/drivers/vfio-pci"));
	fx->log[0] = '\0';
	ASSERT_EQ(host_bind(&fx->sys, "0000:03:00.0", &o, &st), -ENOENT);
	ASSERT_STR_EQ(fx->log, "");
}

TEST(refusals)
{
	struct fixture fx;

	fx_init(&fx);
	refuse_body(&fx);
	fx_cleanup(&fx);
}

static void inuse_body(struct fixture *fx)
{
	struct host_bind_state st;
	struct host_bind_opts o = { 0 };
	char buf[64];

	host_tree(fx);
	fx_disk_and_nic(fx, "0000:04:00.0", "0000:06:00.0", true);
	/* the root file system is on it: refused, nothing written */
	ASSERT_EQ(host_bind(&fx->sys, "0000:04:00.0", &o, &st), -EBUSY);
	ASSERT_STR_EQ(fx->log, "");
	ASSERT_STR_EQ(driver_of(fx, "0000:04:00.0", buf, sizeof(buf)), "nvme");
	/* a swap area on it, not mounted: refused too */
	fx_file(fx, "proc/self/mountinfo", "%s", "");
	fx_file(fx, "proc/swaps", "Filename\tType\n/dev/nvme0n1p2 partition\t1\t0\t-2\n");
	ASSERT_EQ(host_bind(&fx->sys, "0000:04:00.0", &o, &st), -EBUSY);
	/* an LVM volume on it */
	fx_file(fx, "proc/swaps", "%s", "");
	fx_dir(fx, "sys/bus/pci/devices/0000:04:00.0/nvme/nvme0/nvme0n1/holders/dm-0");
	ASSERT_EQ(host_bind(&fx->sys, "0000:04:00.0", &o, &st), -EBUSY);
	/* --force takes it anyway, and gives it back */
	o.force = true;
	ASSERT_EQ(host_bind(&fx->sys, "0000:04:00.0", &o, &st), 0);
	ASSERT_EQ(host_restore(&st), 0);
	ASSERT_STR_EQ(driver_of(fx, "0000:04:00.0", buf, sizeof(buf)), "nvme");
	/* a NIC that is up is only a warning */
	o.force = false;
	ASSERT_EQ(host_bind(&fx->sys, "0000:06:00.0", &o, &st), 0);
	ASSERT_EQ(host_restore(&st), 0);
}

TEST(refuse_devices_in_use)
{
	struct fixture fx;

	fx_init(&fx);
	inuse_body(&fx);
	fx_cleanup(&fx);
}

static void vfio_refuses_body(struct fixture *fx)
{
	struct host_bind_state st;
	struct host_bind_opts o = { 0 };
	char buf[64];

	host_tree(fx);
	/* vfio-pci's probe fails (e.g. no IOMMU for it): back to e1000e */
	fx_file(fx, "sys/bus/pci/drivers/vfio-pci/refuse", "1");
	ASSERT_EQ(host_bind(&fx->sys, "0000:03:00.0", &o, &st), -EIO);
	ASSERT_STR_EQ(driver_of(fx, "0000:03:00.0", buf, sizeof(buf)), "e1000e");
	ASSERT_FALSE(fx_exists(fx, "run/ptvm/0000:03:00.0"));
	ASSERT_EQ(st.active, 0);
}

TEST(vfio_probe_failure_restores)
{
	struct fixture fx;

	fx_init(&fx);
	vfio_refuses_body(&fx);
	fx_cleanup(&fx);
}

static void managed_body(struct fixture *fx)
{
	struct host_bind_state st;
	struct host_bind_opts o = { 0 };
	char buf[64];

	host_tree(fx);
	/* host_bind_managed() is host_bind() on a root path: use the fake kernel's sysfs */
	ASSERT_EQ(host_bind(&fx->sys, "0000:03:00.0", &o, &st), 0);
	ASSERT_STR_EQ(driver_of(fx, "0000:03:00.0", buf, sizeof(buf)), "vfio-pci");
	ASSERT_TRUE(fx_exists(fx, "run/ptvm/0000:03:00.0"));
	ASSERT_EQ(host_restore_managed(&st), 0);
	ASSERT_EQ(host_restore_managed(&st), 0);
	ASSERT_STR_EQ(driver_of(fx, "0000:03:00.0", buf, sizeof(buf)), "e1000e");
	ASSERT_FALSE(fx_exists(fx, "run/ptvm/0000:03:00.0"));
	/* a device already on vfio-pci: nothing changed, nothing to restore */
	fx_set_driver(fx, "0000:03:00.0", "vfio-pci");
	fx->log[0] = '\0';
	ASSERT_EQ(host_bind_managed(fx->root, "03:00.0", &st), 0);
	ASSERT_EQ(st.active, 0);
	ASSERT_EQ(host_restore_managed(&st), 0);
	ASSERT_STR_EQ(fx->log, "");
	ASSERT_STR_EQ(driver_of(fx, "0000:03:00.0", buf, sizeof(buf)), "vfio-pci");
	ASSERT_EQ(host_bind_managed(fx->root, "nonsense", &st), -EINVAL);
	ASSERT_EQ(host_restore_managed(&st), 0);    /* after a failed bind: nothing to do */
	ASSERT_EQ(host_bind_managed(fx->root, "0000:44:00.0", &st), -ENODEV);
	ASSERT_EQ(host_restore_managed(&st), 0);
}

TEST(managed_bind_and_restore)
{
	struct fixture fx;

	fx_init(&fx);
	managed_body(&fx);
	fx_cleanup(&fx);
}

static void no_record_body(struct fixture *fx)
{
	char *argv[] = { "unbind", "--sysfs-root", fx->root, "0000:03:00.0", NULL };
	char buf[64];

	host_tree(fx);
	/* bound to vfio-pci by someone else (e.g. run-in-lab): the kernel picks */
	fx_set_driver(fx, "0000:03:00.0", "vfio-pci");
	fx_file(fx, DEV "0000:03:00.0/driver_override", "vfio-pci\n");
	ASSERT_EQ(cli(fx, host_run_unbind, argv), 0);
	ASSERT_STR_EQ(out, "0000:03:00.0: vfio-pci -> e1000e\n");
	ASSERT_STR_EQ(driver_of(fx, "0000:03:00.0", buf, sizeof(buf)), "e1000e");
	/* not on vfio-pci and no record: nothing to do, nothing written */
	fx->log[0] = '\0';
	ASSERT_EQ(cli(fx, host_run_unbind, argv), 0);
	ASSERT_STR_EQ(fx->log, "");
}

TEST(unbind_without_record)
{
	struct fixture fx;

	fx_init(&fx);
	no_record_body(&fx);
	fx_cleanup(&fx);
}

int main(void)
{
	RUN(bind_then_restore_write_sequence);
	RUN(cli_bind_unbind_via_state_file);
	RUN(group_bind_and_unbind);
	RUN(bind_all_or_nothing);
	RUN(unbind_all_or_nothing);
	RUN(restore_exact_previous_state);
	RUN(refusals);
	RUN(refuse_devices_in_use);
	RUN(vfio_probe_failure_restores);
	RUN(managed_bind_and_restore);
	RUN(unbind_without_record);
	return test_done();
}
