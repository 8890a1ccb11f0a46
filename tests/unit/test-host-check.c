/* ptvm check on recorded sysfs trees, and its pure verdicts on hand-made facts. */
#include "tests/unit/harness.h"
#include "tests/unit/host-fixture.h"

#include "passthrough/host/check.h"
#include "passthrough/host/host-tools.h"

static char out[16384];

// Run `ptvm check --sysfs-root ROOT ARGS...`, output in out; exit status returned.
static int run_check(struct fixture *fx, const char *a1, const char *a2, const char *a3)
{
	char *argv[8] = { "check", "--sysfs-root", fx->root };
	int argc = 3;

	if (a1)
		argv[argc++] = (char *)a1;
	if (a2)
		argv[argc++] = (char *)a2;
	if (a3)
		argv[argc++] = (char *)a3;
	return fx_capture(cmd_check, argc, argv, out, sizeof(out));
}

// A config space image with AER at 0x100 then Resizable BAR at 0x150.
static void config_with_rebar(const struct fixture *fx, const char *bdf)
{
	unsigned char cfg[4096] = { 0 };
	char p[512];
	FILE *f;

	cfg[0x100] = 0x01; cfg[0x101] = 0x00; cfg[0x102] = 0x01; cfg[0x103] = 0x15; /* next 0x150 */
	cfg[0x150] = 0x15; cfg[0x151] = 0x00; cfg[0x152] = 0x01; cfg[0x153] = 0x00;
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s/config", fx->root, bdf);
	f = fopen(p, "w");
	fwrite(cfg, 1, sizeof(cfg), f);
	fclose(f);
}

// GPU + its audio function on vfio-pci, with their root port (pcieport) in group 1.
static void good_gpu_tree(struct fixture *fx)
{
	fx_intel_host(fx);
	fx_file(fx, "proc/self/status", "Name:\ttest\nCapEff:\t000001ffffffffff\n");
	fx_dev(fx, "0000:00:01.0", 0x8086, 0x1901, 0x060400, "pcieport", 1);
	fx_dev(fx, "0000:01:00.0", 0x10de, 0x1b80, 0x030000, "vfio-pci", 1);
	fx_dev(fx, "0000:01:00.1", 0x10de, 0x10f0, 0x040300, "vfio-pci", 1);
	fx_file(fx, "sys/bus/pci/devices/0000:01:00.0/rom", "%0131072d", 0);
	fx_file(fx, "sys/bus/pci/devices/0000:01:00.0/boot_vga", "0\n");
	config_with_rebar(fx, "0000:01:00.0");
	fx_file(fx, "dev/vfio/1", "%s", "");
}

static void good_gpu_body(struct fixture *fx)
{
	good_gpu_tree(fx);
	ASSERT_EQ(run_check(fx, "0000:01:00.0", "01:00.1", NULL), 0);
	ASSERT_FALSE(strstr(out, "FAIL"));
	ASSERT_STR_CONTAINS(out, "Intel VT-d is on (2 units, 1 groups)");
	ASSERT_STR_CONTAINS(out, "interrupt remapping is available");
	ASSERT_STR_CONTAINS(out, "bound to vfio-pci");
	ASSERT_STR_CONTAINS(out, "IOMMU group 1 is viable (3 devices)");
	ASSERT_STR_CONTAINS(out, "reset methods: flr bus");
	ASSERT_STR_CONTAINS(out, "option ROM: 128 KiB");
	ASSERT_STR_CONTAINS(out, "resizable BAR capability");
	ASSERT_STR_CONTAINS(out, "/dev/vfio/1 is usable");
	ASSERT_STR_CONTAINS(out, "NVIDIA Corporation GP104 [GeForce GTX 1080] [10de:1b80]");
	ASSERT_STR_CONTAINS(out, "ready: 0000:01:00.0 and the others can be passed through now");
	/* the audio function has no ROM: information, not a problem */
	ASSERT_STR_CONTAINS(out, "no option ROM (needed only to boot from it)");
	ASSERT_EQ(run_check(fx, "--json", "0000:01:00.0", NULL), 0);
	ASSERT_STR_CONTAINS(out, "{\"ok\": true, \"problems\": 0,");
	ASSERT_STR_CONTAINS(out, "\"address\": \"0000:01:00.0\", \"exists\": true, \"group\": 1, "
			    "\"driver\": \"vfio-pci\", \"viable\": true");
	ASSERT_STR_CONTAINS(out, "\"resizable_bar\": 1");
}

