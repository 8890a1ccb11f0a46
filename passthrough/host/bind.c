/*
 * bind/unbind through driver_override, with a state file so that unbind (or
 * a later `ptvm unbind` after a crash) restores exactly the previous driver.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "passthrough/host/bind.h"
#include "passthrough/host/host-tools.h"
#include "passthrough/host/inuse.h"
#include "passthrough/host/output.h"
#include "vmm/log.h"

#define PCI_DEVS "sys/bus/pci/devices"

// The driver's name from the device's driver link; "" when unbound. Signal-safe.
static void link_driver(const char *link, char *out, size_t len)
{
	char target[HOST_PATH_LEN];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	const char *base;
	size_t l;

	out[0] = '\0';
	if (n <= 0)
		return;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	l = strlen(base);
	if (l >= len)
		return;
	memcpy(out, base, l + 1);
}

// Make every path restore needs, so restore itself never formats strings.
static int prepare_paths(struct host_bind_state *st)
{
	const struct sysfs *s = &st->sys;
	int r = 0;

	r |= sysfs_path(s, st->override_path, HOST_PATH_LEN, PCI_DEVS "/%s/driver_override", st->bdf);
	r |= sysfs_path(s, st->driver_link, HOST_PATH_LEN, PCI_DEVS "/%s/driver", st->bdf);
	r |= sysfs_path(s, st->link_unbind, HOST_PATH_LEN, PCI_DEVS "/%s/driver/unbind", st->bdf);
	r |= sysfs_path(s, st->probe_path, HOST_PATH_LEN, "sys/bus/pci/drivers_probe");
	if (st->prev_driver[0])
		r |= sysfs_path(s, st->prev_bind, HOST_PATH_LEN, "sys/bus/pci/drivers/%s/bind",
				st->prev_driver);
	r |= sysfs_path(s, st->state_path, HOST_PATH_LEN, HOST_STATE_DIR "/%s", st->bdf);
	return r ? -ENAMETOOLONG : 0;
}

// mkdir -p of run/ptvm under the root.
static int make_state_dir(const struct sysfs *s)
{
	char p[PATH_MAX];

	if (sysfs_path(s, p, sizeof(p), "run") < 0)
		return -ENAMETOOLONG;
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (sysfs_path(s, p, sizeof(p), HOST_STATE_DIR) < 0)
		return -ENAMETOOLONG;
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

// Write the state file atomically (temporary file, then rename).
static int save_state(const struct host_bind_state *st)
{
	char tmp[HOST_PATH_LEN + 8];
	FILE *f;
	int r;

	r = make_state_dir(&st->sys);
	if (r < 0)
		return r;
	snprintf(tmp, sizeof(tmp), "%s.tmp", st->state_path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "# ptvm bind: the driver this device had before vfio-pci\n"
		   "bdf=%s\ndriver=%s\noverride=%s\n", st->bdf, st->prev_driver, st->prev_override);
	if (fclose(f) != 0) {
		r = -errno;
		unlink(tmp);
		return r;
	}
	if (rename(tmp, st->state_path) < 0) {
		r = -errno;
		unlink(tmp);
		return r;
	}
	return 0;
}

// Parse run/ptvm/BDF (key=value lines) and prepare the restore paths.
int host_bind_load(const struct sysfs *s, const char *bdf, struct host_bind_state *st)
{
	char buf[512], *line, *save = NULL;
	int r;

	memset(st, 0, sizeof(*st));
	st->sys = *s;
	snprintf(st->bdf, sizeof(st->bdf), "%s", bdf);
	r = sysfs_read(s, buf, sizeof(buf), HOST_STATE_DIR "/%s", bdf);
	if (r < 0)
		return r;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "driver=", 7))
			snprintf(st->prev_driver, sizeof(st->prev_driver), "%s", line + 7);
		else if (!strncmp(line, "override=", 9))
			snprintf(st->prev_override, sizeof(st->prev_override), "%s", line + 9);
	}
	r = prepare_paths(st);
	if (r < 0)
		return r;
	st->active = 1;
	return 0;
}

// Signal-safe string equality on driver names.
static bool same(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

// Only readlink/open/write/close/unlink on prepared paths: safe in a signal handler.
int host_restore(struct host_bind_state *st)
{
	char cur[HOST_NAME_LEN];
	int r;

	if (!st->active)
		return 0;
	link_driver(st->driver_link, cur, sizeof(cur));
	if (cur[0] && !same(cur, st->prev_driver)) {
		r = sysfs_write_abs(&st->sys, st->link_unbind, st->bdf);
		if (r < 0)
			return r;
	}
	/* the kernel clears the override on a lone newline */
	r = sysfs_write_abs(&st->sys, st->override_path,
			    st->prev_override[0] ? st->prev_override : "\n");
	if (r < 0)
		return r;
	link_driver(st->driver_link, cur, sizeof(cur));
	if (st->prev_driver[0] && !same(cur, st->prev_driver)) {
		/* drivers_probe fails when no driver wants the device; the link tells */
		if (!cur[0])
			sysfs_write_abs(&st->sys, st->probe_path, st->bdf);
		link_driver(st->driver_link, cur, sizeof(cur));
		if (cur[0] && !same(cur, st->prev_driver)) {
			r = sysfs_write_abs(&st->sys, st->link_unbind, st->bdf);
			if (r < 0)
				return r;
			cur[0] = '\0';
		}
		if (!cur[0])
			sysfs_write_abs(&st->sys, st->prev_bind, st->bdf);
		link_driver(st->driver_link, cur, sizeof(cur));
		if (!same(cur, st->prev_driver))
			return -EIO;
	} else if (st->reprobe && !cur[0]) {
		sysfs_write_abs(&st->sys, st->probe_path, st->bdf);
	}
	if (st->state_path[0] && unlink(st->state_path) < 0 && errno != ENOENT)
		return -errno;
	st->active = 0;
	return 0;
}

