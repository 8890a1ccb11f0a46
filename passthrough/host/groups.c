/* Reading PCI devices and IOMMU groups from sysfs, and judging groups. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passthrough/host/groups.h"
#include "passthrough/host/host-tools.h"
#include "passthrough/host/output.h"
#include "passthrough/host/pciids.h"
#include "vmm/log.h"

#define PCI_DEVS "sys/bus/pci/devices"
#define GROUPS "sys/kernel/iommu_groups"

// Everything about one device that the verdicts use; missing files leave defaults.
int host_dev_read(const struct sysfs *s, const char *bdf, struct host_dev *d)
{
	unsigned long v;
	char grp[32];
	int r;

	memset(d, 0, sizeof(*d));
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	d->group = -1;
	d->boot_vga = -1;
	if (!sysfs_exists(s, PCI_DEVS "/%s", bdf))
		return -ENODEV;
	if (sysfs_read_ulong(s, &v, PCI_DEVS "/%s/vendor", bdf) == 0)
		d->vendor = v;
	if (sysfs_read_ulong(s, &v, PCI_DEVS "/%s/device", bdf) == 0)
		d->device = v;
	if (sysfs_read_ulong(s, &v, PCI_DEVS "/%s/class", bdf) == 0)
		d->class = v;
	if (sysfs_read_ulong(s, &v, PCI_DEVS "/%s/boot_vga", bdf) == 0)
		d->boot_vga = v != 0;
	r = sysfs_link_name(s, d->driver, sizeof(d->driver), PCI_DEVS "/%s/driver", bdf);
	if (r < 0 && r != -ENOENT)
		return r;
	/* the kernel shows an unset override as "(null)" */
	sysfs_read(s, d->override, sizeof(d->override), PCI_DEVS "/%s/driver_override", bdf);
	if (!strcmp(d->override, "(null)"))
		d->override[0] = '\0';
	if (sysfs_link_name(s, grp, sizeof(grp), PCI_DEVS "/%s/iommu_group", bdf) == 0)
		d->group = atoi(grp);
	return 0;
}

// Members from iommu_groups/N/devices (names only; the links are not followed).
int host_group_read(const struct sysfs *s, int id, struct host_group *g)
{
	char **names;
	int n, r, k = 0;

	memset(g, 0, sizeof(*g));
	g->id = id;
	r = sysfs_list(s, &names, &n, GROUPS "/%d/devices", id);
	if (r < 0)
		return r;
	g->devs = calloc(n ? n : 1, sizeof(*g->devs));
	if (!g->devs) {
		free(names);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		char bdf[16];

		if (host_parse_bdf(names[i], bdf) < 0)
			continue;       /* not a PCI device (platform devices can share groups) */
		if (host_dev_read(s, bdf, &g->devs[k]) == 0) {
			g->devs[k].group = id;
			k++;
		}
	}
	g->nr_devs = k;
	free(names);
	return 0;
}

// Free the members; the group can be read again.
void host_group_free(struct host_group *g)
{
	free(g->devs);
	g->devs = NULL;
	g->nr_devs = 0;
}

// qsort comparator for ints.
static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

// Group directories are numbers; sort them numerically, not as names.
int host_group_ids(const struct sysfs *s, int **ids, int *n)
{
	char **names, *end;
	int cnt, r, k = 0;

	*ids = NULL;
	*n = 0;
	r = sysfs_list(s, &names, &cnt, GROUPS);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (cnt == 0) {
		free(names);
		return 0;
	}
	*ids = malloc(cnt * sizeof(int));
	if (!*ids) {
		free(names);
		return -ENOMEM;
	}
	for (int i = 0; i < cnt; i++) {
		long v = strtol(names[i], &end, 10);

		if (*end == '\0' && end != names[i] && v >= 0)
			(*ids)[k++] = (int)v;
	}
	free(names);
	qsort(*ids, k, sizeof(int), cmp_int);
	*n = k;
	return 0;
}