TEST(good_gpu_with_audio)
{
	struct fixture fx;

	fx_init(&fx);
	good_gpu_body(&fx);
	fx_cleanup(&fx);
}

static void shared_usb_body(struct fixture *fx)
{
	fx_intel_host(fx);
	fx_dev(fx, "0000:02:00.0", 0x10de, 0x1b80, 0x030000, "vfio-pci", 2);
	fx_dev(fx, "0000:00:14.0", 0x8086, 0xa36d, 0x0c0330, "xhci_hcd", 2);
	ASSERT_EQ(run_check(fx, "0000:02:00.0", NULL, NULL), 1);
	ASSERT_STR_CONTAINS(out, "FAIL  IOMMU group 2 is not viable: 0000:00:14.0 (xhci_hcd) "
			    "is on a host driver in the same group -- fix: sudo ptvm bind --group "
			    "0000:02:00.0\n");
	ASSERT_STR_CONTAINS(out, "1 problem: run the fix commands above");
	/* the member table names the blocker with its driver and class */
	ASSERT_STR_CONTAINS(out, "0000:00:14.0  xhci_hcd");
	ASSERT_STR_CONTAINS(out, "USB controller");
}

TEST(group_shared_with_usb_controller)
{
	struct fixture fx;

	fx_init(&fx);
	shared_usb_body(&fx);
	fx_cleanup(&fx);
}

static void no_iommu_body(struct fixture *fx)
{
	fx_dev(fx, "0000:03:00.0", 0x8086, 0x10d3, 0x020000, "e1000e", -1);
	fx_file(fx, "dev/kvm", "%s", "");
	ASSERT_EQ(run_check(fx, NULL, NULL, NULL), 1);
	ASSERT_STR_CONTAINS(out, "FAIL  no IOMMU: the firmware reports none (no DMAR or IVRS ACPI "
			    "table) -- fix: enable VT-d (Intel) or AMD-Vi/IOMMU (AMD) in the firmware "
			    "setup");
	ASSERT_STR_CONTAINS(out, "VFIO modules missing: vfio vfio_pci vfio_iommu_type1 -- fix: "
			    "sudo modprobe -a vfio-pci vfio_iommu_type1");
	ASSERT_FALSE(strstr(out, "interrupt remapping"));   /* moot without an IOMMU */
	ASSERT_EQ(run_check(fx, "0000:03:00.0", NULL, NULL), 1);
	ASSERT_STR_CONTAINS(out, "FAIL  no IOMMU group -- fix: turn the IOMMU on");
	ASSERT_EQ(run_check(fx, "0000:09:00.0", NULL, NULL), 1);
	ASSERT_STR_CONTAINS(out, "no such PCI device -- fix: list the devices: ptvm groups");
}

TEST(system_without_iommu)
{
	struct fixture fx;

	fx_init(&fx);
	no_iommu_body(&fx);
	fx_cleanup(&fx);
}

static void host_driver_body(struct fixture *fx)
{
	fx_intel_host(fx);
	fx_dev(fx, "0000:03:00.0", 0x8086, 0x10d3, 0x020000, "e1000e", 3);
	ASSERT_EQ(run_check(fx, "0000:03:00.0", NULL, NULL), 1);
	ASSERT_STR_CONTAINS(out, "FAIL  on e1000e, not vfio-pci -- fix: sudo ptvm bind 0000:03:00.0\n");
	/* the device alone blocks its group: binding it is the whole fix */
	ASSERT_STR_CONTAINS(out, "IOMMU group 3: no other device in it blocks VFIO");
	ASSERT_STR_CONTAINS(out, "1 problem:");
	/* after ptvm bind: the record of the old driver shows */
	fx_set_driver(fx, "0000:03:00.0", "vfio-pci");
	fx_file(fx, "run/ptvm/0000:03:00.0", "# ptvm bind\nbdf=0000:03:00.0\ndriver=e1000e\noverride=\n");
	ASSERT_EQ(run_check(fx, "0000:03:00.0", NULL, NULL), 0);
	ASSERT_STR_CONTAINS(out, "ok    bound to vfio-pci by ptvm (was on e1000e; 'ptvm unbind "
			    "0000:03:00.0' gives it back)\n");
}

