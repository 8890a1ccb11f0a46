/*
 * The type1v2 IOMMU backend: one VFIO container (/dev/vfio/vfio) per VM;
 * each device's IOMMU group (/dev/vfio/N) joins it, so all groups share the
 * one set of DMA mappings. The IOMMU model is set when the first group is in
 * (the kernel requires a group before VFIO_SET_IOMMU).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "passthrough/iommu.h"
#include "vmm/log.h"

/* Open the container and check the API and type1v2 support. */
static int type1_open(struct iommu *io)
{
	int fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		if (e == ENOENT)
			pr_err("vfio: /dev/vfio/vfio is missing: load VFIO (modprobe vfio-pci)");
		else
			pr_err("vfio: cannot open /dev/vfio/vfio: %s", strerror(e));
		return -e;
	}
	if (ioctl(fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		pr_err("vfio: the kernel's VFIO API version is not %d", VFIO_API_VERSION);
		close(fd);
		return -EINVAL;
	}
	if (ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		pr_err("vfio: the kernel lacks the type1v2 IOMMU driver: modprobe vfio_iommu_type1");
		close(fd);
		return -ENOTSUP;
	}
	io->fd = fd;
	return 0;
}

/* The IOVA-range capability at off. The kernel aligns capabilities to 4
 * bytes only, so the 64-bit fields are copied out, not dereferenced. */
static void iova_cap(struct iommu *io, const struct vfio_iommu_type1_info *info, u32 off)
{
	const u8 *c = (const u8 *)info + off;
	size_t first = offsetof(struct vfio_iommu_type1_info_cap_iova_range, iova_ranges);
	u32 nr;

	if (off + first > info->argsz)
		return;
	memcpy(&nr, c + offsetof(struct vfio_iommu_type1_info_cap_iova_range, nr_iovas), sizeof(nr));
	for (u32 i = 0; i < nr && io->nr_valid < IOMMU_MAX_RANGES; i++) {
		struct vfio_iova_range vr;
		struct iova_range *r;

		if (off + first + (i + 1) * sizeof(vr) > info->argsz)
			break;
		memcpy(&vr, c + first + i * sizeof(vr), sizeof(vr));
		r = &io->valid[io->nr_valid++];
		r->start = vr.start;
		r->last = vr.end;
		snprintf(r->what, sizeof(r->what), "IOMMU range");
	}
}

/* Read the IOMMU's page sizes and usable IOVA ranges (capability chain). */
static void type1_get_info(struct iommu *io)
{
	struct vfio_iommu_type1_info *info;
	u32 argsz = sizeof(*info);

	for (int tries = 0; tries < 2; tries++) {
		info = calloc(1, argsz);
		if (!info)
			return;
		info->argsz = argsz;
		if (ioctl(io->fd, VFIO_IOMMU_GET_INFO, info)) {
			free(info);
			return;
		}
		if (info->argsz <= argsz)
			break;
		argsz = info->argsz;
		free(info);
		info = NULL;
	}
	if (!info)
		return;
	if (info->flags & VFIO_IOMMU_INFO_PGSIZES)
		io->pgsize_min = info->iova_pgsizes & -info->iova_pgsizes;
	if ((info->flags & VFIO_IOMMU_INFO_CAPS) && info->cap_offset) {
		u32 off = info->cap_offset;

		while (off && off + sizeof(struct vfio_info_cap_header) <= info->argsz) {
			struct vfio_info_cap_header hdr, *h = &hdr;

			memcpy(&hdr, (u8 *)info + off, sizeof(hdr));

			if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE)
				iova_cap(io, info, off);
			if (h->next <= off)
				break;
			off = h->next;
		}
	}
	free(info);
	for (int i = 0; i < io->nr_valid; i++)
		pr_debug("vfio: usable IOVA 0x%llx-0x%llx", (unsigned long long)io->valid[i].start,
			 (unsigned long long)io->valid[i].last);
}

