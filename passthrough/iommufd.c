/*
 * The iommufd IOMMU backend: one /dev/iommu fd and one IOAS per VM; each
 * device is opened through its VFIO cdev (/dev/vfio/devices/vfioN), bound to
 * the iommufd and attached to the IOAS, which holds the guest RAM mappings.
 *
 * Needs Linux 6.6+ built with IOMMUFD and VFIO_DEVICE_CDEV. Debian 12's
 * headers (linux-libc-dev 6.1) have neither linux/iommufd.h nor the cdev
 * ioctls, so the ABI used here is spelled out below when they are missing
 * (values from the kernel's include/uapi/linux/{iommufd,vfio}.h). The lab's
 * kernels are built without iommufd: this backend is compiled and chosen at
 * run time only where /dev/iommu exists; it has not run in the lab.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "passthrough/iommu.h"
#include "vmm/log.h"

#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#else
#define IOMMUFD_TYPE (';')
#define IOMMUFD_CMD_DESTROY 0x80
#define IOMMUFD_CMD_IOAS_ALLOC 0x81
#define IOMMUFD_CMD_IOAS_IOVA_RANGES 0x84
#define IOMMUFD_CMD_IOAS_MAP 0x85
#define IOMMUFD_CMD_IOAS_UNMAP 0x86

struct iommu_destroy {
	__u32 size;
	__u32 id;
};
#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY)

struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)

struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

struct iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
	__aligned_u64 out_iova_alignment;
};
#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_IOVA_RANGES)

#define IOMMU_IOAS_MAP_FIXED_IOVA (1 << 0)
#define IOMMU_IOAS_MAP_WRITEABLE (1 << 1)
#define IOMMU_IOAS_MAP_READABLE (1 << 2)
struct iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)

struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP)
#endif

/* VFIO device cdev ioctls, Linux 6.6. */
#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)

struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)
#endif

/* Open /dev/iommu and allocate the IOAS every device will share. */
static int ifd_open(struct iommu *io)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC), e;

	if (fd < 0) {
		e = errno;
		pr_err("vfio: cannot open /dev/iommu: %s", strerror(e));
		return -e;
	}
	if (ioctl(fd, IOMMU_IOAS_ALLOC, &a)) {
		e = errno;
		pr_err("vfio: IOMMU_IOAS_ALLOC failed: %s", strerror(e));
		close(fd);
		return -e;
	}
	io->fd = fd;
	io->ioas_id = a.out_ioas_id;
	return 0;
}

/* The IOAS's usable ranges shrink as devices attach: re-read after each. */
static void ifd_get_ranges(struct iommu *io)
{
	struct iommu_iova_range r[IOMMU_MAX_RANGES];
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = io->ioas_id,
		.num_iovas = IOMMU_MAX_RANGES,
		.allowed_iovas = (u64)(uintptr_t)r,
	};

	if (ioctl(io->fd, IOMMU_IOAS_IOVA_RANGES, &q))
		return;
	io->nr_valid = 0;
	for (u32 i = 0; i < q.num_iovas && i < IOMMU_MAX_RANGES; i++) {
		io->valid[i].start = r[i].start;
		io->valid[i].last = r[i].last;
		snprintf(io->valid[i].what, sizeof(io->valid[i].what), "IOAS range");
		io->nr_valid++;
	}
	io->pgsize_min = q.out_iova_alignment;
}

/* Open the cdev, bind it to our iommufd and attach it to the IOAS. */
static int ifd_attach(struct iommu *io, const struct iommu_dev *d, int *out)
{
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = io->fd };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at), .pt_id = io->ioas_id };
	char path[64];
	int fd, e;

	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", d->cdev);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == EACCES || e == EPERM)
			pr_err("vfio %s: permission denied on %s: run ptvm as root, or give your "
			       "user the device (a udev rule)", d->bdf, path);
		else
			pr_err("vfio %s: cannot open %s: %s", d->bdf, path, strerror(e));
		return -e;
	}
	if (ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &b)) {
		e = errno;
		pr_err("vfio %s: VFIO_DEVICE_BIND_IOMMUFD failed: %s", d->bdf, strerror(e));
		close(fd);
		return -e;
	}
	if (ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at)) {
		e = errno;
		pr_err("vfio %s: VFIO_DEVICE_ATTACH_IOMMUFD_PT failed: %s", d->bdf, strerror(e));
		close(fd);
		return -e;
	}
	ifd_get_ranges(io);
	*out = fd;
	return 0;
}

/* Closing the device fd detached and unbound it. */
static void ifd_detach(struct iommu *io, const struct iommu_dev *d)
{
}

/* Pin and map at a fixed IOVA. */
static int ifd_map(struct iommu *io, u64 iova, u64 size, void *hva, bool readonly)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 (readonly ? 0 : IOMMU_IOAS_MAP_WRITEABLE),
		.ioas_id = io->ioas_id,
		.user_va = (u64)(uintptr_t)hva,
		.length = size,
		.iova = iova,
	};

	return ioctl(io->fd, IOMMU_IOAS_MAP, &m) ? -errno : 0;
}

/* Unmap exactly what was mapped. */
static int ifd_unmap(struct iommu *io, u64 iova, u64 size)
{
	struct iommu_ioas_unmap u = {
		.size = sizeof(u),
		.ioas_id = io->ioas_id,
		.iova = iova,
		.length = size,
	};

	return ioctl(io->fd, IOMMU_IOAS_UNMAP, &u) ? -errno : 0;
}

/* Destroy the IOAS, close the iommufd. */
static void ifd_close(struct iommu *io)
{
	struct iommu_destroy d = { .size = sizeof(d), .id = io->ioas_id };

	ioctl(io->fd, IOMMU_DESTROY, &d);
	close(io->fd);
	io->fd = -1;
}

/* KVM's VFIO device takes the device cdev fd (KVM_DEV_VFIO_FILE_ADD). */
static int ifd_kvm_fd(struct iommu *io, const struct iommu_dev *d, int device_fd)
{
	return device_fd;
}

const struct iommu_ops iommu_iommufd_ops = {
	.name = "iommufd",
	.open = ifd_open,
	.attach = ifd_attach,
	.detach = ifd_detach,
	.map = ifd_map,
	.unmap = ifd_unmap,
	.close = ifd_close,
	.kvm_fd = ifd_kvm_fd,
};