TEST(device_on_host_driver)
{
	struct fixture fx;

	fx_init(&fx);
	host_driver_body(&fx);
	fx_cleanup(&fx);
}

static void iommu_off_body(struct fixture *fx)
{
	struct host_facts f;
	struct check_report r = { 0 };

	fx_file(fx, "sys/firmware/acpi/tables/DMAR", "DMAR");
	ASSERT_EQ(host_facts_read(&fx->sys, 0, &f), 0);
	ASSERT_TRUE(f.dmar);
	ASSERT_EQ(f.nr_iommus, 0);
	check_system(&f, false, &r);
	ASSERT_EQ(r.items[0].mark, MARK_FAIL);
	ASSERT_STR_CONTAINS(r.items[0].msg, "Intel VT-d is present but off");
	ASSERT_STR_CONTAINS(r.items[0].fix, "intel_iommu=on iommu=pt");
	ASSERT_STR_CONTAINS(r.items[0].fix, "update-grub");

	memset(&r, 0, sizeof(r));
	fx_unlink(fx, "sys/firmware/acpi/tables/DMAR");
	fx_file(fx, "sys/firmware/acpi/tables/IVRS", "IVRS");
	fx_file(fx, "proc/cmdline", "root=/dev/sda1 amd_iommu=off\n");
	host_facts_read(&fx->sys, 0, &f);
	check_system(&f, false, &r);
	ASSERT_STR_CONTAINS(r.items[0].msg, "AMD-Vi is present but the kernel command line turns it off");
	ASSERT_STR_CONTAINS(r.items[0].fix, "remove the iommu=off");
}

TEST(iommu_present_but_off)
{
	struct fixture fx;

	fx_init(&fx);
	iommu_off_body(&fx);
	fx_cleanup(&fx);
}

// Find an item by its short name.
static const struct check_item *find(const struct check_report *r, const char *name)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->items[i].name, name))
			return &r->items[i];
	return NULL;
}

static void ir_body(struct fixture *fx)
{
	struct host_facts f;
	struct check_report r = { 0 };
	const struct check_item *it;

	fx_intel_host(fx);
	/* dmar1 lacks bit 3: the kernel needs IR on every unit */
	fx_file(fx, "sys/class/iommu/dmar1/intel-iommu/ecap", "f020d7\n");
	host_facts_read(&fx->sys, 0, &f);
	ASSERT_EQ(f.ir, 0);
	check_system(&f, false, &r);
	it = find(&r, "intremap");
	ASSERT_TRUE(it);
	ASSERT_EQ(it->mark, MARK_FAIL);
	ASSERT_STR_CONTAINS(it->fix, "allow_unsafe_interrupts=1");
	fx_file(fx, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "Y\n");
	memset(&r, 0, sizeof(r));
	host_facts_read(&fx->sys, 0, &f);
	check_system(&f, false, &r);
	ASSERT_EQ(find(&r, "intremap")->mark, MARK_WARN);
	ASSERT_EQ(r.fails, 0);
	/* intremap=off on the command line wins over ecap */
	fx_file(fx, "sys/class/iommu/dmar1/intel-iommu/ecap", "f020df\n");
	fx_file(fx, "proc/cmdline", "intel_iommu=on intremap=off\n");
	host_facts_read(&fx->sys, 0, &f);
	ASSERT_EQ(f.ir, 0);
}

TEST(interrupt_remapping)
{
	struct fixture fx;

	fx_init(&fx);
	ir_body(&fx);
	fx_cleanup(&fx);
}

