/*
 * VFIO device fd wrappers (see vfio-device.h).
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "passthrough/vfio-device.h"
#include "vmm/log.h"

/* Walk a region's capability chain for the sparse-mmap list and the
 * MSI-X-mappable flag. */
static void region_caps(struct vdev_region *r, const struct vfio_region_info *info)
{
	u32 off = info->cap_offset;
	bool sparse = false;

	/* capabilities are 4-byte aligned only: copy fields out, never dereference */
	while (off && off + sizeof(struct vfio_info_cap_header) <= info->argsz) {
		const u8 *c = (const u8 *)info + off;
		struct vfio_info_cap_header hdr, *h = &hdr;

		memcpy(&hdr, c, sizeof(hdr));
		if (h->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			size_t first = offsetof(struct vfio_region_info_cap_sparse_mmap, areas);
			u32 nr = 0;

			sparse = true;
			r->nr_areas = 0;
			if (off + first <= info->argsz)
				memcpy(&nr, c + offsetof(struct vfio_region_info_cap_sparse_mmap, nr_areas),
				       sizeof(nr));
			for (u32 i = 0; i < nr && r->nr_areas < VDEV_MAX_AREAS; i++) {
				struct vfio_region_sparse_mmap_area a;

				if (off + first + (i + 1) * sizeof(a) > info->argsz)
					break;
				memcpy(&a, c + first + i * sizeof(a), sizeof(a));
				if (!a.size)
					continue;
				r->areas[r->nr_areas].off = a.offset;
				r->areas[r->nr_areas].size = a.size;
				r->nr_areas++;
			}
		} else if (h->id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) {
			r->msix_mappable = true;
		}
		if (h->next <= off)
			break;
		off = h->next;
	}
	if (!sparse && (r->flags & VFIO_REGION_INFO_FLAG_MMAP) && r->size) {
		r->areas[0].off = 0;
		r->areas[0].size = r->size;
		r->nr_areas = 1;
	}
}

/* VFIO_DEVICE_GET_REGION_INFO, growing the buffer for capabilities. */
static int region_info(struct vdev *d, u32 index)
{
	struct vfio_region_info *info;
	struct vdev_region *r = &d->regions[index];
	u32 argsz = sizeof(*info);

	for (int tries = 0; tries < 2; tries++) {
		info = calloc(1, argsz);
		if (!info)
			return -ENOMEM;
		info->argsz = argsz;
		info->index = index;
		if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, info)) {
			int e = errno;

			free(info);
			return -e;
		}
		if (info->argsz <= argsz)
			break;
		argsz = info->argsz;
		free(info);
		info = NULL;
	}
	if (!info)
		return -EIO;
	r->flags = info->flags;
	r->size = info->size;
	r->offset = info->offset;
	r->nr_areas = 0;
	if (info->flags & VFIO_REGION_INFO_FLAG_CAPS)
		region_caps(r, info);
	else if ((info->flags & VFIO_REGION_INFO_FLAG_MMAP) && info->size) {
		r->areas[0].off = 0;
		r->areas[0].size = info->size;
		r->nr_areas = 1;
	}
	free(info);
	return 0;
}

/* Device info, every PCI region and interrupt index. */
int vdev_setup(struct vdev *d, int fd, const char *name)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	memset(d, 0, sizeof(*d));
	d->fd = fd;
	d->name = name;
	if (ioctl(fd, VFIO_DEVICE_GET_INFO, &info))
		return -errno;
	if (!(info.flags & VFIO_DEVICE_FLAGS_PCI)) {
		pr_err("vfio %s: not a PCI device", name);
		return -EINVAL;
	}
	d->flags = info.flags;
	d->nr_regions = MIN(info.num_regions, VDEV_NR_REGIONS);
	d->nr_irqs = MIN(info.num_irqs, VDEV_NR_IRQS);
	for (u32 i = 0; i < d->nr_regions; i++) {
		int ret = region_info(d, i);

		/* the VGA region only exists for VGA devices */
		if (ret && i != VFIO_PCI_VGA_REGION_INDEX) {
			pr_err("vfio %s: region %u info: %s", name, i, strerror(-ret));
			return ret;
		}
	}
	for (u32 i = 0; i < d->nr_irqs; i++) {
		struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = i };

		if (ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, &irq) == 0) {
			d->irq_count[i] = irq.count;
			d->irq_flags[i] = irq.flags;
		}
	}
	return 0;
}

