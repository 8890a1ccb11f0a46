/*
 * `ptvm check` verdicts. host_facts_read()/host_dev_facts_read() only read;
 * check_system()/check_device() only judge, so tests feed them recorded trees
 * or hand-made facts.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "passthrough/host/check.h"
#include "passthrough/host/host-tools.h"
#include "passthrough/host/inuse.h"
#include "passthrough/host/pciids.h"
#include "vmm/log.h"

#define PCI_DEVS "sys/bus/pci/devices"
#define ECAP_IR (1ULL << 3)     /* VT-d extended capability: interrupt remapping */
#define PCI_EXT_CAP_REBAR 0x15
#define CAP_IPC_LOCK_BIT 14

/* the one command that turns the IOMMU on with GRUB (Debian's boot loader) */
#define GRUB_ADD(words) "sudo sed -i 's/^GRUB_CMDLINE_LINUX=\"/&" words " /' " \
	"/etc/default/grub && sudo update-grub && sudo reboot"

// Whole-word search in a space-separated command line.
bool check_cmdline_has(const char *cmdline, const char *word)
{
	size_t wl = strlen(word);
	const char *p = cmdline;

	while ((p = strstr(p, word))) {
		bool start = p == cmdline || p[-1] == ' ';
		bool end = p[wl] == '\0' || p[wl] == ' ' || p[wl] == '\n';

		if (start && end)
			return true;
		p += wl;
	}
	return false;
}

// Walk the extended capability list at 0x100; bounded so a bad chain cannot loop.
int check_find_ext_cap(const uint8_t *cfg, size_t len, unsigned int id)
{
	unsigned int off = 0x100;

	for (int hops = 0; hops < 480 && off >= 0x100 && off + 4 <= len; hops++) {
		uint32_t hdr = cfg[off] | cfg[off + 1] << 8 | cfg[off + 2] << 16 |
			       (uint32_t)cfg[off + 3] << 24;

		if (hdr == 0 || hdr == 0xffffffff)
			return -ENOENT;
		if ((hdr & 0xffff) == id)
			return (int)off;
		off = (hdr >> 20) & 0xffc;
	}
	return -ENOENT;
}

// Count directory entries; 0 when the directory is missing.
static int count_entries(const struct sysfs *s, const char *rel)
{
	char **names;
	int n;

	if (sysfs_list(s, &names, &n, "%s", rel) < 0)
		return 0;
	free(names);
	return n;
}

// VT-d: IR is there only if every unit's ecap has bit 3 (the kernel needs all).
static int read_ir(const struct sysfs *s, const struct host_facts *f)
{
	char **names, buf[64];
	int n, ir = -1;

	if (check_cmdline_has(f->cmdline, "intremap=off"))
		return 0;
	if (sysfs_list(s, &names, &n, "sys/class/iommu") < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		unsigned long long ecap;

		if (sysfs_read(s, buf, sizeof(buf), "sys/class/iommu/%s/intel-iommu/ecap",
			       names[i]) <= 0)
			continue;
		ecap = strtoull(buf, NULL, 16);
		if (!(ecap & ECAP_IR)) {
			ir = 0;
			break;
		}
		ir = 1;
	}
	free(names);
	return ir;
}

// CapEff from /proc/self/status: CAP_IPC_LOCK lifts the memlock limit for VFIO.
static bool read_cap_ipc_lock(const struct sysfs *s)
{
	char buf[4096], *p;

	if (sysfs_read(s, buf, sizeof(buf), "proc/self/status") <= 0)
		return false;
	p = strstr(buf, "CapEff:");
	if (!p)
		return false;
	return (strtoull(p + 7, NULL, 16) >> CAP_IPC_LOCK_BIT) & 1;
}

// Sum of free_hugepages * size over every pool (hugepages-2048kB, -1048576kB).
static uint64_t read_hugepages(const struct sysfs *s)
{
	char **names;
	uint64_t total = 0;
	int n;

	if (sysfs_list(s, &names, &n, "sys/kernel/mm/hugepages") < 0)
		return 0;
	for (int i = 0; i < n; i++) {
		unsigned long kb, nfree;

		if (sscanf(names[i], "hugepages-%lukB", &kb) != 1)
			continue;
		if (sysfs_read_ulong(s, &nfree, "sys/kernel/mm/hugepages/%s/free_hugepages",
				     names[i]) == 0)
			total += (uint64_t)nfree * kb * 1024;
	}
	free(names);
	return total;
}