/* Open /dev/vfio/N, check it is viable and put it in the container. */
static int group_open(struct iommu *io, const struct iommu_dev *d, struct iommu_group_ref *g)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[32];
	int fd, e;

	snprintf(path, sizeof(path), "/dev/vfio/%d", d->group);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == EACCES || e == EPERM)
			pr_err("vfio %s: permission denied on %s: run ptvm as root, or give your "
			       "user the group (chown $USER %s, or a udev rule)", d->bdf, path, path);
		else if (e == EBUSY)
			pr_err("vfio %s: %s is in use by another process (another VM?): stop it first",
			       d->bdf, path);
		else if (e == ENOENT)
			pr_err("vfio %s: %s is missing: bind the device to vfio-pci (sudo ptvm bind %s)",
			       d->bdf, path, d->bdf);
		else
			pr_err("vfio %s: cannot open %s: %s", d->bdf, path, strerror(e));
		return -e;
	}
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &st)) {
		e = errno;
		pr_err("vfio %s: VFIO_GROUP_GET_STATUS on %s: %s", d->bdf, path, strerror(e));
		close(fd);
		return -e;
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		pr_err("vfio %s: IOMMU group %d is not viable: every device in it must be on "
		       "vfio-pci or no driver (sudo ptvm bind --group %s)", d->bdf, d->group, d->bdf);
		close(fd);
		return -EBUSY;
	}
	if (ioctl(fd, VFIO_GROUP_SET_CONTAINER, &io->fd)) {
		e = errno;
		pr_err("vfio %s: cannot add group %d to the container: %s", d->bdf, d->group,
		       strerror(e));
		close(fd);
		return -e;
	}
	if (!io->iommu_set) {
		if (ioctl(io->fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
			e = errno;
			pr_err("vfio %s: VFIO_SET_IOMMU(type1v2) failed: %s", d->bdf, strerror(e));
			ioctl(fd, VFIO_GROUP_UNSET_CONTAINER);
			close(fd);
			return -e;
		}
		io->iommu_set = true;
		type1_get_info(io);
	}
	g->id = d->group;
	g->fd = fd;
	g->users = 0;
	return 0;
}

/* The group's ref, or NULL. */
static struct iommu_group_ref *group_find(struct iommu *io, int id)
{
	for (int i = 0; i < io->nr_groups; i++)
		if (io->groups[i].id == id)
			return &io->groups[i];
	return NULL;
}

/* Join the device's group (once) and get the device fd from it. */
static int type1_attach(struct iommu *io, const struct iommu_dev *d, int *out)
{
	struct iommu_group_ref *g = group_find(io, d->group);
	int fd, ret;

	if (!g) {
		if (io->nr_groups == IOMMU_MAX_GROUPS)
			return -ENOSPC;
		g = &io->groups[io->nr_groups];
		ret = group_open(io, d, g);
		if (ret)
			return ret;
		io->nr_groups++;
	}
	fd = ioctl(g->fd, VFIO_GROUP_GET_DEVICE_FD, d->bdf);
	if (fd < 0) {
		ret = -errno;
		pr_err("vfio %s: cannot get the device from group %d: %s", d->bdf, d->group,
		       strerror(-ret));
		if (!g->users) {
			ioctl(g->fd, VFIO_GROUP_UNSET_CONTAINER);
			close(g->fd);
			*g = io->groups[--io->nr_groups];
		}
		return ret;
	}
	g->users++;
	*out = fd;
	return 0;
}

/* Leave the container when the group's last device is gone. */
static void type1_detach(struct iommu *io, const struct iommu_dev *d)
{
	struct iommu_group_ref *g = group_find(io, d->group);

	if (!g || --g->users > 0)
		return;
	ioctl(g->fd, VFIO_GROUP_UNSET_CONTAINER);
	close(g->fd);
	*g = io->groups[--io->nr_groups];
}

/* Pin and map [hva, hva+size) at iova. */
static int type1_map(struct iommu *io, u64 iova, u64 size, void *hva, bool readonly)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | (readonly ? 0 : VFIO_DMA_MAP_FLAG_WRITE),
		.vaddr = (u64)(uintptr_t)hva,
		.iova = iova,
		.size = size,
	};

	return ioctl(io->fd, VFIO_IOMMU_MAP_DMA, &m) ? -errno : 0;
}

/* Unmap and unpin. */
static int type1_unmap(struct iommu *io, u64 iova, u64 size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = iova,
		.size = size,
	};

	return ioctl(io->fd, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : 0;
}

/* Close every group, then the container. */
static void type1_close(struct iommu *io)
{
	for (int i = 0; i < io->nr_groups; i++) {
		ioctl(io->groups[i].fd, VFIO_GROUP_UNSET_CONTAINER);
		close(io->groups[i].fd);
	}
	io->nr_groups = 0;
	close(io->fd);
	io->fd = -1;
}

/* KVM's VFIO device takes the group fd. */
static int type1_kvm_fd(struct iommu *io, const struct iommu_dev *d, int device_fd)
{
	struct iommu_group_ref *g = group_find(io, d->group);

	return g ? g->fd : -1;
}

const struct iommu_ops iommu_type1_ops = {
	.name = "vfio-type1v2",
	.open = type1_open,
	.attach = type1_attach,
	.detach = type1_detach,
	.map = type1_map,
	.unmap = type1_unmap,
	.close = type1_close,
	.kvm_fd = type1_kvm_fd,
};