/* Whole transfers only. */
int vdev_read(const struct vdev *d, int region, u64 off, void *buf, size_t len)
{
	ssize_t n = pread(d->fd, buf, len, d->regions[region].offset + off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* Whole transfers only. */
int vdev_write(const struct vdev *d, int region, u64 off, const void *buf, size_t len)
{
	ssize_t n = pwrite(d->fd, buf, len, d->regions[region].offset + off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* A config read; all ones if the device does not answer (like a master abort). */
u32 vdev_cfg_read(const struct vdev *d, u16 off, int len)
{
	u8 b[4] = { 0xff, 0xff, 0xff, 0xff };
	u32 v = 0;

	if (vdev_read(d, VFIO_PCI_CONFIG_REGION_INDEX, off, b, len))
		return 0xffffffff >> (32 - 8 * len);
	for (int i = 0; i < len; i++)
		v |= (u32)b[i] << (8 * i);
	return v;
}

/* A config write; failures are logged at debug level (the kernel filters writes). */
void vdev_cfg_write(const struct vdev *d, u16 off, int len, u32 val)
{
	u8 b[4];
	int ret;

	for (int i = 0; i < len; i++)
		b[i] = val >> (8 * i);
	ret = vdev_write(d, VFIO_PCI_CONFIG_REGION_INDEX, off, b, len);
	if (ret)
		pr_debug("vfio %s: config write 0x%x/%d: %s", d->name, off, len, strerror(-ret));
}

/* Map part of a region into our address space. */
void *vdev_mmap(const struct vdev *d, int region, u64 off, u64 size)
{
	return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
		    d->regions[region].offset + off);
}

/* SET_IRQS with DATA_EVENTFD | ACTION_TRIGGER over a range of vectors. */
int vdev_irq_set_fds(const struct vdev *d, int index, int start, int count, const int *fds)
{
	size_t sz = sizeof(struct vfio_irq_set) + sizeof(int) * count;
	struct vfio_irq_set *s = calloc(1, sz);
	int ret = 0;

	if (!s)
		return -ENOMEM;
	s->argsz = sz;
	s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	s->index = index;
	s->start = start;
	s->count = count;
	memcpy(s->data, fds, sizeof(int) * count);
	if (ioctl(d->fd, VFIO_DEVICE_SET_IRQS, s))
		ret = -errno;
	free(s);
	return ret;
}

/* DATA_NONE | ACTION_TRIGGER with count 0 turns the index off. */
int vdev_irq_disable(const struct vdev *d, int index)
{
	struct vfio_irq_set s = {
		.argsz = sizeof(s),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = index,
	};

	return ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &s) ? -errno : 0;
}

/* INTx is masked by the host on each interrupt; the resample eventfd,
 * signalled by KVM at the guest's EOI, unmasks it in the kernel. */
int vdev_irq_unmask_fd(const struct vdev *d, int index, int fd)
{
	u8 buf[sizeof(struct vfio_irq_set) + sizeof(int)];
	struct vfio_irq_set *s = (void *)buf;

	memset(buf, 0, sizeof(buf));
	s->argsz = sizeof(buf);
	s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK;
	s->index = index;
	s->start = 0;
	s->count = 1;
	memcpy(s->data, &fd, sizeof(int));
	return ioctl(d->fd, VFIO_DEVICE_SET_IRQS, s) ? -errno : 0;
}

/* Unmask once (after enabling INTx, in case it fired before). */
int vdev_irq_unmask(const struct vdev *d, int index)
{
	struct vfio_irq_set s = {
		.argsz = sizeof(s),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
		.index = index,
		.count = 1,
	};

	return ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &s) ? -errno : 0;
}

/* Bus hot reset: allowed only if every affected device's group is ours. */
static int hot_reset(struct vdev *d, const int *group_fds, const int *group_ids, int nr)
{
	struct vfio_pci_hot_reset_info probe = { .argsz = sizeof(probe) };
	struct vfio_pci_hot_reset_info *info;
	struct vfio_pci_hot_reset *rs;
	size_t sz;
	int ret = 0;

	/* the first call, with no room for devices, fails with ENOSPC and the count */
	if (!ioctl(d->fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &probe) || errno != ENOSPC ||
	    !probe.count)
		return -ENOTSUP;
	sz = sizeof(*info) + probe.count * sizeof(struct vfio_pci_dependent_device);
	info = calloc(1, sz);
	if (!info)
		return -ENOMEM;
	info->argsz = sz;
	if (ioctl(d->fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info)) {
		free(info);
		return -ENOTSUP;
	}
	for (u32 i = 0; i < info->count; i++) {
		bool ours = false;

		for (int j = 0; j < nr; j++)
			if ((int)info->devices[i].group_id == group_ids[j])
				ours = true;
		if (!ours) {
			pr_debug("vfio %s: bus reset would also reset %04x:%02x:%02x.%x (group %u, "
				 "not ours)", d->name, info->devices[i].segment, info->devices[i].bus,
				 (info->devices[i].devfn >> 3) & 0x1f, info->devices[i].devfn & 7,
				 info->devices[i].group_id);
			free(info);
			return -EPERM;
		}
	}
	free(info);
	sz = sizeof(*rs) + nr * sizeof(int);
	rs = calloc(1, sz);
	if (!rs)
		return -ENOMEM;
	rs->argsz = sz;
	rs->count = nr;
	memcpy(rs->group_fds, group_fds, nr * sizeof(int));
	if (ioctl(d->fd, VFIO_DEVICE_PCI_HOT_RESET, rs))
		ret = -errno;
	free(rs);
	return ret;
}

/* Sleep ms milliseconds (PCI PM transition times). */
static void msleep(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* D3hot and back to D0 resets a function that does not set No_Soft_Reset. */
static int pm_reset(struct vdev *d, u16 pm_cap)
{
	u16 pmcsr;

	if (!pm_cap)
		return -ENOTSUP;
	pmcsr = vdev_cfg_read(d, pm_cap + PCI_PM_CTRL, 2);
	if (pmcsr == 0xffff || (pmcsr & PCI_PM_CTRL_NO_SOFT_RESET))
		return -ENOTSUP;
	vdev_cfg_write(d, pm_cap + PCI_PM_CTRL, 2, (pmcsr & ~PCI_PM_CTRL_STATE_MASK) | 3);
	msleep(10);
	vdev_cfg_write(d, pm_cap + PCI_PM_CTRL, 2, pmcsr & ~PCI_PM_CTRL_STATE_MASK);
	msleep(10);
	return 0;
}

/* The ladder; see vfio-device.h. */
int vdev_reset(struct vdev *d, const int *group_fds, const int *group_ids, int nr, u16 pm_cap)
{
	int ret;

	if (d->flags & VFIO_DEVICE_FLAGS_RESET) {
		if (ioctl(d->fd, VFIO_DEVICE_RESET) == 0) {
			pr_info("vfio %s: reset (VFIO_DEVICE_RESET: FLR or the kernel's method)",
				d->name);
			return 0;
		}
		pr_debug("vfio %s: VFIO_DEVICE_RESET: %s", d->name, strerror(errno));
	}
	if (nr > 0) {
		ret = hot_reset(d, group_fds, group_ids, nr);
		if (ret == 0) {
			pr_info("vfio %s: reset (bus hot reset)", d->name);
			return 0;
		}
	}
	if (pm_reset(d, pm_cap) == 0) {
		pr_info("vfio %s: reset (PM D3hot -> D0)", d->name);
		return 0;
	}
	return -ENOTSUP;
}
