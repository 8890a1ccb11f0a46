/*
 * The IOMMU behind passed-through devices: one backend object per VM, shared
 * by every device (one type1 container, or one iommufd IOAS), so guest RAM is
 * pinned and mapped once however many devices and groups there are.
 *
 * Guest RAM reaches the IOMMU through a struct mem_listener on vm->mem: every
 * MEM_RAM region is mapped at IOVA = guest-physical address, read/write, as
 * one mapping per region (the largest contiguous chunk), and unmapped when
 * the region goes. Registering the listener replays the existing RAM, so
 * iommu_map_guest() maps it all before the vCPUs start.
 *
 * Backends: vfio-container.c (type1v2: /dev/vfio/vfio + groups) and
 * iommufd.c (/dev/iommu + IOAS + VFIO device cdevs, Linux 6.6+). The choice
 * is automatic: iommufd when /dev/iommu and the device's cdev exist.
 */
#ifndef PTVM_IOMMU_H
#define PTVM_IOMMU_H

#include "vmm/common.h"
#include "vmm/memory.h"

#define IOMMU_MAX_RANGES 32
#define IOMMU_MAX_GROUPS 16

struct iova_range {
	u64 start, last; /* inclusive */
	char what[24];   /* for messages: "msi", "reserved", "direct", "IOMMU limit" */
};

struct iommu;

/* What a backend needs to know about a device to attach it. */
struct iommu_dev {
	char bdf[16];
	int group;      /* IOMMU group number */
	char cdev[32];  /* "vfio3" when /dev/vfio/devices/vfio3 exists, else "" */
};

struct iommu_ops {
	const char *name;
	/* Open the container / iommufd and its IOAS. */
	int (*open)(struct iommu *io);
	/* Make the device's DMA go through this IOMMU and return its VFIO device fd
	 * in *fd (type1: the group joins the container; iommufd: bind + attach). */
	int (*attach)(struct iommu *io, const struct iommu_dev *d, int *fd);
	/* Undo attach for a device whose fd the caller has closed. */
	void (*detach)(struct iommu *io, const struct iommu_dev *d);
	int (*map)(struct iommu *io, u64 iova, u64 size, void *hva, bool readonly);
	int (*unmap)(struct iommu *io, u64 iova, u64 size);
	void (*close)(struct iommu *io);
	/* The fd to give KVM's VFIO device for this device (group or device fd);
	 * -1 if none. */
	int (*kvm_fd)(struct iommu *io, const struct iommu_dev *d, int device_fd);
};

struct iommu_group_ref {
	int id;
	int fd;
	int users;
};

struct iommu {
	const struct iommu_ops *ops;
	struct mem_listener listener;
	struct mem_map *mem;   /* set while the listener is registered */
	int fd;                /* container or iommufd, -1 when closed */
	u32 ioas_id;           /* iommufd only */
	bool iommu_set;        /* type1: VFIO_SET_IOMMU done */
	u64 pgsize_min;        /* smallest IOMMU page, from the kernel */
	/* usable IOVA ranges from the kernel (nr_valid 0: not reported) */
	struct iova_range valid[IOMMU_MAX_RANGES];
	int nr_valid;
	/* reserved ranges from every attached group's reserved_regions */
	struct iova_range reserved[IOMMU_MAX_RANGES];
	int nr_reserved;
	struct iommu_group_ref groups[IOMMU_MAX_GROUPS]; /* type1 */
	int nr_groups;
	u64 mapped;            /* bytes currently mapped */
	int nr_maps;
};

extern const struct iommu_ops iommu_type1_ops;
extern const struct iommu_ops iommu_iommufd_ops;

/* Pick the backend (iommufd if /dev/iommu exists and d has a cdev, else
 * type1) and open it. The error was printed. */
int iommu_open(struct iommu *io, const struct iommu_dev *first);
void iommu_close(struct iommu *io);
/* Add reserved ranges (a group's reserved_regions) to the refusal list. */
void iommu_add_reserved(struct iommu *io, const struct iova_range *r, int n);
/*
 * Check memlock for all RAM in m (raising RLIMIT_MEMLOCK when allowed), check
 * every RAM region against the usable and reserved IOVA ranges, then register
 * the listener, which maps all RAM now and follows later changes. Logs the
 * time taken. The error was printed.
 */
int iommu_map_guest(struct iommu *io, struct mem_map *m);
/* Unregister the listener: unmaps everything. */
void iommu_unmap_guest(struct iommu *io);

/* ---- pure helpers, unit-tested ---- */

/*
 * Can [gpa, gpa+size) be mapped? 0, or -EINVAL with one line in err naming the
 * range it hits (reserved) or leaves (valid, when nr_valid > 0).
 */
int iommu_check_range(const struct iova_range *valid, int nr_valid,
		      const struct iova_range *reserved, int nr_reserved,
		      u64 gpa, u64 size, char *err, size_t errlen);
/*
 * The memlock verdict for need bytes of pinned RAM with the limits cur/max
 * (RLIM_INFINITY allowed) and whether CAP_IPC_LOCK is held: 0 if enough,
 * 1 if raising the soft limit to need suffices, -ENOMEM if it cannot be
 * granted (err then says how much and how: ulimit -l, limits.conf, systemd).
 */
int iommu_memlock_verdict(u64 need, u64 cur, u64 max, bool cap_ipc_lock,
			  char *err, size_t errlen);
/* Parse a reserved_regions file ("0x.. 0x.. msi" lines). Count or -EINVAL.
 * direct-relaxable lines are skipped: the kernel lets VFIO map over them. */
int iommu_parse_reserved(const char *text, struct iova_range *r, int max);

#endif
