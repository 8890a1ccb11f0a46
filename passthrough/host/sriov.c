/* `ptvm sriov BDF [--vfs N]`: sriov_numvfs, then the VFs with their groups. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passthrough/host/host-tools.h"
#include "passthrough/host/output.h"
#include "passthrough/host/sriov.h"
#include "vmm/log.h"

#define PCI_DEVS "sys/bus/pci/devices"

// The PF's counts and every VF it has now (virtfn0, virtfn1, ... links).
int sriov_read(const struct sysfs *s, const char *bdf, struct sriov_info *si)
{
	memset(si, 0, sizeof(*si));
	if (!sysfs_exists(s, PCI_DEVS "/%s", bdf))
		return -ENODEV;
	if (sysfs_read_ulong(s, &si->total, PCI_DEVS "/%s/sriov_totalvfs", bdf) < 0)
		return -ENOTSUP;
	if (sysfs_read_ulong(s, &si->num, PCI_DEVS "/%s/sriov_numvfs", bdf) < 0)
		return -ENOTSUP;
	si->vfs = calloc(SRIOV_MAX_VFS, sizeof(*si->vfs));
	if (!si->vfs)
		return -ENOMEM;
	/* by index, not by name: virtfn10 comes after virtfn9 */
	for (int i = 0; i < SRIOV_MAX_VFS && (unsigned long)i < si->total; i++) {
		char vf[32];

		if (sysfs_link_name(s, vf, sizeof(vf), PCI_DEVS "/%s/virtfn%d", bdf, i) < 0)
			break;
		if (host_dev_read(s, vf, &si->vfs[si->nr_vfs]) == 0)
			si->nr_vfs++;
	}
	return 0;
}

// Free the VF array.
void sriov_free(struct sriov_info *si)
{
	free(si->vfs);
	si->vfs = NULL;
	si->nr_vfs = 0;
}

// Write a count as the kernel reads it (decimal).
static int write_num(const struct sysfs *s, const char *bdf, unsigned long n)
{
	char v[24];

	snprintf(v, sizeof(v), "%lu", n);
	return sysfs_write(s, v, PCI_DEVS "/%s/sriov_numvfs", bdf);
}

// 0 first when moving between two non-zero counts; the old count back on failure.
int sriov_set(const struct sysfs *s, const char *bdf, unsigned long want)
{
	struct sriov_info si;
	int r;

	r = sriov_read(s, bdf, &si);
	sriov_free(&si);
	if (r < 0)
		return r;
	if (want > si.total)
		return -ERANGE;
	if (want == si.num)
		return 0;
	if (si.num && want) {
		r = write_num(s, bdf, 0);
		if (r < 0)
			return r;
	}
	r = write_num(s, bdf, want);
	if (r < 0 && si.num && want)
		write_num(s, bdf, si.num);
	return r;
}

static const char sriov_usage[] =
	"usage: ptvm sriov BDF [--vfs N] [--json] [--sysfs-root DIR]\n"
	"Create N SR-IOV virtual functions on the physical function BDF (0 removes\n"
	"them), then list the VFs with their IOMMU groups and drivers. Without\n"
	"--vfs, only list. Pass a VF through with: ptvm bind VF-BDF.\n";

// The VF table for people, or the JSON object for tools.
static void sriov_print(const struct out *o, const char *bdf, const struct sriov_info *si)
{
	static const char *const heads[] = { "VF", "ADDRESS", "GROUP", "DRIVER" };
	struct out_table t;

	if (o->json) {
		printf("{\"address\": \"%s\", \"totalvfs\": %lu, \"numvfs\": %lu, \"vfs\": [",
		       bdf, si->total, si->num);
		for (int i = 0; i < si->nr_vfs; i++) {
			printf("%s{\"index\": %d, ", i ? ", " : "", i);
			json_kv_str(stdout, true, "address", si->vfs[i].bdf);
			printf(", \"group\": %d, ", si->vfs[i].group);
			json_kv_str(stdout, true, "driver", si->vfs[i].driver);
			putchar('}');
		}
		printf("]}\n");
		return;
	}
	printf("%s: %lu of %lu VFs\n", bdf, si->num, si->total);
	if (!si->nr_vfs)
		return;
	table_init(&t, 4, heads, -1);
	for (int i = 0; i < si->nr_vfs; i++) {
		char idx[16], grp[16];
		const char *cells[4] = { idx, si->vfs[i].bdf, grp,
					 si->vfs[i].driver[0] ? si->vfs[i].driver : "-" };

		snprintf(idx, sizeof(idx), "%d", i);
		if (si->vfs[i].group < 0)
			snprintf(grp, sizeof(grp), "-");
		else
			snprintf(grp, sizeof(grp), "%d", si->vfs[i].group);
		table_add(&t, MARK_NONE, cells);
	}
	table_print(o, &t, "  ");
	table_free(&t);
}

// ptvm sriov: set the count if asked, then list.
int host_run_sriov(struct host_opts *op)
{
	struct host_opts o = *op;
	struct sriov_info si;
	struct out out;
	const char *bdf;
	int r;

	if (o.nr_bdfs != 1) {
		pr_err("give one physical function: ptvm sriov BDF [--vfs N]");
		return 2;
	}
	bdf = o.bdfs[0];
	if (o.vfs >= 0) {
		r = sriov_set(&o.sys, bdf, (unsigned long)o.vfs);
		if (r == -ERANGE) {
			sriov_read(&o.sys, bdf, &si);
			pr_err("%s supports at most %lu VFs: use --vfs 0..%lu", bdf, si.total, si.total);
			sriov_free(&si);
			return 1;
		}
		if (r == -EACCES || r == -EPERM) {
			pr_err("cannot write %s/sriov_numvfs: run as root (sudo ptvm sriov %s --vfs %ld)",
			       bdf, bdf, o.vfs);
			return 1;
		}
		if (r < 0 && r != -ENODEV && r != -ENOTSUP) {
			pr_err("%s: the kernel refused %ld VFs (%s): see 'dmesg | tail'", bdf, o.vfs,
			       strerror(-r));
			return 1;
		}
	}
	r = sriov_read(&o.sys, bdf, &si);
	if (r == -ENODEV) {
		pr_err("no PCI device %s: list the devices with 'ptvm groups'", bdf);
		return 1;
	}
	if (r == -ENOTSUP) {
		pr_err("%s has no SR-IOV capability (no sriov_totalvfs): pick its physical "
		       "function, see 'lspci -vs %s'", bdf, bdf);
		return 1;
	}
	if (r < 0) {
		pr_err("%s: reading SR-IOV state failed (%s)", bdf, strerror(-r));
		return 1;
	}
	out_init(&out, stdout, o.json);
	sriov_print(&out, bdf, &si);
	sriov_free(&si);
	return 0;
}

// Parse, then host_run_sriov().
int cmd_sriov(int argc, char **argv)
{
	struct host_opts o;
	int r = host_opts_parse(&o, argc, argv, HOST_OPT_BDFS | HOST_OPT_VFS, sriov_usage);

	if (r)
		return r > 0 ? 0 : 2;
	return host_run_sriov(&o);
}