// Since Linux 5.19 the rule is DMA ownership: drivers that set driver_managed_dma
// (vfio-pci and its variants, pci-stub, pcieport) may share a group with VFIO.
enum host_drv_kind host_driver_kind(const char *driver)
{
	if (!driver || !*driver)
		return DRV_NONE;
	if (strstr(driver, "vfio"))
		return DRV_VFIO;
	if (!strcmp(driver, "pci-stub") || !strcmp(driver, "pcieport"))
		return DRV_HARMLESS;
	return DRV_HOST;
}

// Class 06 04 (PCI-to-PCI) and 06 00 (host bridge).
bool host_dev_is_bridge(const struct host_dev *d)
{
	unsigned int cls = d->class >> 8;

	return cls == 0x0604 || cls == 0x0600;
}

// Members on host drivers, in address order.
int host_group_blockers(const struct host_group *g, const struct host_dev **out, int max)
{
	int k = 0;

	for (int i = 0; i < g->nr_devs; i++) {
		if (host_driver_kind(g->devs[i].driver) != DRV_HOST)
			continue;
		if (k < max)
			out[k] = &g->devs[i];
		k++;
	}
	return k;
}

// Pure: depends only on the members' drivers.
enum host_group_verdict host_group_verdict(const struct host_group *g)
{
	bool any_vfio = false;

	if (host_group_blockers(g, NULL, 0) > 0)
		return GROUP_NOT_VIABLE;
	for (int i = 0; i < g->nr_devs; i++)
		if (host_driver_kind(g->devs[i].driver) == DRV_VFIO)
			any_vfio = true;
	return any_vfio ? GROUP_READY : GROUP_UNBOUND;
}

// Short words for the table and JSON.
const char *host_group_verdict_name(enum host_group_verdict v)
{
	switch (v) {
	case GROUP_READY: return "ready";
	case GROUP_UNBOUND: return "viable, not bound";
	case GROUP_NOT_VIABLE: return "not viable";
	}
	return "?";
}

static const char groups_usage[] =
	"usage: ptvm groups [--json] [--sysfs-root DIR]\n"
	"Every IOMMU group with its devices (address, class, names from pci.ids,\n"
	"driver) and whether the group can be passed through as it stands:\n"
	"  ready              viable, and a device in it is on vfio-pci\n"
	"  viable, not bound  nothing blocks it: ptvm bind --group BDF\n"
	"  not viable         a member is on a host driver (named in the table)\n";

// The status cell of a group's first row: the verdict, and who blocks it.
static void group_status(const struct host_group *g, char *buf, size_t len)
{
	const struct host_dev *bl[8];
	int nb = host_group_blockers(g, bl, 8);
	size_t used;

	used = snprintf(buf, len, "%s", host_group_verdict_name(host_group_verdict(g)));
	for (int i = 0; i < nb && i < 8 && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s on %s", i ? ", " : ": ",
				 bl[i]->bdf, bl[i]->driver);
}

// One group in JSON, members included.
static void group_json(FILE *f, const struct host_group *g, const struct pciids *ids, bool first)
{
	const struct host_dev *bl[32];
	int nb = host_group_blockers(g, bl, 32);
	enum host_group_verdict v = host_group_verdict(g);

	fprintf(f, "%s\n  {\"group\": %d, ", first ? "" : ",", g->id);
	json_kv_str(f, true, "status", host_group_verdict_name(v));
	fprintf(f, ", \"viable\": %s, \"ready\": %s, \"blockers\": [",
		v != GROUP_NOT_VIABLE ? "true" : "false", v == GROUP_READY ? "true" : "false");
	for (int i = 0; i < nb && i < 32; i++) {
		fputs(i ? ", " : "", f);
		json_str(f, bl[i]->bdf);
	}
	fputs("], \"devices\": [", f);
	for (int i = 0; i < g->nr_devs; i++) {
		const struct host_dev *d = &g->devs[i];
		char name[256], hex[16];

		fprintf(f, "%s\n    {", i ? "," : "");
		json_kv_str(f, true, "address", d->bdf);
		snprintf(hex, sizeof(hex), "%06x", d->class);
		json_kv_str(f, false, "class", hex);
		json_kv_str(f, false, "class_name", pciids_class(ids, d->class, name, sizeof(name)));
		snprintf(hex, sizeof(hex), "%04x", d->vendor);
		json_kv_str(f, false, "vendor", hex);
		json_kv_str(f, false, "vendor_name", pciids_vendor(ids, d->vendor, name, sizeof(name)));
		snprintf(hex, sizeof(hex), "%04x", d->device);
		json_kv_str(f, false, "device", hex);
		json_kv_str(f, false, "device_name",
			    pciids_device(ids, d->vendor, d->device, name, sizeof(name)));
		json_kv_str(f, false, "driver", d->driver);
		fputc('}', f);
	}
	fputs("]}", f);
}