// One pr_err line for a failed sysfs write, with the usual cause's fix.
static void write_failed(const char *bdf, const char *what, int err)
{
	if (err == -EACCES || err == -EPERM)
		pr_err("%s: cannot write %s (%s): run as root, e.g. sudo ptvm bind %s",
		       bdf, what, strerror(-err), bdf);
	else
		pr_err("%s: writing %s failed (%s): see 'dmesg | tail' for the kernel's reason",
		       bdf, what, strerror(-err));
}

// Checks first, then state file, override, unbind, probe; any failure undoes it all.
int host_bind(const struct sysfs *s, const char *bdf, const struct host_bind_opts *o,
	      struct host_bind_state *st)
{
	struct host_dev d;
	char cur[HOST_NAME_LEN], why[512];
	int r;

	memset(st, 0, sizeof(*st));
	st->sys = *s;
	snprintf(st->bdf, sizeof(st->bdf), "%s", bdf);
	r = host_dev_read(s, bdf, &d);
	if (r == -ENODEV) {
		pr_err("no PCI device %s: list the devices with 'ptvm groups' or 'lspci -D'", bdf);
		return r;
	}
	if (r < 0) {
		pr_err("%s: cannot read it in sysfs (%s)", bdf, strerror(-r));
		return r;
	}
	if (host_driver_kind(d.driver) == DRV_VFIO) {
		if (!o || !o->quiet)
			pr_info("%s: already on %s", bdf, d.driver);
		return 0;
	}
	if (d.group < 0) {
		pr_err("%s has no IOMMU group, so vfio-pci cannot take it: the IOMMU is off; "
		       "run 'ptvm check' for the fix", bdf);
		return -ENXIO;
	}
	if (host_dev_is_bridge(&d)) {
		pr_err("%s is a bridge and cannot be passed through: pass the devices behind it", bdf);
		return -EINVAL;
	}
	if (d.boot_vga == 1 && !(o && o->force)) {
		pr_err("%s is the boot VGA device (the host console is on it): move the console "
		       "to another GPU, then use --force", bdf);
		return -EBUSY;
	}
	if (!(o && o->force) && inuse_block(s, bdf, why, sizeof(why)) > 0) {
		pr_err("%s is in use by the host (%s): stop using it first (umount, swapoff, "
		       "vgchange -an), or use --force", bdf, why);
		return -EBUSY;
	}
	if (inuse_net(s, bdf, why, sizeof(why)) > 0)
		pr_warn("%s: %s: the host loses it", bdf, why);
	if (!sysfs_exists(s, "sys/bus/pci/drivers/" HOST_VFIO_DRIVER)) {
		pr_err("the vfio-pci driver is not loaded: run 'modprobe vfio-pci'");
		return -ENOENT;
	}
	snprintf(st->prev_driver, sizeof(st->prev_driver), "%s", d.driver);
	snprintf(st->prev_override, sizeof(st->prev_override), "%s", d.override);
	r = prepare_paths(st);
	if (r < 0)
		return r;
	r = save_state(st);
	if (r < 0) {
		pr_err("%s: cannot write the state file %s (%s): run as root",
		       bdf, st->state_path, strerror(-r));
		return r;
	}
	st->active = 1;
	r = sysfs_write_abs(s, st->override_path, HOST_VFIO_DRIVER);
	if (r < 0) {
		write_failed(bdf, "driver_override", r);
		goto undo;
	}
	if (d.driver[0]) {
		r = sysfs_write_abs(s, st->link_unbind, bdf);
		if (r < 0) {
			write_failed(bdf, "the driver's unbind file", r);
			goto undo;
		}
	}
	sysfs_write_abs(s, st->probe_path, bdf);
	link_driver(st->driver_link, cur, sizeof(cur));
	if (!cur[0]) {
		/* no probe (e.g. drivers_autoprobe off): bind by hand */
		sysfs_write(s, bdf, "sys/bus/pci/drivers/" HOST_VFIO_DRIVER "/bind");
		link_driver(st->driver_link, cur, sizeof(cur));
	}
	if (!same(cur, HOST_VFIO_DRIVER)) {
		pr_err("%s: vfio-pci did not take the device (driver now '%s'): "
		       "see 'dmesg | tail' for the kernel's reason", bdf, cur[0] ? cur : "none");
		r = -EIO;
		goto undo;
	}
	return 0;
undo:
	if (host_restore(st) < 0)
		pr_err("%s: could not give the device back to '%s': run 'ptvm unbind %s'",
		       bdf, st->prev_driver[0] ? st->prev_driver : "no driver", bdf);
	return r;
}

