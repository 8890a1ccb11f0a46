/*
 * In-use checks by walking a device's sysfs directory. Links inside it
 * (driver, subsystem, iommu_group, ...) are not followed, so the walk stays in
 * the device's own subtree; its depth is bounded.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "passthrough/host/inuse.h"

#define PCI_DEVS "sys/bus/pci/devices"
#define MAX_DEPTH 8

enum inuse_kind { KIND_BLOCK, KIND_NET };

struct walk {
	const struct sysfs *s;
	enum inuse_kind kind;
	char *why;
	size_t len;
	int found;
};

// The subsystem a sysfs object belongs to: the last part of its subsystem link.
static void subsystem_of(const struct sysfs *s, const char *rel, char *buf, size_t len)
{
	if (sysfs_link_name(s, buf, len, "%s/subsystem", rel) < 0)
		buf[0] = '\0';
}

// Add one phrase to why, "; "-separated, truncated if it does not fit.
static void note(struct walk *w, const char *phrase)
{
	size_t used = strlen(w->why);

	if (used + 3 < w->len)
		snprintf(w->why + used, w->len - used, "%s%s", used ? "; " : "", phrase);
	w->found = 1;
}

// Is major:minor dev the source of a mount? Gives the mount point.
static bool mounted(const struct sysfs *s, const char *dev, char *where, size_t len)
{
	char path[PATH_MAX], line[1024];
	bool hit = false;
	FILE *f;

	if (sysfs_path(s, path, sizeof(path), "proc/self/mountinfo") < 0)
		return false;
	f = fopen(path, "re");
	if (!f)
		return false;
	/* "36 35 259:2 / /home rw,... - ext4 /dev/nvme0n1p2 rw" */
	while (!hit && fgets(line, sizeof(line), f)) {
		char majmin[32], mnt[512];

		if (sscanf(line, "%*s %*s %31s %*s %511s", majmin, mnt) == 2 && !strcmp(majmin, dev)) {
			snprintf(where, len, "%s", mnt);
			hit = true;
		}
	}
	fclose(f);
	return hit;
}

// Is /dev/name an active swap area?
static bool swapped(const struct sysfs *s, const char *name)
{
	char buf[4096], want[300];
	int n = sysfs_read(s, buf, sizeof(buf), "proc/swaps");

	if (n <= 0)
		return false;
	snprintf(want, sizeof(want), "\n/dev/%s ", name);
	return strstr(buf, want) != NULL;
}

// One block device (disk or partition): mounted, swap, or held by dm/md.
static void check_block(struct walk *w, const char *rel, const char *name)
{
	char dev[32], where[512], phrase[1024], **holders;
	int n;

	if (sysfs_read(w->s, dev, sizeof(dev), "%s/dev", rel) > 0 &&
	    mounted(w->s, dev, where, sizeof(where))) {
		snprintf(phrase, sizeof(phrase), "%s is mounted at %s", name, where);
		note(w, phrase);
	}
	if (swapped(w->s, name)) {
		snprintf(phrase, sizeof(phrase), "%s is a swap area", name);
		note(w, phrase);
	}
	if (sysfs_list(w->s, &holders, &n, "%s/holders", rel) == 0) {
		if (n > 0) {
			snprintf(phrase, sizeof(phrase), "%s is held by %s (LVM, RAID or crypt)",
				 name, holders[0]);
			note(w, phrase);
		}
		free(holders);
	}
}

// One network interface: in use when its operstate is up.
static void check_net(struct walk *w, const char *rel, const char *name)
{
	char state[32], phrase[300];

	if (sysfs_read(w->s, state, sizeof(state), "%s/operstate", rel) > 0 &&
	    !strcmp(state, "up")) {
		snprintf(phrase, sizeof(phrase), "network interface %s is up", name);
		note(w, phrase);
	}
}

// Depth-first over real subdirectories (d_type or lstat says directory).
static void walk_dir(struct walk *w, const char *rel, int depth)
{
	char path[PATH_MAX], sub[PATH_MAX], subsys[64];
	struct dirent *de;
	DIR *d;

	if (depth > MAX_DEPTH || sysfs_path(w->s, path, sizeof(path), "%s", rel) < 0)
		return;
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", rel, de->d_name) >= (int)sizeof(sub))
			continue;
		if (de->d_type != DT_DIR) {
			char p[PATH_MAX];

			if (de->d_type != DT_UNKNOWN ||
			    sysfs_path(w->s, p, sizeof(p), "%s", sub) < 0 ||
			    lstat(p, &st) < 0 || !S_ISDIR(st.st_mode))
				continue;
		}
		subsystem_of(w->s, sub, subsys, sizeof(subsys));
		if (w->kind == KIND_BLOCK && !strcmp(subsys, "block"))
			check_block(w, sub, de->d_name);
		else if (w->kind == KIND_NET && !strcmp(subsys, "net"))
			check_net(w, sub, de->d_name);
		walk_dir(w, sub, depth + 1);
	}
	closedir(d);
}

// Shared front: the device must exist; walk from its directory.
static int walk_device(const struct sysfs *s, const char *bdf, enum inuse_kind kind,
		       char *why, size_t len)
{
	struct walk w = { .s = s, .kind = kind, .why = why, .len = len };
	char rel[64];

	if (len)
		why[0] = '\0';
	if (!sysfs_exists(s, PCI_DEVS "/%s", bdf))
		return -ENODEV;
	snprintf(rel, sizeof(rel), PCI_DEVS "/%s", bdf);
	walk_dir(&w, rel, 0);
	return w.found;
}

// Mounted, swapped or held block devices on the device.
int inuse_block(const struct sysfs *s, const char *bdf, char *why, size_t len)
{
	return walk_device(s, bdf, KIND_BLOCK, why, len);
}

// Network interfaces on the device whose operstate is up.
int inuse_net(const struct sysfs *s, const char *bdf, char *why, size_t len)
{
	return walk_device(s, bdf, KIND_NET, why, len);
}
