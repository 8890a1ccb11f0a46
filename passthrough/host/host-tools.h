/*
 * The host-side commands for passthrough (issue 4), called from vmm/main.c:
 *   ptvm check [BDF...] [--memory SIZE]   can these devices be passed through now?
 *   ptvm groups                           every IOMMU group and whether it is usable
 *   ptvm bind BDF... [--group] [--force]  give devices to vfio-pci
 *   ptvm unbind BDF... [--group]          give them back to their old drivers
 *   ptvm sriov BDF [--vfs N]              create/remove/list SR-IOV VFs
 * All take --sysfs-root DIR (default /) and --json. Exit status: 0 success,
 * 1 failure (check: a problem found), 2 bad usage.
 */
#ifndef PTVM_HOST_TOOLS_H
#define PTVM_HOST_TOOLS_H

#include <stdbool.h>
#include <stdint.h>

#include "passthrough/host/sysfs.h"

int cmd_check(int argc, char **argv);
int cmd_groups(int argc, char **argv);
int cmd_bind(int argc, char **argv);
int cmd_unbind(int argc, char **argv);
int cmd_sriov(int argc, char **argv);

#define HOST_MAX_BDFS 64

/* which options a command accepts besides --sysfs-root, --json and --help */
enum {
	HOST_OPT_BDFS = 1 << 0,     /* positional device addresses */
	HOST_OPT_MEMORY = 1 << 1,   /* --memory SIZE */
	HOST_OPT_GROUP = 1 << 2,    /* --group */
	HOST_OPT_FORCE = 1 << 3,    /* --force */
	HOST_OPT_VFS = 1 << 4,      /* --vfs N */
};

struct host_opts {
	struct sysfs sys;
	bool json, group, force;
	uint64_t memory;            /* 0 = not given */
	long vfs;                   /* -1 = not given */
	int nr_bdfs;
	char bdfs[HOST_MAX_BDFS][16];
};

/*
 * Parse argv (argv[0] is the command name). Returns 0, 1 when --help was
 * printed, or -1 after one pr_err line (the caller exits with 2).
 */
int host_opts_parse(struct host_opts *o, int argc, char **argv, unsigned int accept,
		    const char *usage);
/*
 * The commands after parsing, so tests can hook a fake kernel into
 * o->sys.after_write. Same exit statuses as the cmd_ functions.
 */
int host_run_bind(struct host_opts *o);
int host_run_unbind(struct host_opts *o);
int host_run_sriov(struct host_opts *o);

/* "8G", "512M", "1024K", "4096" -> bytes; -EINVAL when malformed. */
int host_parse_size(const char *s, uint64_t *out);

#endif
