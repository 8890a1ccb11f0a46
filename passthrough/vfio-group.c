/*
 * The pre-open checks of a passthrough device (see vfio-group.h). The facts
 * come from passthrough/host/groups.c, shared with `ptvm check`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passthrough/host/groups.h"
#include "passthrough/vfio-group.h"

/* The fix for a device that is not on vfio-pci, as one clause. */
static void bind_hint(char *buf, size_t len, const char *bdf)
{
	snprintf(buf, len,
		 "sudo ptvm bind %s (or: echo vfio-pci > /sys/bus/pci/devices/%s/driver_override; "
		 "echo %s > /sys/bus/pci/drivers_probe after unbinding it), or add managed=on",
		 bdf, bdf, bdf);
}

/* List each blocking member as "BDF (driver)". */
static void list_blockers(const struct host_group *g, char *buf, size_t len)
{
	const struct host_dev *bl[16];
	int nb = host_group_blockers(g, bl, 16);
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < nb && i < 16 && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s (%s)", i ? ", " : "", bl[i]->bdf,
				 bl[i]->driver);
	if (nb > 16 && used < len)
		snprintf(buf + used, len - used, " and %d more", nb - 16);
}

/* The VFIO cdev name, if the kernel made one (vfio-dev/vfioN). */
static void find_cdev(const struct sysfs *s, const char *bdf, char *out, size_t len)
{
	char **names;
	int n;

	out[0] = '\0';
	if (sysfs_list(s, &names, &n, "sys/bus/pci/devices/%s/vfio-dev", bdf) < 0)
		return;
	if (n > 0)
		snprintf(out, len, "%s", names[0]);
	free(names);
}

/* Device, IOMMU, driver, group members, reserved regions: in that order. */
int vgrp_check(const struct sysfs *s, const char *bdf, struct vgrp_info *out,
	       char *err, size_t errlen)
{
	struct host_dev d;
	struct host_group g;
	char hint[384], text[4096];
	int ret;

	memset(out, 0, sizeof(*out));
	ret = host_dev_read(s, bdf, &d);
	if (ret == -ENODEV || ret == -ENOENT) {
		snprintf(err, errlen, "vfio %s: no such PCI device on this host: check the address "
			 "(lspci -D lists them)", bdf);
		return -ENOENT;
	}
	if (ret) {
		snprintf(err, errlen, "vfio %s: cannot read the device in sysfs: %s", bdf,
			 strerror(-ret));
		return ret;
	}
	if (d.group < 0) {
		snprintf(err, errlen, "vfio %s: the device has no IOMMU group, so the IOMMU is off: "
			 "enable VT-d/AMD-Vi in the firmware (BIOS) and boot the host with "
			 "intel_iommu=on or amd_iommu=on on the kernel command line", bdf);
		return -ENODEV;
	}
	if (host_driver_kind(d.driver) != DRV_VFIO) {
		bind_hint(hint, sizeof(hint), bdf);
		if (d.driver[0])
			snprintf(err, errlen, "vfio %s: the device is bound to %s, not vfio-pci: %s",
				 bdf, d.driver, hint);
		else
			snprintf(err, errlen, "vfio %s: the device is not bound to vfio-pci (no "
				 "driver): %s", bdf, hint);
		return -EBUSY;
	}
	ret = host_group_read(s, d.group, &g);
	if (ret) {
		snprintf(err, errlen, "vfio %s: cannot read IOMMU group %d: %s", bdf, d.group,
			 strerror(-ret));
		return ret;
	}
	if (host_group_verdict(&g) == GROUP_NOT_VIABLE) {
		list_blockers(&g, hint, sizeof(hint));
		snprintf(err, errlen, "vfio %s: IOMMU group %d is not viable: %s %s on host "
			 "driver(s); give the whole group to vfio-pci (sudo ptvm bind --group %s) or "
			 "pass those devices too", bdf, d.group, hint,
			 host_group_blockers(&g, NULL, 0) > 1 ? "are" : "is", bdf);
		host_group_free(&g);
		return -EBUSY;
	}
	host_group_free(&g);

	snprintf(out->dev.bdf, sizeof(out->dev.bdf), "%s", bdf);
	out->dev.group = d.group;
	out->vendor = d.vendor;
	out->device = d.device;
	find_cdev(s, bdf, out->dev.cdev, sizeof(out->dev.cdev));
	ret = sysfs_read(s, text, sizeof(text), "sys/kernel/iommu_groups/%d/reserved_regions",
			 d.group);
	if (ret < 0)
		return 0; /* older kernels: nothing known, nothing refused */
	ret = iommu_parse_reserved(text, out->reserved, IOMMU_MAX_RANGES);
	if (ret < 0) {
		snprintf(err, errlen, "vfio %s: cannot parse iommu_groups/%d/reserved_regions", bdf,
			 d.group);
		return -EINVAL;
	}
	out->nr_reserved = ret;
	return 0;
}

/* Lines of "start end flags" for BARs 0-5 (then ROM and bridge windows). */
u64 vgrp_mmio64_need(const struct sysfs *s, const char *bdf)
{
	char text[2048];
	const char *p = text;
	u64 total = 0;

	if (sysfs_read(s, text, sizeof(text), "sys/bus/pci/devices/%s/resource", bdf) < 0)
		return 0;
	for (int bar = 0; bar < 6 && *p; bar++) {
		unsigned long long start, end, flags;
		int used = 0;

		if (sscanf(p, "%llx %llx %llx%n", &start, &end, &flags, &used) != 3)
			break;
		p += used;
		while (*p == '\n' || *p == ' ')
			p++;
		/* IORESOURCE_MEM 0x200 with IORESOURCE_MEM_64 0x100000 */
		if ((flags & 0x200) && (flags & 0x100000) && end > start) {
			u64 size = end - start + 1, pow = 1;

			while (pow < size)
				pow <<= 1;
			total += pow;
		}
	}
	return total;
}
