/*
 * Recorded sysfs trees for the host-tool tests, built in a temporary
 * directory: the files and links the kernel shows for PCI devices, IOMMU
 * groups, IOMMU units, modules and device nodes, plus a small pci.ids.
 * fx_kernel() plays the kernel's part for bind/unbind/drivers_probe/
 * sriov_numvfs writes and logs every write, so tests can check the sequence.
 */
#ifndef PTVM_TEST_HOST_FIXTURE_H
#define PTVM_TEST_HOST_FIXTURE_H

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "passthrough/host/sysfs.h"

struct fixture {
	char root[256];
	struct sysfs sys;
	char log[8192];         /* "rel=value\n" per write, value's newlines as \n */
};

/* a pci.ids subset in the real file's format */
static const char fx_pciids[] =
	"# fake pci.ids for tests\n"
	"8086  Intel Corporation\n"
	"\t10d3  82574L Gigabit Network Connection\n"
	"\ta36d  Cannon Lake PCH USB 3.1 xHCI Host Controller\n"
	"\t1901  6th-10th Gen Core Processor PCIe Controller (x16)\n"
	"10de  NVIDIA Corporation\n"
	"\t1b80  GP104 [GeForce GTX 1080]\n"
	"\t10f0  GP104 High Definition Audio Controller\n"
	"\t\t10de 1b80  not a device line\n"
	"15b3  Mellanox Technologies\n"
	"\t1017  MT27800 Family [ConnectX-5]\n"
	"\t1018  MT27800 Family [ConnectX-5 Virtual Function]\n"
	"C 02  Network controller\n"
	"\t00  Ethernet controller\n"
	"C 03  Display controller\n"
	"\t00  VGA compatible controller\n"
	"C 04  Multimedia controller\n"
	"\t03  Audio device\n"
	"C 06  Bridge\n"
	"\t04  PCI bridge\n"
	"C 0c  Serial bus controller\n"
	"\t03  USB controller\n"
	"\t\t30  XHCI\n";