TEST(memlock_against_memory)
{
	struct host_facts f = { .nr_iommus = 1, .mod_vfio = true, .mod_vfio_pci = true,
				.mod_type1 = true, .ir = 1 };
	struct check_report r = { 0 };
	const struct check_item *it;

	f.memlock = 64ULL << 20;
	f.memory = 4ULL << 30;
	check_system(&f, true, &r);
	it = find(&r, "memlock");
	ASSERT_EQ(it->mark, MARK_FAIL);
	ASSERT_STR_CONTAINS(it->msg, "memlock limit 64 MiB is below the 5 GiB VFIO pins");
	ASSERT_STR_CONTAINS(it->fix, "echo '* - memlock 5242880' | sudo tee /etc/security/limits.d/ptvm.conf");
	memset(&r, 0, sizeof(r));
	f.memlock = 5ULL << 30;
	check_system(&f, true, &r);
	ASSERT_EQ(find(&r, "memlock")->mark, MARK_OK);
	memset(&r, 0, sizeof(r));
	f.memlock = 64ULL << 20;
	f.cap_ipc_lock = true;
	check_system(&f, true, &r);
	ASSERT_STR_CONTAINS(find(&r, "memlock")->msg, "CAP_IPC_LOCK");
	/* no --memory and no device: no memlock line at all */
	memset(&r, 0, sizeof(r));
	f.memory = 0;
	check_system(&f, false, &r);
	ASSERT_FALSE(find(&r, "memlock"));
}

static void hugepages_body(struct fixture *fx)
{
	struct host_facts f;
	struct check_report r = { 0 };

	fx_intel_host(fx);
	host_facts_read(&fx->sys, 16ULL << 30, &f);
	/* 4096 x 2 MiB + 2 x 1 GiB */
	ASSERT_EQ(f.hugepages_free, (8ULL << 30) + (2ULL << 30));
	check_system(&f, false, &r);
	ASSERT_EQ(find(&r, "hugepages")->mark, MARK_INFO);
	ASSERT_STR_CONTAINS(find(&r, "hugepages")->fix, "echo 8192 | sudo tee");
	memset(&r, 0, sizeof(r));
	host_facts_read(&fx->sys, 8ULL << 30, &f);
	check_system(&f, false, &r);
	ASSERT_EQ(find(&r, "hugepages")->mark, MARK_OK);
}

TEST(hugepages)
{
	struct fixture fx;

	fx_init(&fx);
	hugepages_body(&fx);
	fx_cleanup(&fx);
}

static void features_body(struct fixture *fx)
{
	struct host_facts f;
	struct host_dev_facts d;
	struct check_report r = { 0 };
	const struct check_item *it;

	fx_intel_host(fx);
	fx_dev(fx, "0000:01:00.0", 0x10de, 0x1b80, 0x030000, "vfio-pci", 1);
	fx_file(fx, "sys/bus/pci/devices/0000:01:00.0/boot_vga", "1\n");
	fx_file(fx, "sys/bus/pci/devices/0000:01:00.0/reset_method", "\n");
	host_facts_read(&fx->sys, 0, &f);
	ASSERT_EQ(host_dev_facts_read(&fx->sys, "0000:01:00.0", &d), 0);
	ASSERT_EQ(d.rebar, -1);             /* no config file: unknown */
	check_device(&f, &d, &r);
	host_dev_facts_free(&d);
	it = find(&r, "boot-vga");
	ASSERT_TRUE(it);
	ASSERT_EQ(it->mark, MARK_WARN);
	ASSERT_STR_CONTAINS(it->fix, "video=efifb:off");
	it = find(&r, "reset");
	ASSERT_EQ(it->mark, MARK_WARN);
	ASSERT_STR_CONTAINS(it->msg, "no reset method");
	it = find(&r, "rom");
	ASSERT_EQ(it->mark, MARK_WARN);     /* a GPU without ROM: guest firmware needs one */
	ASSERT_STR_CONTAINS(it->fix, "romfile=PATH");
	ASSERT_EQ(r.fails, 0);              /* none of these stops passthrough */
	ASSERT_FALSE(find(&r, "rebar"));
	/* a device file missing on /dev/vfio/1 is a problem only once bound... it is bound */
	ASSERT_TRUE(find(&r, "vfio-group") == NULL);
}

TEST(device_features)
{
	struct fixture fx;

	fx_init(&fx);
	features_body(&fx);
	fx_cleanup(&fx);
}