// Rows of one group in the human table; the group number and status on its first row.
static void group_rows(struct out_table *t, const struct host_group *g, const struct pciids *ids)
{
	enum host_group_verdict v = host_group_verdict(g);
	enum out_mark m = v == GROUP_READY ? MARK_OK : v == GROUP_NOT_VIABLE ? MARK_FAIL : MARK_WARN;
	char num[16], status[400];

	snprintf(num, sizeof(num), "%d", g->id);
	group_status(g, status, sizeof(status));
	for (int i = 0; i < g->nr_devs; i++) {
		const struct host_dev *d = &g->devs[i];
		char cls[128], ven[128], dev[128], names[300];
		const char *cells[6] = { i ? "" : num, d->bdf, cls, names,
					 d->driver[0] ? d->driver : "-", i ? "" : status };

		if (!*pciids_class(ids, d->class, cls, sizeof(cls)))
			snprintf(cls, sizeof(cls), "%06x", d->class);
		pciids_vendor(ids, d->vendor, ven, sizeof(ven));
		pciids_device(ids, d->vendor, d->device, dev, sizeof(dev));
		snprintf(names, sizeof(names), "%s%s%s%s[%04x:%04x]", ven, *ven && *dev ? " " : "",
			 dev, *ven || *dev ? " " : "", d->vendor, d->device);
		table_add(t, m, cells);
	}
}

// ptvm groups: one table (or JSON) of every group; exit 1 when there are none.
int cmd_groups(int argc, char **argv)
{
	static const char *const heads[] = { "GROUP", "ADDRESS", "CLASS", "DEVICE", "DRIVER",
					     "STATUS" };
	struct host_opts o;
	struct out_table t;
	struct pciids ids;
	struct out out;
	int *gids, n, r;

	r = host_opts_parse(&o, argc, argv, 0, groups_usage);
	if (r)
		return r > 0 ? 0 : 2;
	r = host_group_ids(&o.sys, &gids, &n);
	if (r < 0) {
		pr_err("cannot list /sys/kernel/iommu_groups (%s)", strerror(-r));
		return 1;
	}
	pciids_load(&ids, &o.sys);
	out_init(&out, stdout, o.json);
	if (!ids.data && !o.json)
		pr_warn("no pci.ids: names are missing; fix: sudo apt-get install pci.ids");
	table_init(&t, 6, heads, 5);
	if (o.json)
		fputs("{\"groups\": [", stdout);
	for (int i = 0; i < n; i++) {
		struct host_group g;

		if (host_group_read(&o.sys, gids[i], &g) < 0)
			continue;
		if (o.json)
			group_json(stdout, &g, &ids, i == 0);
		else
			group_rows(&t, &g, &ids);
		host_group_free(&g);
	}
	if (o.json)
		fputs("]}\n", stdout);
	else if (n)
		table_print(&out, &t, "");
	table_free(&t);
	pciids_free(&ids);
	free(gids);
	if (n == 0) {
		pr_err("no IOMMU groups: the IOMMU is off or missing; run 'ptvm check' for the fix");
		return 1;
	}
	return 0;
}