// mkdir -p for the parent directories of root/rel.
static __attribute__((unused)) void fx_mkparents(const struct fixture *fx, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", fx->root, rel);
	for (char *s = p + strlen(fx->root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
}

// A file with content (printf format), parents made.
static __attribute__((unused)) void __attribute__((format(printf, 3, 4)))
fx_file(const struct fixture *fx, const char *rel, const char *fmt, ...)
{
	char p[512];
	va_list ap;
	FILE *f;

	fx_mkparents(fx, rel);
	snprintf(p, sizeof(p), "%s/%s", fx->root, rel);
	f = fopen(p, "w");
	if (!f) {
		perror(p);
		exit(99);
	}
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static __attribute__((unused)) void fx_dir(const struct fixture *fx, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s/x", fx->root, rel);
	fx_mkparents(fx, p + strlen(fx->root) + 1);
}

// A symlink root/rel -> target (relative, as the kernel makes them).
static __attribute__((unused)) void fx_link(const struct fixture *fx, const char *rel, const char *target)
{
	char p[512];

	fx_mkparents(fx, rel);
	snprintf(p, sizeof(p), "%s/%s", fx->root, rel);
	unlink(p);
	if (symlink(target, p) < 0) {
		perror(p);
		exit(99);
	}
}

static __attribute__((unused)) void fx_unlink(const struct fixture *fx, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", fx->root, rel);
	unlink(p);
}

static __attribute__((unused)) bool fx_exists(const struct fixture *fx, const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", fx->root, rel);
	return lstat(p, &st) == 0;
}

// A file's content, trailing newlines kept.
static const char *fx_read(const struct fixture *fx, const char *rel, char *buf, size_t len)
{
	char p[512];
	size_t n = 0;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", fx->root, rel);
	buf[0] = '\0';
	f = fopen(p, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

// A PCI driver directory with its bind and unbind files.
static __attribute__((unused)) void fx_driver(const struct fixture *fx, const char *drv)
{
	char p[256];

	snprintf(p, sizeof(p), "sys/bus/pci/drivers/%s/bind", drv);
	fx_file(fx, p, "%s", "");
	snprintf(p, sizeof(p), "sys/bus/pci/drivers/%s/unbind", drv);
	fx_file(fx, p, "%s", "");
}

// Point a device's driver link at drv ("" removes it).
static __attribute__((unused)) void fx_set_driver(const struct fixture *fx, const char *bdf, const char *drv)
{
	char p[256], t[256];

	snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/driver", bdf);
	if (!drv || !*drv) {
		fx_unlink(fx, p);
		return;
	}
	fx_driver(fx, drv);
	snprintf(t, sizeof(t), "../../drivers/%s", drv);
	fx_link(fx, p, t);
}

/*
 * A PCI device: ids, class, driver ("" = none), IOMMU group (-1 = none).
 * It also records the driver the kernel would pick on a probe (.match), the
 * device's own driver, as the kernel's ID tables would.
 */
static __attribute__((unused)) void fx_dev(const struct fixture *fx, const char *bdf, unsigned int vendor,
		   unsigned int device, unsigned int class, const char *drv, int group)
{
	char d[128], p[256], t[256];

	snprintf(d, sizeof(d), "sys/bus/pci/devices/%s", bdf);
	snprintf(p, sizeof(p), "%s/vendor", d);
	fx_file(fx, p, "0x%04x\n", vendor);
	snprintf(p, sizeof(p), "%s/device", d);
	fx_file(fx, p, "0x%04x\n", device);
	snprintf(p, sizeof(p), "%s/class", d);
	fx_file(fx, p, "0x%06x\n", class);
	snprintf(p, sizeof(p), "%s/driver_override", d);
	fx_file(fx, p, "(null)\n");
	snprintf(p, sizeof(p), "%s/reset_method", d);
	fx_file(fx, p, "flr bus\n");
	snprintf(p, sizeof(p), "%s/.match", d);
	fx_file(fx, p, "%s\n", drv);
	fx_set_driver(fx, bdf, drv);
	if (group >= 0) {
		snprintf(p, sizeof(p), "%s/iommu_group", d);
		snprintf(t, sizeof(t), "../../../../kernel/iommu_groups/%d", group);
		fx_link(fx, p, t);
		snprintf(p, sizeof(p), "sys/kernel/iommu_groups/%d/devices/%s", group, bdf);
		snprintf(t, sizeof(t), "../../../../devices/pci0000:00/%s", bdf);
		fx_link(fx, p, t);
	}
}

// Append one write to the log, newlines escaped so each write is one line.
static __attribute__((unused)) void fx_log(struct fixture *fx, const char *rel, const char *val)
{
	size_t n = strlen(fx->log);

	n += snprintf(fx->log + n, sizeof(fx->log) - n, "%s=", rel);
	for (; *val && n < sizeof(fx->log) - 3; val++) {
		if (*val == '\n') {
			fx->log[n++] = '\\';
			fx->log[n++] = 'n';
		} else {
			fx->log[n++] = *val;
		}
	}
	if (n < sizeof(fx->log) - 1)
		fx->log[n++] = '\n';
	fx->log[n] = '\0';
}

// The kernel's side of a driver bind: only if no driver, and not refused.
static __attribute__((unused)) void fx_kernel_bind(struct fixture *fx, const char *bdf, const char *drv)
{
	char p[256];

	snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/driver", bdf);
	if (!*drv || fx_exists(fx, p))
		return;
	snprintf(p, sizeof(p), "sys/bus/pci/drivers/%s/refuse", drv);
	if (fx_exists(fx, p))
		return;
	snprintf(p, sizeof(p), "sys/bus/pci/drivers/%s", drv);
	if (!fx_exists(fx, p))
		return;
	fx_set_driver(fx, bdf, drv);
}

/* after_write hook: log, then do what the kernel does for that file */
static __attribute__((unused)) void fx_kernel(const struct sysfs *s, const char *rel, const char *val)
{
	struct fixture *fx = s->opaque;
	char bdf[32], drv[64], buf[128], p[256];
	size_t l = strlen(rel);

	fx_log(fx, rel, val);
	snprintf(bdf, sizeof(bdf), "%s", val);
	bdf[strcspn(bdf, "\n")] = '\0';
	if (l > 7 && !strcmp(rel + l - 7, "/unbind")) {
		fx_set_driver(fx, bdf, "");
	} else if (sscanf(rel, "sys/bus/pci/drivers/%63[^/]/bind", drv) == 1) {
		fx_kernel_bind(fx, bdf, drv);
	} else if (!strcmp(rel, "sys/bus/pci/drivers_probe")) {
		snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/driver_override", bdf);
		fx_read(fx, p, buf, sizeof(buf));
		buf[strcspn(buf, "\n")] = '\0';
		if (!buf[0] || !strcmp(buf, "(null)")) {
			snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/.match", bdf);
			fx_read(fx, p, buf, sizeof(buf));
			buf[strcspn(buf, "\n")] = '\0';
		}
		fx_kernel_bind(fx, bdf, buf);
	} else if (sscanf(rel, "sys/bus/pci/devices/%31[^/]/sriov_numvfs", bdf) == 1) {
		/* VFs at function 1.. of the PF's bus, each in its own group 100+i */
		unsigned long n = strtoul(val, NULL, 10);

		for (int i = 0; i < 8; i++) {
			char vf[32], t[64];

			snprintf(vf, sizeof(vf), "%.10s.%d", bdf, i + 1);
			snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/virtfn%d", bdf, i);
			if ((unsigned long)i < n) {
				fx_dev(fx, vf, 0x15b3, 0x1018, 0x020000, "", 100 + i);
				snprintf(t, sizeof(t), "../%s", vf);
				fx_link(fx, p, t);
			} else {
				fx_unlink(fx, p);
			}
		}
	}
}

// A fresh empty tree with the fake pci.ids; the fake kernel hooked in.
static __attribute__((unused)) void fx_init(struct fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	snprintf(fx->root, sizeof(fx->root), "%s/ptvm-host-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(fx->root)) {
		perror("mkdtemp");
		exit(99);
	}
	sysfs_init(&fx->sys, fx->root);
	fx->sys.after_write = fx_kernel;
	fx->sys.opaque = fx;
	fx_file(fx, "usr/share/misc/pci.ids", "%s", fx_pciids);
	fx_file(fx, "sys/bus/pci/drivers_probe", "%s", "");
	fx_dir(fx, "sys/bus/pci/drivers");
	fx_file(fx, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet\n");
	fx_file(fx, "proc/self/status", "Name:\ttest\nCapEff:\t0000000000000000\n");
}

// nftw callback that removes everything.
static __attribute__((unused)) int fx_rm(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(p);
}

static __attribute__((unused)) void fx_cleanup(struct fixture *fx)
{
	nftw(fx->root, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* The pieces of a host with VT-d on: DMAR, two units with IR, VFIO loaded, nodes. */
static __attribute__((unused)) void fx_intel_host(const struct fixture *fx)
{
	fx_file(fx, "sys/firmware/acpi/tables/DMAR", "DMAR");
	fx_file(fx, "sys/class/iommu/dmar0/intel-iommu/ecap", "f020df\n");
	fx_file(fx, "sys/class/iommu/dmar1/intel-iommu/ecap", "f020df\n");
	fx_dir(fx, "sys/module/vfio");
	fx_dir(fx, "sys/module/vfio_pci");
	fx_dir(fx, "sys/module/vfio_iommu_type1/parameters");
	fx_file(fx, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "N\n");
	fx_driver(fx, "vfio-pci");
	fx_file(fx, "dev/kvm", "%s", "");
	fx_file(fx, "dev/vfio/vfio", "%s", "");
	fx_file(fx, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 intel_iommu=on iommu=pt\n");
	fx_file(fx, "sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "4096\n");
	fx_file(fx, "sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages", "2\n");
}

/*
 * An NVMe drive at bdf (group 4) with nvme0n1 and partition nvme0n1p2 whose
 * major:minor 259:2 is mounted at / when mounted is true; and a NIC at nic
 * (group 6) whose interface eth0 is up.
 */
static __attribute__((unused)) void fx_disk_and_nic(const struct fixture *fx, const char *bdf,
						     const char *nic, bool mounted)
{
	char d[256], p[320];

	fx_dev(fx, bdf, 0x144d, 0xa808, 0x010802, "nvme", 4);
	snprintf(d, sizeof(d), "sys/bus/pci/devices/%s/nvme/nvme0", bdf);
	snprintf(p, sizeof(p), "%s/subsystem", d);
	fx_link(fx, p, "../../../../../../class/nvme");
	snprintf(p, sizeof(p), "%s/nvme0n1/dev", d);
	fx_file(fx, p, "259:0\n");
	snprintf(p, sizeof(p), "%s/nvme0n1/subsystem", d);
	fx_link(fx, p, "../../../../../../../class/block");
	fx_dir(fx, strcat(strcpy(p, d), "/nvme0n1/holders"));
	snprintf(p, sizeof(p), "%s/nvme0n1/nvme0n1p2/dev", d);
	fx_file(fx, p, "259:2\n");
	snprintf(p, sizeof(p), "%s/nvme0n1/nvme0n1p2/subsystem", d);
	fx_link(fx, p, "../../../../../../../../class/block");
	/* not mounted: the root is on another disk (8:1) */
	fx_file(fx, "proc/self/mountinfo", "22 1 %s / / rw,relatime shared:1 - ext4 "
		"/dev/nvme0n1p2 rw\n", mounted ? "259:2" : "8:1");
	fx_file(fx, "proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n");

	fx_dev(fx, nic, 0x8086, 0x10d3, 0x020000, "e1000e", 6);
	snprintf(d, sizeof(d), "sys/bus/pci/devices/%s/net/eth0", nic);
	snprintf(p, sizeof(p), "%s/operstate", d);
	fx_file(fx, p, "up\n");
	snprintf(p, sizeof(p), "%s/subsystem", d);
	fx_link(fx, p, "../../../../../../class/net");
}

/* Redirect stdout into a temporary file (the TAP stream must stay clean). */
struct fx_capture {
	int fd, saved;
};

static __attribute__((unused)) void fx_capture_begin(struct fx_capture *c)
{
	char path[] = "/tmp/ptvm-host-out-XXXXXX";

	fflush(stdout);
	c->fd = mkstemp(path);
	unlink(path);
	c->saved = dup(1);
	dup2(c->fd, 1);
}

// Put stdout back; what was printed goes to out.
static __attribute__((unused)) void fx_capture_end(struct fx_capture *c, char *out, size_t len)
{
	ssize_t n;

	fflush(stdout);
	dup2(c->saved, 1);
	close(c->saved);
	lseek(c->fd, 0, SEEK_SET);
	n = read(c->fd, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
	close(c->fd);
}

// Run a cmd_ function with stdout captured; its exit status returned.
static __attribute__((unused)) int fx_capture(int (*fn)(int, char **), int argc, char **argv, char *out, size_t len)
{
	struct fx_capture c;
	int rc;

	fx_capture_begin(&c);
	rc = fn(argc, argv);
	fx_capture_end(&c, out, len);
	return rc;
}

#endif