// Bind in order; on a failure restore the bound ones newest first.
int host_bind_all(const struct sysfs *s, char (*bdfs)[16], int n,
		  const struct host_bind_opts *o, struct host_bind_state *st)
{
	for (int i = 0; i < n; i++) {
		int r = host_bind(s, bdfs[i], o, &st[i]);

		if (r < 0) {
			/* all or nothing: undo the ones already bound, newest first */
			while (i-- > 0)
				if (host_restore(&st[i]) < 0)
					pr_err("%s: could not give the device back: run 'ptvm unbind %s'",
					       bdfs[i], bdfs[i]);
			return r;
		}
	}
	return 0;
}

// A restore state for a device on vfio-pci that ptvm did not bind (no state file).
static int state_without_record(const struct sysfs *s, const char *bdf,
				struct host_bind_state *st)
{
	struct host_dev d;
	int r;

	memset(st, 0, sizeof(*st));
	st->sys = *s;
	snprintf(st->bdf, sizeof(st->bdf), "%s", bdf);
	r = host_dev_read(s, bdf, &d);
	if (r < 0)
		return r;
	if (host_driver_kind(d.driver) != DRV_VFIO)
		return -EALREADY;
	r = prepare_paths(st);
	st->state_path[0] = '\0';
	st->reprobe = true;
	st->active = 1;
	return r;
}

