/*
 * Backend-independent IOMMU code (see iommu.h): backend choice, the guest RAM
 * listener, memlock and IOVA range checks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "passthrough/iommu.h"
#include "vmm/log.h"

/* The usable/reserved range check, pure. */
int iommu_check_range(const struct iova_range *valid, int nr_valid,
		      const struct iova_range *reserved, int nr_reserved,
		      u64 gpa, u64 size, char *err, size_t errlen)
{
	u64 last = gpa + size - 1;
	bool inside = nr_valid == 0;

	for (int i = 0; i < nr_valid; i++)
		if (gpa >= valid[i].start && last <= valid[i].last)
			inside = true;
	if (!inside) {
		snprintf(err, errlen,
			 "guest RAM at 0x%" PRIx64 "-0x%" PRIx64 " is outside the IOMMU's usable "
			 "addresses (the host IOMMU has fewer address bits): give the guest less memory",
			 gpa, last);
		return -EINVAL;
	}
	for (int i = 0; i < nr_reserved; i++) {
		const struct iova_range *r = &reserved[i];

		if (gpa <= r->last && r->start <= last) {
			snprintf(err, errlen,
				 "guest RAM at 0x%" PRIx64 "-0x%" PRIx64 " overlaps the host's %s region "
				 "0x%" PRIx64 "-0x%" PRIx64 " (iommu_groups/*/reserved_regions), where the "
				 "device cannot do DMA: give the guest less memory",
				 gpa, last, r->what, r->start, r->last);
			return -EINVAL;
		}
	}
	return 0;
}

/* Memlock: VFIO pins every guest page and charges it to RLIMIT_MEMLOCK
 * unless the process has CAP_IPC_LOCK. */
int iommu_memlock_verdict(u64 need, u64 cur, u64 max, bool cap_ipc_lock,
			  char *err, size_t errlen)
{
	u64 kib = (need + 1023) / 1024;

	if (cap_ipc_lock || cur == (u64)RLIM_INFINITY || cur >= need)
		return 0;
	if (max == (u64)RLIM_INFINITY || max >= need)
		return 1;
	snprintf(err, errlen,
		 "passthrough pins all guest RAM: %" PRIu64 " MiB of locked memory needed but "
		 "RLIMIT_MEMLOCK allows %" PRIu64 " MiB: run ptvm as root, or raise the limit "
		 "(ulimit -l %" PRIu64 ", a memlock line in /etc/security/limits.conf, or "
		 "LimitMEMLOCK= in the systemd unit)",
		 (u64)((need + MiB - 1) / MiB), (u64)(cur / MiB), kib);
	return -ENOMEM;
}

/* One "start last type" line per region; types other than direct-relaxable
 * refuse guest RAM. */
int iommu_parse_reserved(const char *text, struct iova_range *r, int max)
{
	int n = 0;

	while (*text) {
		unsigned long long s, l;
		char type[24];
		int used = 0;

		while (*text == '\n' || *text == ' ')
			text++;
		if (!*text)
			break;
		if (sscanf(text, "%llx %llx %23s%n", &s, &l, type, &used) != 3 || l < s)
			return -EINVAL;
		text += used;
		if (!strcmp(type, "direct-relaxable"))
			continue;
		if (n >= max)
			return -ENOSPC;
		r[n].start = s;
		r[n].last = l;
		snprintf(r[n].what, sizeof(r[n].what), "%s", type);
		n++;
	}
	return n;
}

/* iommufd needs /dev/iommu and the device's VFIO cdev (Linux 6.6+ with
 * CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV). */
static bool iommufd_usable(const struct iommu_dev *d)
{
	char path[64];

	if (!d->cdev[0] || access("/dev/iommu", R_OK | W_OK))
		return false;
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", d->cdev);
	return access(path, R_OK | W_OK) == 0;
}

/* Choose and open the backend. */
int iommu_open(struct iommu *io, const struct iommu_dev *first)
{
	int ret;

	memset(io, 0, sizeof(*io));
	io->fd = -1;
	io->ops = iommufd_usable(first) ? &iommu_iommufd_ops : &iommu_type1_ops;
	ret = io->ops->open(io);
	if (ret == 0)
		pr_info("vfio: IOMMU backend %s", io->ops->name);
	return ret;
}

/* Close the backend (the listener must be gone). */
void iommu_close(struct iommu *io)
{
	if (io->ops && io->fd >= 0)
		io->ops->close(io);
	io->fd = -1;
}