// Only reads; missing files leave the zero/unknown defaults.
int host_facts_read(const struct sysfs *s, uint64_t memory, struct host_facts *f)
{
	char buf[8];
	struct rlimit rl;

	memset(f, 0, sizeof(*f));
	f->memory = memory;
	f->dmar = sysfs_exists(s, "sys/firmware/acpi/tables/DMAR");
	f->ivrs = sysfs_exists(s, "sys/firmware/acpi/tables/IVRS");
	f->nr_iommus = count_entries(s, "sys/class/iommu");
	f->nr_groups = count_entries(s, "sys/kernel/iommu_groups");
	sysfs_read(s, f->cmdline, sizeof(f->cmdline), "proc/cmdline");
	f->ir = read_ir(s, f);
	if (sysfs_read(s, buf, sizeof(buf),
		       "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts") > 0)
		f->unsafe_interrupts = buf[0] == 'Y' || buf[0] == '1';
	f->mod_vfio = sysfs_exists(s, "sys/module/vfio");
	f->mod_vfio_pci = sysfs_exists(s, "sys/module/vfio_pci") ||
			  sysfs_exists(s, "sys/bus/pci/drivers/vfio-pci");
	f->mod_type1 = sysfs_exists(s, "sys/module/vfio_iommu_type1");
	f->mod_iommufd = sysfs_exists(s, "sys/module/iommufd");
	f->kvm_access = sysfs_access(s, R_OK | W_OK, "dev/kvm");
	f->vfio_access = sysfs_access(s, R_OK | W_OK, "dev/vfio/vfio");
	f->iommufd_access = sysfs_access(s, R_OK | W_OK, "dev/iommu");
	f->memlock = CHECK_UNLIMITED;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		f->memlock = rl.rlim_cur;
	f->cap_ipc_lock = read_cap_ipc_lock(s);
	f->hugepages_free = read_hugepages(s);
	return 0;
}

// A missing device is not an error: exists stays false and check says so.
int host_dev_facts_read(const struct sysfs *s, const char *bdf, struct host_dev_facts *d)
{
	uint8_t cfg[4096];
	char state[512];
	int r;

	memset(d, 0, sizeof(*d));
	d->rom_size = -1;
	d->rebar = -1;
	r = host_dev_read(s, bdf, &d->dev);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return r;
	d->exists = true;
	if (d->dev.group >= 0) {
		r = host_group_read(s, d->dev.group, &d->group);
		if (r < 0)
			return r;
		d->group_dev_access = sysfs_access(s, R_OK | W_OK, "dev/vfio/%d", d->dev.group);
	}
	d->has_reset_method = sysfs_read(s, d->reset_method, sizeof(d->reset_method),
					 PCI_DEVS "/%s/reset_method", bdf) >= 0;
	d->has_reset = sysfs_exists(s, PCI_DEVS "/%s/reset", bdf);
	d->rom_size = sysfs_file_size(s, PCI_DEVS "/%s/rom", bdf);
	if (d->rom_size < 0)
		d->rom_size = -1;
	d->rom_readable = sysfs_access(s, R_OK, PCI_DEVS "/%s/rom", bdf) == 0;
	if (sysfs_read(s, state, sizeof(state), "run/ptvm/%s", bdf) >= 0) {
		char *drv = strstr(state, "\ndriver=");

		d->has_state = true;
		if (drv)
			sscanf(drv + 8, "%63[^\n]", d->bound_from);
	}
	inuse_block(s, bdf, d->inuse, sizeof(d->inuse));
	inuse_net(s, bdf, d->net_up, sizeof(d->net_up));
	/* without CAP_SYS_ADMIN the kernel shows only the first 64 bytes */
	r = sysfs_read_bin(s, cfg, sizeof(cfg), PCI_DEVS "/%s/config", bdf);
	if (r > 0x100)
		d->rebar = check_find_ext_cap(cfg, r, PCI_EXT_CAP_REBAR) >= 0;
	return 0;
}

// Free the group members read with the device.
void host_dev_facts_free(struct host_dev_facts *d)
{
	host_group_free(&d->group);
}

