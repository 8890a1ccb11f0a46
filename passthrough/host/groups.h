/*
 * PCI devices and IOMMU groups as sysfs shows them, and the pure verdicts
 * on them: can the group be handed to VFIO as it stands, and who blocks it.
 */
#ifndef PTVM_HOST_GROUPS_H
#define PTVM_HOST_GROUPS_H

#include <stdbool.h>

#include "passthrough/host/sysfs.h"

#define HOST_NAME_LEN 64

struct host_dev {
	char bdf[16];                 /* "0000:01:00.0" */
	unsigned int vendor, device;
	unsigned int class;           /* 24-bit class code, 0x030000 = VGA */
	char driver[HOST_NAME_LEN];   /* "" = no driver */
	char override[HOST_NAME_LEN]; /* driver_override, "" = none */
	int group;                    /* IOMMU group number, -1 = none */
	int boot_vga;                 /* 1 or 0, -1 when the file is missing */
};

struct host_group {
	int id;
	int nr_devs;
	struct host_dev *devs;        /* sorted by address */
};

/* How a member's driver affects the group (the kernel's DMA-ownership rule). */
enum host_drv_kind {
	DRV_NONE,       /* no driver: harmless, but VFIO cannot open it */
	DRV_VFIO,       /* vfio-pci or a vfio variant driver */
	DRV_HARMLESS,   /* pci-stub, pcieport: manage no DMA, allowed in a VFIO group */
	DRV_HOST,       /* any other driver: the group is not viable */
};

enum host_group_verdict {
	GROUP_READY,      /* viable and at least one device is on vfio-pci */
	GROUP_UNBOUND,    /* viable, but no device is on a vfio driver yet */
	GROUP_NOT_VIABLE, /* a member is on a host driver */
};

/* Read one device; -ENODEV when the address does not exist. */
int host_dev_read(const struct sysfs *s, const char *bdf, struct host_dev *d);
/* Read a group's members; free with host_group_free(). -ENOENT if no such group. */
int host_group_read(const struct sysfs *s, int id, struct host_group *g);
void host_group_free(struct host_group *g);
/* All group numbers, ascending, in one malloc'd array (NULL, 0 when none). */
int host_group_ids(const struct sysfs *s, int **ids, int *n);

enum host_drv_kind host_driver_kind(const char *driver);
/* PCI-to-PCI and host bridges stay on their drivers when a group is bound. */
bool host_dev_is_bridge(const struct host_dev *d);
enum host_group_verdict host_group_verdict(const struct host_group *g);
/* Members on host drivers, i.e. why the group is not viable; count returned. */
int host_group_blockers(const struct host_group *g, const struct host_dev **out, int max);
const char *host_group_verdict_name(enum host_group_verdict v);

#endif