/* Collect reserved ranges, skipping duplicates (groups share the MSI window). */
void iommu_add_reserved(struct iommu *io, const struct iova_range *r, int n)
{
	for (int i = 0; i < n; i++) {
		bool dup = false;

		for (int j = 0; j < io->nr_reserved; j++)
			if (io->reserved[j].start == r[i].start && io->reserved[j].last == r[i].last)
				dup = true;
		if (!dup && io->nr_reserved < IOMMU_MAX_RANGES)
			io->reserved[io->nr_reserved++] = r[i];
	}
}

/* The listener takes guest RAM only: BARs of other devices (peer-to-peer) and
 * firmware ROM are not DMA targets here. */
static bool listener_wants(struct mem_listener *l, const struct mem_region *r)
{
	return r->kind == MEM_RAM;
}

/* Map one RAM region at IOVA = GPA, after the range checks. */
static int listener_add(struct mem_listener *l, struct mem_region *r)
{
	struct iommu *io = l->opaque;
	char err[384];
	int ret;

	ret = iommu_check_range(io->valid, io->nr_valid, io->reserved, io->nr_reserved,
				r->gpa, r->size, err, sizeof(err));
	if (ret) {
		pr_err("vfio: %s", err);
		return ret;
	}
	ret = io->ops->map(io, r->gpa, r->size, r->hva, r->flags & MEM_F_READONLY);
	if (ret) {
		pr_err("vfio: cannot map guest RAM 0x%" PRIx64 "+0x%" PRIx64 " into the IOMMU (%s): "
		       "check dmesg and the memlock limit", r->gpa, r->size, strerror(-ret));
		return ret;
	}
	io->mapped += r->size;
	io->nr_maps++;
	pr_debug("vfio: mapped %s 0x%" PRIx64 "+0x%" PRIx64, r->name ? r->name : "RAM",
		 r->gpa, r->size);
	return 0;
}

/* Unmap a region that leaves the guest map. */
static void listener_del(struct mem_listener *l, struct mem_region *r)
{
	struct iommu *io = l->opaque;
	int ret = io->ops->unmap(io, r->gpa, r->size);

	if (ret)
		pr_warn("vfio: unmapping 0x%" PRIx64 "+0x%" PRIx64 " failed: %s", r->gpa, r->size,
			strerror(-ret));
	else {
		io->mapped -= r->size;
		io->nr_maps--;
	}
}

/* CAP_IPC_LOCK is bit 14 of CapEff in /proc/self/status. */
static bool have_cap_ipc_lock(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	bool cap = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;

		if (sscanf(line, "CapEff: %llx", &v) == 1)
			cap = v & (1ULL << 14);
	}
	fclose(f);
	return cap;
}

/* Raise RLIMIT_MEMLOCK to cover need bytes, or explain how. */
static int memlock_prepare(u64 need)
{
	struct rlimit rl;
	char err[512];
	int v;

	if (getrlimit(RLIMIT_MEMLOCK, &rl))
		return 0;
	v = iommu_memlock_verdict(need, rl.rlim_cur, rl.rlim_max, have_cap_ipc_lock(), err,
				  sizeof(err));
	if (v == 1) {
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
			pr_info("vfio: raised RLIMIT_MEMLOCK to %" PRIu64 " MiB", (u64)(need / MiB));
			return 0;
		}
		v = -ENOMEM;
	}
	if (v < 0) {
		pr_err("vfio: %s", err);
		return v;
	}
	return 0;
}

/* Check, then map all RAM through the listener (replay), timing it. */
int iommu_map_guest(struct iommu *io, struct mem_map *m)
{
	struct timespec t0, t1;
	char err[384];
	u64 need = 0;
	int ret;

	for (int i = 0; i < m->nr; i++) {
		const struct mem_region *r = &m->regions[i];

		if (r->kind != MEM_RAM)
			continue;
		need += r->size;
		ret = iommu_check_range(io->valid, io->nr_valid, io->reserved, io->nr_reserved,
					r->gpa, r->size, err, sizeof(err));
		if (ret) {
			pr_err("vfio: %s", err);
			return ret;
		}
	}
	ret = memlock_prepare(need);
	if (ret)
		return ret;
	io->listener.name = io->ops->name;
	io->listener.wants = listener_wants;
	io->listener.region_add = listener_add;
	io->listener.region_del = listener_del;
	io->listener.opaque = io;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = mem_listener_register(m, &io->listener);
	if (ret)
		return ret;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	io->mem = m;
	pr_info("vfio: mapped %" PRIu64 " MiB of guest RAM into the IOMMU in %d chunk(s), %.1f ms (%s)",
		(u64)(io->mapped / MiB), io->nr_maps,
		(t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6, io->ops->name);
	return 0;
}

/* Unmap everything by dropping the listener. */
void iommu_unmap_guest(struct iommu *io)
{
	if (!io->mem)
		return;
	mem_listener_unregister(io->mem, &io->listener);
	io->mem = NULL;
}