// Append one item; the message and fix are printf-formatted separately.
static struct check_item *add(struct check_report *r, enum out_mark m, const char *bdf,
			      const char *name, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static struct check_item *add(struct check_report *r, enum out_mark m, const char *bdf,
			      const char *name, const char *fix, const char *fmt, ...)
{
	struct check_item *it;
	va_list ap;

	if (m == MARK_FAIL)
		r->fails++;
	if (r->n == CHECK_MAX_ITEMS)
		return NULL;
	it = &r->items[r->n++];
	it->mark = m;
	snprintf(it->bdf, sizeof(it->bdf), "%s", bdf ? bdf : "");
	snprintf(it->name, sizeof(it->name), "%s", name);
	snprintf(it->fix, sizeof(it->fix), "%s", fix ? fix : "");
	va_start(ap, fmt);
	vsnprintf(it->msg, sizeof(it->msg), fmt, ap);
	va_end(ap);
	return it;
}

// Is the IOMMU on? The kernel registers units in /sys/class/iommu and makes groups.
static bool iommu_on(const struct host_facts *f)
{
	return f->nr_iommus > 0 || f->nr_groups > 0;
}

// IOMMU presence and state, with the fix for each way it can be off.
static void check_iommu(const struct host_facts *f, struct check_report *r)
{
	const char *vendor = f->dmar ? "Intel VT-d" : f->ivrs ? "AMD-Vi" : "IOMMU";

	if (iommu_on(f)) {
		add(r, MARK_OK, NULL, "iommu", NULL, "%s is on (%d units, %d groups)", vendor,
		    f->nr_iommus, f->nr_groups);
		if (!check_cmdline_has(f->cmdline, "iommu=pt"))
			add(r, MARK_INFO, NULL, "iommu-pt", GRUB_ADD("iommu=pt"),
			    "iommu=pt is not set: host devices also pay for IOMMU translation");
		return;
	}
	if (!f->dmar && !f->ivrs) {
		add(r, MARK_FAIL, NULL, "iommu",
		    "enable VT-d (Intel) or AMD-Vi/IOMMU (AMD) in the firmware setup; in a VM "
		    "give it a virtual IOMMU (qemu -device intel-iommu,intremap=on)",
		    "no IOMMU: the firmware reports none (no DMAR or IVRS ACPI table)");
		return;
	}
	if (check_cmdline_has(f->cmdline, "intel_iommu=off") ||
	    check_cmdline_has(f->cmdline, "amd_iommu=off") ||
	    check_cmdline_has(f->cmdline, "iommu=off")) {
		add(r, MARK_FAIL, NULL, "iommu",
		    "remove the iommu=off/intel_iommu=off/amd_iommu=off word from GRUB_CMDLINE_LINUX in "
		    "/etc/default/grub, then: sudo update-grub && sudo reboot",
		    "%s is present but the kernel command line turns it off", vendor);
		return;
	}
	add(r, MARK_FAIL, NULL, "iommu",
	    f->dmar ? GRUB_ADD("intel_iommu=on iommu=pt") : GRUB_ADD("amd_iommu=on iommu=pt"),
	    "%s is present but off (no /sys/class/iommu entries)", vendor);
}

// Without interrupt remapping vfio_iommu_type1 refuses the group unless told otherwise.
static void check_ir(const struct host_facts *f, struct check_report *r)
{
	if (!iommu_on(f))
		return;
	if (f->ir == 1)
		add(r, MARK_OK, NULL, "intremap", NULL, "interrupt remapping is available");
	else if (f->ir == 0 && f->unsafe_interrupts)
		add(r, MARK_WARN, NULL, "intremap", NULL,
		    "no interrupt remapping; allow_unsafe_interrupts=Y lets VFIO run anyway "
		    "(a device can forge interrupts)");
	else if (f->ir == 0)
		add(r, MARK_FAIL, NULL, "intremap",
		    "enable interrupt remapping (x2APIC) in the firmware setup, or accept the risk: "
		    "echo 'options vfio_iommu_type1 allow_unsafe_interrupts=1' | "
		    "sudo tee /etc/modprobe.d/ptvm-unsafe-irq.conf && sudo modprobe -r vfio_iommu_type1",
		    "no interrupt remapping: VFIO will refuse the device");
	else
		add(r, MARK_INFO, NULL, "intremap", NULL,
		    "interrupt remapping: unknown (only VT-d reports it in sysfs)");
}

// vfio, vfio-pci and a backend (type1 or iommufd).
static void check_modules(const struct host_facts *f, struct check_report *r)
{
	bool backend = f->mod_type1 || (f->mod_iommufd && f->iommufd_access == 0);

	if (f->mod_vfio && f->mod_vfio_pci && backend) {
		add(r, MARK_OK, NULL, "modules", NULL, "vfio, vfio-pci and %s are loaded",
		    f->mod_type1 ? "vfio_iommu_type1" : "iommufd");
		return;
	}
	add(r, MARK_FAIL, NULL, "modules",
	    "sudo modprobe -a vfio-pci vfio_iommu_type1 (at every boot: printf "
	    "'vfio-pci\\nvfio_iommu_type1\\n' | sudo tee /etc/modules-load.d/vfio.conf)",
	    "VFIO modules missing:%s%s%s", f->mod_vfio ? "" : " vfio",
	    f->mod_vfio_pci ? "" : " vfio_pci", backend ? "" : " vfio_iommu_type1");
}

// /dev/kvm and /dev/vfio/vfio must open read-write for this user.
static void check_nodes(const struct host_facts *f, struct check_report *r)
{
	if (f->kvm_access == 0)
		add(r, MARK_OK, NULL, "kvm", NULL, "/dev/kvm is usable");
	else if (f->kvm_access == -ENOENT)
		add(r, MARK_FAIL, NULL, "kvm",
		    "sudo modprobe kvm_intel || sudo modprobe kvm_amd (and enable VT-x/AMD-V in "
		    "the firmware setup)", "/dev/kvm does not exist");
	else
		add(r, MARK_FAIL, NULL, "kvm", "sudo usermod -aG kvm $USER, then log in again",
		    "/dev/kvm is not usable by this user (%s)", strerror(-f->kvm_access));
	if (f->vfio_access == 0)
		add(r, MARK_OK, NULL, "vfio", NULL, "/dev/vfio/vfio is usable");
	else if (f->vfio_access == -ENOENT && f->mod_iommufd && f->iommufd_access == 0)
		add(r, MARK_OK, NULL, "vfio", NULL, "/dev/iommu is usable (no /dev/vfio/vfio)");
	else if (f->vfio_access == -ENOENT)
		add(r, MARK_FAIL, NULL, "vfio", "sudo modprobe vfio", "/dev/vfio/vfio does not exist");
	else
		add(r, MARK_FAIL, NULL, "vfio", "sudo chmod 0666 /dev/vfio/vfio",
		    "/dev/vfio/vfio is not usable by this user (%s)", strerror(-f->vfio_access));
}

// Format bytes as a short size ("8 GiB", "512 MiB").
static const char *size_str(uint64_t b, char *buf, size_t len)
{
	if (b >= (1ULL << 30) && !(b & ((1ULL << 30) - 1)))
		snprintf(buf, len, "%llu GiB", (unsigned long long)(b >> 30));
	else if (b >= (1ULL << 20))
		snprintf(buf, len, "%llu MiB", (unsigned long long)(b >> 20));
	else
		snprintf(buf, len, "%llu KiB", (unsigned long long)(b >> 10));
	return buf;
}

// VFIO pins all guest RAM: RLIMIT_MEMLOCK must cover it unless CAP_IPC_LOCK.
static void check_memlock(const struct host_facts *f, struct check_report *r)
{
	char a[32], b[32], fix[320];
	uint64_t need = f->memory + CHECK_MEMLOCK_SLACK;

	if (f->cap_ipc_lock || f->memlock == CHECK_UNLIMITED) {
		add(r, MARK_OK, NULL, "memlock", NULL, "memlock: no limit (%s)",
		    f->cap_ipc_lock ? "CAP_IPC_LOCK" : "unlimited");
		return;
	}
	if (!f->memory) {
		add(r, MARK_INFO, NULL, "memlock", NULL,
		    "memlock limit is %s: pass --memory SIZE to compare with the guest",
		    size_str(f->memlock, a, sizeof(a)));
		return;
	}
	if (f->memlock >= need) {
		add(r, MARK_OK, NULL, "memlock", NULL, "memlock limit %s covers %s of guest RAM",
		    size_str(f->memlock, a, sizeof(a)), size_str(f->memory, b, sizeof(b)));
		return;
	}
	snprintf(fix, sizeof(fix), "echo '* - memlock %llu' | sudo tee /etc/security/limits.d/"
		 "ptvm.conf, then log in again (or: ulimit -l %llu as root, or run ptvm as root)",
		 (unsigned long long)(need >> 10), (unsigned long long)(need >> 10));
	add(r, MARK_FAIL, NULL, "memlock", fix,
	    "memlock limit %s is below the %s VFIO pins (guest RAM + 1 GiB)",
	    size_str(f->memlock, a, sizeof(a)), size_str(need, b, sizeof(b)));
}

// Hugepages are optional (--memory SIZE,hugepages=on): information only.
static void check_hugepages(const struct host_facts *f, struct check_report *r)
{
	char a[32], fix[200];

	if (!f->memory) {
		add(r, MARK_INFO, NULL, "hugepages", NULL, "hugepages free: %s",
		    size_str(f->hugepages_free, a, sizeof(a)));
		return;
	}
	if (f->hugepages_free >= f->memory) {
		add(r, MARK_OK, NULL, "hugepages", NULL,
		    "hugepages free: %s, enough for --memory ...,hugepages=on",
		    size_str(f->hugepages_free, a, sizeof(a)));
		return;
	}
	snprintf(fix, sizeof(fix), "echo %llu | sudo tee /sys/kernel/mm/hugepages/"
		 "hugepages-2048kB/nr_hugepages", (unsigned long long)(f->memory >> 21));
	add(r, MARK_INFO, NULL, "hugepages", fix,
	    "hugepages free: %s, not enough for hugepages=on (optional)",
	    size_str(f->hugepages_free, a, sizeof(a)));
}

// System-wide checks in the order people fix them: IOMMU first.
void check_system(const struct host_facts *f, bool devices_given, struct check_report *r)
{
	check_iommu(f, r);
	check_ir(f, r);
	check_modules(f, r);
	check_nodes(f, r);
	if (devices_given || f->memory) {
		check_memlock(f, r);
		check_hugepages(f, r);
	}
}

// The group: every member on an allowed driver, and /dev/vfio/N usable.
static void check_group(const struct host_dev_facts *d, struct check_report *r)
{
	const struct host_dev *bl[16];
	const char *bdf = d->dev.bdf;
	char list[200] = "", fix[200];
	int nb = host_group_blockers(&d->group, bl, 16);
	size_t used = 0;

	if (nb == 0) {
		add(r, MARK_OK, bdf, "group", NULL, "IOMMU group %d is viable (%d device%s)",
		    d->dev.group, d->group.nr_devs, d->group.nr_devs == 1 ? "" : "s");
	} else {
		for (int i = 0; i < nb && i < 16; i++)
			if (strcmp(bl[i]->bdf, bdf) && used < sizeof(list))
				used += snprintf(list + used, sizeof(list) - used, "%s%s (%s)",
						 used ? ", " : "", bl[i]->bdf, bl[i]->driver);
		if (!used) {
			add(r, MARK_OK, bdf, "group", NULL,
			    "IOMMU group %d: no other device in it blocks VFIO", d->dev.group);
		} else {
			snprintf(fix, sizeof(fix), "sudo ptvm bind --group %s", bdf);
			add(r, MARK_FAIL, bdf, "group", fix,
			    "IOMMU group %d is not viable: %s %s on a host driver in the same group",
			    d->dev.group, list, nb > 2 ? "are" : "is");
		}
	}
	if (host_driver_kind(d->dev.driver) == DRV_VFIO && nb == 0) {
		if (d->group_dev_access == 0)
			add(r, MARK_OK, bdf, "vfio-group", NULL, "/dev/vfio/%d is usable", d->dev.group);
		else if (d->group_dev_access != -ENOENT) {
			snprintf(fix, sizeof(fix), "sudo chown $USER /dev/vfio/%d", d->dev.group);
			add(r, MARK_FAIL, bdf, "vfio-group", fix,
			    "/dev/vfio/%d is not usable by this user (%s)", d->dev.group,
			    strerror(-d->group_dev_access));
		}
	}
}

// Reset, ROM, resizable BAR, boot VGA: warnings and information, never failures.
static void check_features(const struct host_dev_facts *d, struct check_report *r)
{
	const char *bdf = d->dev.bdf;
	bool gpu = (d->dev.class >> 16) == 0x03;

	if (d->has_reset_method && d->reset_method[0])
		add(r, MARK_OK, bdf, "reset", NULL, "reset methods: %s", d->reset_method);
	else if (!d->has_reset_method && d->has_reset)
		add(r, MARK_OK, bdf, "reset", NULL, "the kernel can reset it");
	else
		add(r, MARK_WARN, bdf, "reset",
		    "none in software: power-cycle the host between guests (AMD GPUs: the "
		    "vendor-reset module)",
		    "no reset method: the device keeps its state from one guest boot to the next");
	if (d->rom_size > 0 && d->rom_readable)
		add(r, MARK_OK, bdf, "rom", NULL, "option ROM: %ld KiB", d->rom_size >> 10);
	else if (d->rom_size > 0)
		add(r, MARK_INFO, bdf, "rom", NULL, "option ROM present but not readable by this user");
	else if (gpu)
		add(r, MARK_WARN, bdf, "rom",
		    "give the guest a dumped VBIOS: --device vfio,host=...,romfile=PATH",
		    "no option ROM: guest firmware cannot initialise this GPU");
	else
		add(r, MARK_INFO, bdf, "rom", NULL, "no option ROM (needed only to boot from it)");
	if (d->rebar == 1)
		add(r, MARK_INFO, bdf, "rebar", NULL,
		    "resizable BAR capability: the guest sees the BARs at their current sizes");
	if (d->inuse[0])
		add(r, MARK_WARN, bdf, "in-use", "move the host off it first (umount, swapoff, "
		    "vgchange -an); ptvm bind refuses it until then",
		    "in use by the host: %s", d->inuse);
	if (d->net_up[0])
		add(r, MARK_WARN, bdf, "net", NULL, "%s: the host loses it when the device is bound",
		    d->net_up);
	if (d->dev.boot_vga == 1)
		add(r, MARK_WARN, bdf, "boot-vga",
		    "make another GPU primary in the firmware setup, or add video=efifb:off "
		    "to the kernel command line",
		    "this is the boot VGA device: the host console is on it");
}

// Per device: existence, group, driver, then what only warns.
void check_device(const struct host_facts *f, const struct host_dev_facts *d,
		  struct check_report *r)
{
	const char *bdf = d->dev.bdf;
	char fix[200];

	if (!d->exists) {
		add(r, MARK_FAIL, bdf, "device", "list the devices: ptvm groups (or lspci -D)",
		    "no such PCI device");
		return;
	}
	if (host_dev_is_bridge(&d->dev)) {
		add(r, MARK_FAIL, bdf, "device", "pass the devices behind the bridge instead",
		    "a bridge cannot be passed through");
		return;
	}
	if (d->dev.group < 0) {
		add(r, MARK_FAIL, bdf, "group", iommu_on(f) ? "see 'dmesg | grep -i iommu'" :
		    "turn the IOMMU on (see the iommu line above)", "no IOMMU group");
		return;
	}
	if (host_driver_kind(d->dev.driver) == DRV_VFIO && d->has_state) {
		add(r, MARK_OK, bdf, "driver", NULL, "bound to %s by ptvm (was on %s; "
		    "'ptvm unbind %s' gives it back)", d->dev.driver,
		    d->bound_from[0] ? d->bound_from : "no driver", bdf);
	} else if (host_driver_kind(d->dev.driver) == DRV_VFIO) {
		add(r, MARK_OK, bdf, "driver", NULL, "bound to %s", d->dev.driver);
	} else {
		bool others = host_group_blockers(&d->group, NULL, 0) >
			      (host_driver_kind(d->dev.driver) == DRV_HOST);

		snprintf(fix, sizeof(fix), "sudo ptvm bind %s%s", others ? "--group " : "", bdf);
		if (d->dev.driver[0])
			add(r, MARK_FAIL, bdf, "driver", fix, "on %s, not vfio-pci", d->dev.driver);
		else
			add(r, MARK_FAIL, bdf, "driver", fix, "on no driver: it needs vfio-pci");
	}
	check_group(d, r);
	check_features(d, r);
}

static const char check_usage[] =
	"usage: ptvm check [BDF...] [--memory SIZE] [--json] [--sysfs-root DIR]\n"
	"Can these PCI devices be passed through now? Checks the IOMMU, interrupt\n"
	"remapping, VFIO modules, /dev/kvm and /dev/vfio, and per device its IOMMU\n"
	"group, driver, reset methods, ROM, resizable BAR, boot VGA; with --memory\n"
	"the memlock limit and free hugepages. Each problem comes with its fix.\n"
	"Exit status 0 only when everything needed is in place.\n";

static const char *const mark_json[] = {
	[MARK_OK] = "ok", [MARK_WARN] = "warn", [MARK_FAIL] = "fail",
	[MARK_INFO] = "info", [MARK_NONE] = "",
};

// "NVIDIA Corporation GP104 [GeForce GTX 1080]" or the numbers when unknown.
static void dev_names(const struct pciids *ids, const struct host_dev *d, char *buf, size_t len)
{
	char v[128], n[128];

	pciids_vendor(ids, d->vendor, v, sizeof(v));
	pciids_device(ids, d->vendor, d->device, n, sizeof(n));
	snprintf(buf, len, "%s%s%s%s[%04x:%04x]", v, *v && *n ? " " : "", n, *v || *n ? " " : "",
		 d->vendor, d->device);
}

// Human form: items with their fixes on the same line, then the group's members.
static void print_human(const struct out *o, const struct check_report *rep,
			const struct host_dev_facts *devs, int n, const struct pciids *ids)
{
	const char *last = NULL;

	for (int i = 0; i < rep->n; i++) {
		const struct check_item *it = &rep->items[i];

		if (it->bdf[0] && (!last || strcmp(last, it->bdf))) {
			for (int k = 0; k < n; k++) {
				char names[320];

				if (strcmp(devs[k].dev.bdf, it->bdf))
					continue;
				dev_names(ids, &devs[k].dev, names, sizeof(names));
				fprintf(o->f, "\n%s  %s\n", it->bdf, devs[k].exists ? names : "");
			}
			last = it->bdf;
		}
		if (it->fix[0] && it->mark != MARK_OK)
			out_line(o, it->mark, "%s -- fix: %s", it->msg, it->fix);
		else
			out_line(o, it->mark, "%s", it->msg);
	}
	for (int k = 0; k < n; k++) {
		struct out_table t;
		static const char *const heads[] = { "MEMBER", "DRIVER", "CLASS", "DEVICE" };

		if (devs[k].group.nr_devs == 0)
			continue;
		fprintf(o->f, "\nIOMMU group %d (for %s):\n", devs[k].dev.group, devs[k].dev.bdf);
		table_init(&t, 4, heads, 1);
		for (int m = 0; m < devs[k].group.nr_devs; m++) {
			const struct host_dev *d = &devs[k].group.devs[m];
			enum host_drv_kind kind = host_driver_kind(d->driver);
			char cls[128], names[320];
			const char *cells[4] = { d->bdf, d->driver[0] ? d->driver : "-", cls, names };

			pciids_class(ids, d->class, cls, sizeof(cls));
			if (!cls[0])
				snprintf(cls, sizeof(cls), "%06x", d->class);
			dev_names(ids, d, names, sizeof(names));
			table_add(&t, kind == DRV_HOST ? MARK_FAIL : kind == DRV_VFIO ? MARK_OK :
				  MARK_NONE, cells);
		}
		table_print(o, &t, "  ");
		table_free(&t);
	}
	fputc('\n', o->f);
	if (rep->fails)
		fprintf(o->f, "%d problem%s: run the fix commands above, then ptvm check again\n",
			rep->fails, rep->fails == 1 ? "" : "s");
	else if (n)
		fprintf(o->f, "ready: %s%s can be passed through now\n", devs[0].dev.bdf,
			n > 1 ? " and the others" : "");
	else
		fprintf(o->f, "ready: this host can pass devices through (name them to check them)\n");
}

// JSON form: {"ok", "problems", "checks": [...], "devices": [...]}.
static void print_json(FILE *f, const struct check_report *rep,
		       const struct host_dev_facts *devs, int n, const struct pciids *ids)
{
	fprintf(f, "{\"ok\": %s, \"problems\": %d, \"checks\": [", rep->fails ? "false" : "true",
		rep->fails);
	for (int i = 0; i < rep->n; i++) {
		const struct check_item *it = &rep->items[i];

		fprintf(f, "%s\n  {", i ? "," : "");
		json_kv_str(f, true, "level", mark_json[it->mark]);
		json_kv_str(f, false, "check", it->name);
		json_kv_str(f, false, "device", it->bdf);
		json_kv_str(f, false, "message", it->msg);
		json_kv_str(f, false, "fix", it->fix);
		fputc('}', f);
	}
	fprintf(f, "],\n \"devices\": [");
	for (int k = 0; k < n; k++) {
		const struct host_dev_facts *d = &devs[k];

		fprintf(f, "%s\n  {", k ? "," : "");
		json_kv_str(f, true, "address", d->dev.bdf);
		fprintf(f, ", \"exists\": %s, \"group\": %d", d->exists ? "true" : "false",
			d->dev.group);
		json_kv_str(f, false, "driver", d->dev.driver);
		fprintf(f, ", \"viable\": %s", d->dev.group >= 0 &&
			host_group_verdict(&d->group) != GROUP_NOT_VIABLE ? "true" : "false");
		json_kv_str(f, false, "reset_methods", d->reset_method);
		json_kv_str(f, false, "in_use", d->inuse);
		fprintf(f, ", \"rom_size\": %ld, \"resizable_bar\": %d, \"boot_vga\": %d",
			d->rom_size < 0 ? 0 : d->rom_size, d->rebar, d->dev.boot_vga);
		fprintf(f, ", \"members\": [");
		for (int m = 0; m < d->group.nr_devs; m++) {
			const struct host_dev *g = &d->group.devs[m];
			char cls[128];

			fprintf(f, "%s{", m ? ", " : "");
			json_kv_str(f, true, "address", g->bdf);
			json_kv_str(f, false, "driver", g->driver);
			json_kv_str(f, false, "class", pciids_class(ids, g->class, cls, sizeof(cls)));
			fputc('}', f);
		}
		fprintf(f, "]}");
	}
	fprintf(f, "]}\n");
}

// ptvm check: facts, verdicts, output; exit 1 if anything FAILed.
int cmd_check(int argc, char **argv)
{
	struct host_opts o;
	struct host_facts f;
	struct host_dev_facts *devs;
	struct check_report *rep;
	struct pciids ids;
	struct out out;
	int r;

	r = host_opts_parse(&o, argc, argv, HOST_OPT_BDFS | HOST_OPT_MEMORY, check_usage);
	if (r)
		return r > 0 ? 0 : 2;
	rep = calloc(1, sizeof(*rep));
	devs = calloc(o.nr_bdfs ? o.nr_bdfs : 1, sizeof(*devs));
	if (!rep || !devs) {
		free(rep);
		free(devs);
		pr_err("out of memory");
		return 1;
	}
	pciids_load(&ids, &o.sys);
	if (!ids.data && o.nr_bdfs && !o.json)
		pr_warn("no pci.ids: device names are missing; fix: sudo apt-get install pci.ids");
	host_facts_read(&o.sys, o.memory, &f);
	check_system(&f, o.nr_bdfs > 0, rep);
	for (int i = 0; i < o.nr_bdfs; i++) {
		r = host_dev_facts_read(&o.sys, o.bdfs[i], &devs[i]);
		if (r < 0)
			pr_warn("%s: reading sysfs failed (%s)", o.bdfs[i], strerror(-r));
		check_device(&f, &devs[i], rep);
	}
	out_init(&out, stdout, o.json);
	if (o.json)
		print_json(stdout, rep, devs, o.nr_bdfs, &ids);
	else
		print_human(&out, rep, devs, o.nr_bdfs, &ids);
	r = rep->fails ? 1 : 0;
	for (int i = 0; i < o.nr_bdfs; i++)
		host_dev_facts_free(&devs[i]);
	free(devs);
	free(rep);
	pciids_free(&ids);
	return r;
}
