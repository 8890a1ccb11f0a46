/*
 * Before anything is opened: can this host device be passed through? Reads
 * sysfs only (through a struct sysfs root, so tests use a fake tree) and
 * gives one verdict with one line saying what is wrong and how to fix it:
 * no such device, no IOMMU, not on vfio-pci, a group that is not viable
 * (each offending member and its driver listed). Nothing on the host changes.
 */
#ifndef PTVM_VFIO_GROUP_H
#define PTVM_VFIO_GROUP_H

#include <stddef.h>

#include "passthrough/iommu.h"
#include "passthrough/host/sysfs.h"

struct vgrp_info {
	struct iommu_dev dev;      /* bdf, group, cdev ("vfioN" or "") */
	unsigned int vendor, device;
	struct iova_range reserved[IOMMU_MAX_RANGES]; /* the group's reserved_regions */
	int nr_reserved;
};

/*
 * 0 and *out filled, or -errno and one line in err (without the "ptvm: "
 * prefix): -ENOENT no such device, -ENODEV no IOMMU group (IOMMU off),
 * -EBUSY not bound to vfio-pci or group not viable, -EINVAL unreadable
 * reserved_regions.
 */
int vgrp_check(const struct sysfs *s, const char *bdf, struct vgrp_info *out,
	       char *err, size_t errlen);

/*
 * Bytes of 64-bit memory BARs the device has (from its sysfs resource file),
 * each rounded up to a power of two: what the guest's 64-bit window must
 * hold for it. 0 if none or unreadable.
 */
u64 vgrp_mmio64_need(const struct sysfs *s, const char *bdf);

#endif