static void inuse_body(struct fixture *fx)
{
	struct host_facts f;
	struct host_dev_facts d;
	struct check_report r = { 0 };
	const struct check_item *it;

	fx_intel_host(fx);
	fx_disk_and_nic(fx, "0000:04:00.0", "0000:06:00.0", true);
	host_facts_read(&fx->sys, 0, &f);
	ASSERT_EQ(host_dev_facts_read(&fx->sys, "0000:04:00.0", &d), 0);
	ASSERT_STR_EQ(d.inuse, "nvme0n1p2 is mounted at /");
	ASSERT_STR_EQ(d.net_up, "");
	check_device(&f, &d, &r);
	host_dev_facts_free(&d);
	it = find(&r, "in-use");
	ASSERT_TRUE(it);
	ASSERT_EQ(it->mark, MARK_WARN);
	ASSERT_STR_CONTAINS(it->fix, "umount");
	ASSERT_EQ(host_dev_facts_read(&fx->sys, "0000:06:00.0", &d), 0);
	ASSERT_STR_EQ(d.inuse, "");
	ASSERT_STR_EQ(d.net_up, "network interface eth0 is up");
	host_dev_facts_free(&d);
	/* not mounted: nothing to say */
	fx_disk_and_nic(fx, "0000:04:00.0", "0000:06:00.0", false);
	ASSERT_EQ(host_dev_facts_read(&fx->sys, "0000:04:00.0", &d), 0);
	ASSERT_STR_EQ(d.inuse, "");
	host_dev_facts_free(&d);
}

TEST(device_in_use_by_host)
{
	struct fixture fx;

	fx_init(&fx);
	inuse_body(&fx);
	fx_cleanup(&fx);
}

TEST(ext_cap_walk)
{
	static uint8_t cfg[4096];

	memset(cfg, 0, sizeof(cfg));
	cfg[0x100] = 0x01; cfg[0x102] = 0x01; cfg[0x103] = 0x15;    /* AER, next 0x150 */
	cfg[0x150] = 0x0b; cfg[0x152] = 0x01; cfg[0x153] = 0x20;    /* VSEC, next 0x200 */
	cfg[0x200] = 0x15; cfg[0x202] = 0x01;                        /* ReBAR, end */
	ASSERT_EQ(check_find_ext_cap(cfg, sizeof(cfg), 0x15), 0x200);
	ASSERT_EQ(check_find_ext_cap(cfg, sizeof(cfg), 0x0b), 0x150);
	ASSERT_EQ(check_find_ext_cap(cfg, sizeof(cfg), 0x10), -ENOENT);
	/* only 256 bytes readable (no root): nothing found */
	ASSERT_EQ(check_find_ext_cap(cfg, 256, 0x15), -ENOENT);
	/* a chain that points to itself ends */
	cfg[0x202] = 0x01; cfg[0x203] = 0x20; cfg[0x200] = 0x02;
	ASSERT_EQ(check_find_ext_cap(cfg, sizeof(cfg), 0x15), -ENOENT);
}

TEST(cmdline_words)
{
	ASSERT_TRUE(check_cmdline_has("a iommu=pt b", "iommu=pt"));
	ASSERT_TRUE(check_cmdline_has("iommu=pt", "iommu=pt"));
	ASSERT_FALSE(check_cmdline_has("amd_iommu=pt", "iommu=pt"));
	ASSERT_FALSE(check_cmdline_has("iommu=ptx", "iommu=pt"));
	ASSERT_TRUE(check_cmdline_has("x amd_iommu=off iommu=pt", "iommu=pt"));
}

static void usage_body(struct fixture *fx)
{
	ASSERT_EQ(run_check(fx, "not-an-address", NULL, NULL), 2);
	ASSERT_EQ(run_check(fx, "--memory", "lots", NULL), 2);
	ASSERT_EQ(run_check(fx, "--help", NULL, NULL), 0);
	ASSERT_STR_CONTAINS(out, "usage: ptvm check");
}

TEST(bad_arguments)
{
	struct fixture fx;

	fx_init(&fx);
	usage_body(&fx);
	fx_cleanup(&fx);
}

int main(void)
{
	RUN(good_gpu_with_audio);
	RUN(group_shared_with_usb_controller);
	RUN(system_without_iommu);
	RUN(device_on_host_driver);
	RUN(iommu_present_but_off);
	RUN(interrupt_remapping);
	RUN(memlock_against_memory);
	RUN(hugepages);
	RUN(device_features);
	RUN(device_in_use_by_host);
	RUN(ext_cap_walk);
	RUN(cmdline_words);
	RUN(bad_arguments);
	return test_done();
}