// Restore in order; on a failure re-bind the ones already given back.
int host_unbind_all(const struct sysfs *s, char (*bdfs)[16], int n, struct host_bind_state *st)
{
	struct host_bind_opts again = { .force = true, .quiet = true };
	int r = 0, i;

	for (i = 0; i < n; i++) {
		r = host_bind_load(s, bdfs[i], &st[i]);
		if (r == -ENOENT) {
			r = state_without_record(s, bdfs[i], &st[i]);
			if (r == -EALREADY) {
				pr_info("%s: not on vfio-pci and no record: nothing to do", bdfs[i]);
				r = 0;
				continue;
			}
			if (r == 0)
				pr_warn("%s: no record of its old driver (not bound by ptvm): "
					"letting the kernel choose one", bdfs[i]);
		}
		if (r == -ENODEV)
			pr_err("no PCI device %s: list the devices with 'ptvm groups'", bdfs[i]);
		if (r < 0)
			break;
		r = host_restore(&st[i]);
		if (r < 0) {
			write_failed(bdfs[i], "its driver files", r);
			break;
		}
	}
	if (r < 0) {
		/* undo: those already given back go to vfio-pci again */
		while (i-- > 0) {
			struct host_bind_state tmp;

			if (st[i].prev_driver[0] || st[i].reprobe)
				host_bind(s, bdfs[i], &again, &tmp);
		}
	}
	return r;
}

// Append group mates (not bridges, not duplicates) after the given devices.
int host_expand_groups(const struct sysfs *s, char (*bdfs)[16], int n, int max)
{
	int orig = n;

	for (int i = 0; i < orig; i++) {
		struct host_group g;
		struct host_dev d;
		int r = host_dev_read(s, bdfs[i], &d);

		if (r < 0 || d.group < 0)
			continue;       /* host_bind reports it */
		r = host_group_read(s, d.group, &g);
		if (r < 0)
			return r;
		for (int k = 0; k < g.nr_devs; k++) {
			bool dup = false;

			if (host_dev_is_bridge(&g.devs[k]))
				continue;
			for (int j = 0; j < n; j++)
				dup |= !strcmp(bdfs[j], g.devs[k].bdf);
			if (dup)
				continue;
			if (n == max) {
				host_group_free(&g);
				return -E2BIG;
			}
			snprintf(bdfs[n++], 16, "%s", g.devs[k].bdf);
		}
		host_group_free(&g);
	}
	return n;
}

// run.c's entry: normalise the address, then host_bind() without --force.
int host_bind_managed(const char *sysfs_root, const char *bdf, struct host_bind_state *st)
{
	struct host_bind_opts o = { .force = false, .quiet = false };
	struct sysfs s;
	char norm[16];
	int r;

	memset(st, 0, sizeof(*st));
	if (host_parse_bdf(bdf, norm) < 0) {
		pr_err("bad PCI address '%s': use DDDD:BB:DD.F, e.g. 0000:01:00.0", bdf);
		return -EINVAL;
	}
	r = sysfs_init(&s, sysfs_root);
	if (r < 0)
		return r;
	return host_bind(&s, norm, &o, st);
}

// run.c's exit and signal paths: idempotent, async-signal-safe.
int host_restore_managed(struct host_bind_state *st)
{
	return host_restore(st);
}

static const char bind_usage[] =
	"usage: ptvm bind BDF... [--group] [--force] [--json] [--sysfs-root DIR]\n"
	"Give PCI devices to vfio-pci (via driver_override). The driver each had is\n"
	"recorded in /run/ptvm/BDF so 'ptvm unbind' gives it back exactly.\n"
	"  --group  bind every device in the devices' IOMMU groups (bridges stay)\n"
	"  --force  bind the boot VGA device too (the host loses its console)\n"
	"All or nothing: if one device fails, those already bound are given back.\n";

static const char unbind_usage[] =
	"usage: ptvm unbind BDF... [--group] [--json] [--sysfs-root DIR]\n"
	"Give devices bound with 'ptvm bind' back to the driver they had before\n"
	"(from /run/ptvm/BDF); a device with no record goes to the driver the\n"
	"kernel picks. --group: every device in their IOMMU groups.\n";

// Shared front of bind and unbind: a device is needed; expand --group.
static int bind_args(struct host_opts *o, const char *cmd)
{
	int r;

	if (!o->nr_bdfs) {
		pr_err("no device given: ptvm %s BDF... (find them with ptvm groups)", cmd);
		return 2;
	}
	if (o->group) {
		r = host_expand_groups(&o->sys, o->bdfs, o->nr_bdfs, HOST_MAX_BDFS);
		if (r < 0) {
			pr_err("reading the IOMMU groups failed (%s)", strerror(-r));
			return 1;
		}
		o->nr_bdfs = r;
	}
	return -1;
}

