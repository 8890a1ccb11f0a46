/* SR-IOV virtual functions: how many, create/remove, and where they landed. */
#ifndef PTVM_HOST_SRIOV_H
#define PTVM_HOST_SRIOV_H

#include "passthrough/host/groups.h"
#include "passthrough/host/sysfs.h"

#define SRIOV_MAX_VFS 256

struct sriov_info {
	unsigned long total, num;   /* sriov_totalvfs, sriov_numvfs */
	int nr_vfs;                 /* virtfnN links found */
	struct host_dev *vfs;       /* by VF index; malloc'd */
};

/* -ENOTSUP when the device has no SR-IOV capability, -ENODEV when absent. */
int sriov_read(const struct sysfs *s, const char *bdf, struct sriov_info *si);
void sriov_free(struct sriov_info *si);
/*
 * Make sriov_numvfs = want. The kernel takes a new count only from 0, so a
 * change between two non-zero counts writes 0 first; if the second write
 * fails the old count is written back.
 */
int sriov_set(const struct sysfs *s, const char *bdf, unsigned long want);

#endif
