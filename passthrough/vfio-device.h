/*
 * One VFIO device fd: its regions (BARs, ROM, config), interrupts and reset.
 * Thin wrappers over the VFIO device ioctls; no PCI policy here.
 */
#ifndef PTVM_VFIO_DEVICE_H
#define PTVM_VFIO_DEVICE_H

#include <sys/types.h>

#include "vmm/common.h"

#define VDEV_NR_REGIONS 9   /* BAR0-5, ROM, config, VGA */
#define VDEV_NR_IRQS 5      /* INTx, MSI, MSI-X, ERR, REQ */
#define VDEV_MAX_AREAS 8

struct vdev_area {
	u64 off, size;      /* mmap-able part of a region */
};

struct vdev_region {
	u32 flags;          /* VFIO_REGION_INFO_FLAG_* */
	u64 size, offset;   /* offset: where the region sits in the device fd */
	/* mmap-able parts: the whole region, the sparse list, or none */
	struct vdev_area areas[VDEV_MAX_AREAS];
	int nr_areas;
	bool msix_mappable; /* the MSI-X table in it may be mmapped too */
};

struct vdev {
	const char *name;   /* the host address, for messages */
	int fd;
	u32 flags;          /* VFIO_DEVICE_FLAGS_* */
	u32 nr_regions, nr_irqs;
	struct vdev_region regions[VDEV_NR_REGIONS];
	u32 irq_count[VDEV_NR_IRQS]; /* vectors per index, 0 if none */
	u32 irq_flags[VDEV_NR_IRQS];
};

/* Read the device, region and irq infos of an opened device fd. */
int vdev_setup(struct vdev *d, int fd, const char *name);
/* pread/pwrite in a region; 0 or -errno (short transfers are -EIO). */
int vdev_read(const struct vdev *d, int region, u64 off, void *buf, size_t len);
int vdev_write(const struct vdev *d, int region, u64 off, const void *buf, size_t len);
/* Config space helpers on the config region (little-endian values). */
u32 vdev_cfg_read(const struct vdev *d, u16 off, int len);
void vdev_cfg_write(const struct vdev *d, u16 off, int len, u32 val);
/* mmap [off, off+size) of a region read/write, shared; MAP_FAILED on error. */
void *vdev_mmap(const struct vdev *d, int region, u64 off, u64 size);

/* VFIO_DEVICE_SET_IRQS: vectors start..start+count-1 of index get the
 * eventfds fds (-1 = none). count 0 disables the index. */
int vdev_irq_set_fds(const struct vdev *d, int index, int start, int count, const int *fds);
int vdev_irq_disable(const struct vdev *d, int index);
/* INTx: unmask through fd (the KVM resample eventfd), or once by hand. */
int vdev_irq_unmask_fd(const struct vdev *d, int index, int fd);
int vdev_irq_unmask(const struct vdev *d, int index);

/*
 * Reset down the ladder: VFIO_DEVICE_RESET (FLR, PM, or the kernel's device
 * method), then a bus hot reset when every affected group is one of ours
 * (group_fds, nr), then a PM D3hot->D0 cycle through config space (pm_cap,
 * 0 if none). Logs which ran; returns 0, or -ENOTSUP if the device has no
 * method (logged once as a warning).
 */
int vdev_reset(struct vdev *d, const int *group_fds, const int *group_ids, int nr, u16 pm_cap);

#endif