// One result per device: people get "BDF: old -> new", tools get JSON.
static void print_moves(const struct host_opts *o, const char *const *from,
			const char *const *to, int rc)
{
	if (o->json) {
		printf("{\"ok\": %s, \"devices\": [", rc ? "false" : "true");
		for (int i = 0; i < o->nr_bdfs; i++) {
			printf("%s{", i ? ", " : "");
			json_kv_str(stdout, true, "address", o->bdfs[i]);
			json_kv_str(stdout, false, "from", from[i]);
			json_kv_str(stdout, false, "driver", to[i]);
			putchar('}');
		}
		printf("]}\n");
		return;
	}
	if (rc)
		return;
	for (int i = 0; i < o->nr_bdfs; i++)
		printf("%s: %s -> %s\n", o->bdfs[i], from[i][0] ? from[i] : "no driver",
		       to[i][0] ? to[i] : "no driver");
}

// Each device's driver now, read back from sysfs (what the user will see).
static void drivers_now(const struct host_opts *o, char (*now)[HOST_NAME_LEN], const char **to)
{
	for (int i = 0; i < o->nr_bdfs; i++) {
		struct host_dev d;

		now[i][0] = '\0';
		if (host_dev_read(&o->sys, o->bdfs[i], &d) == 0)
			memcpy(now[i], d.driver, HOST_NAME_LEN);
		to[i] = now[i];
	}
}

// ptvm bind: all or nothing, then report each device's driver read back.
int host_run_bind(struct host_opts *op)
{
	struct host_opts o = *op;
	struct host_bind_opts bo = { 0 };
	struct host_bind_state *st;
	char (*now)[HOST_NAME_LEN];
	const char *from[HOST_MAX_BDFS], *to[HOST_MAX_BDFS];
	int r = bind_args(&o, "bind");

	if (r >= 0)
		return r;
	bo.force = o.force;
	st = calloc(o.nr_bdfs, sizeof(*st));
	now = calloc(o.nr_bdfs, sizeof(*now));
	if (!st || !now) {
		free(st);
		free(now);
		pr_err("out of memory");
		return 1;
	}
	r = host_bind_all(&o.sys, o.bdfs, o.nr_bdfs, &bo, st);
	for (int i = 0; i < o.nr_bdfs; i++)
		from[i] = st[i].active ? st[i].prev_driver : r ? "" : HOST_VFIO_DRIVER;
	drivers_now(&o, now, to);
	print_moves(&o, from, to, r);
	free(st);
	free(now);
	return r ? 1 : 0;
}

// ptvm unbind: restore from the state files, then report.
int host_run_unbind(struct host_opts *op)
{
	struct host_opts o = *op;
	struct host_bind_state *st;
	char (*now)[HOST_NAME_LEN];
	const char *from[HOST_MAX_BDFS], *to[HOST_MAX_BDFS];
	int r = bind_args(&o, "unbind");

	if (r >= 0)
		return r;
	st = calloc(o.nr_bdfs, sizeof(*st));
	now = calloc(2 * o.nr_bdfs, sizeof(*now));
	if (!st || !now) {
		free(st);
		free(now);
		pr_err("out of memory");
		return 1;
	}
	/* what each is on before, for the report: the first half of now */
	drivers_now(&o, now, from);
	r = host_unbind_all(&o.sys, o.bdfs, o.nr_bdfs, st);
	drivers_now(&o, now + o.nr_bdfs, to);
	print_moves(&o, from, to, r);
	free(st);
	free(now);
	return r ? 1 : 0;
}

// Parse, then host_run_bind().
int cmd_bind(int argc, char **argv)
{
	struct host_opts o;
	int r = host_opts_parse(&o, argc, argv, HOST_OPT_BDFS | HOST_OPT_GROUP | HOST_OPT_FORCE,
				bind_usage);

	if (r)
		return r > 0 ? 0 : 2;
	return host_run_bind(&o);
}

// Parse, then host_run_unbind().
int cmd_unbind(int argc, char **argv)
{
	struct host_opts o;
	int r = host_opts_parse(&o, argc, argv, HOST_OPT_BDFS | HOST_OPT_GROUP, unbind_usage);

	if (r)
		return r > 0 ? 0 : 2;
	return host_run_unbind(&o);
}
