/*
 * Giving PCI devices to vfio-pci and back.
 *
 * Bind: record the device's driver and driver_override in a state file
 * (/run/ptvm/<bdf> under the sysfs root), write "vfio-pci" to driver_override,
 * unbind the host driver, ask drivers_probe. Restore: the reverse, until the
 * device is on exactly the driver it had (or on none if it had none).
 *
 * Everything restore needs is prepared at bind time, so host_restore() and
 * host_restore_managed() use only readlink/open/write/close/unlink: they are
 * async-signal-safe (when sysfs.after_write is NULL) and idempotent.
 */
#ifndef PTVM_HOST_BIND_H
#define PTVM_HOST_BIND_H

#include <signal.h>
#include <stdbool.h>

#include "passthrough/host/sysfs.h"
#include "passthrough/host/groups.h"

#define HOST_STATE_DIR "run/ptvm"
#define HOST_VFIO_DRIVER "vfio-pci"
#define HOST_PATH_LEN 512

struct host_bind_state {
	struct sysfs sys;
	char bdf[16];
	char prev_driver[HOST_NAME_LEN];    /* "" = it had none */
	char prev_override[HOST_NAME_LEN];  /* "" = none */
	/* absolute paths, made at bind time */
	char override_path[HOST_PATH_LEN];  /* .../devices/BDF/driver_override */
	char driver_link[HOST_PATH_LEN];    /* .../devices/BDF/driver */
	char link_unbind[HOST_PATH_LEN];    /* .../devices/BDF/driver/unbind */
	char probe_path[HOST_PATH_LEN];     /* .../bus/pci/drivers_probe */
	char prev_bind[HOST_PATH_LEN];      /* .../drivers/PREV/bind */
	char state_path[HOST_PATH_LEN];     /* .../run/ptvm/BDF, "" = no file */
	bool reprobe;   /* no record of the old driver: let the kernel pick one */
	volatile sig_atomic_t active;       /* 1 from the first change until restored */
};

struct host_bind_opts {
	bool force;     /* bind the boot VGA device, or one with a mounted disk, anyway */
	bool quiet;     /* no pr_info progress */
};

/*
 * Bind one device to vfio-pci. On success st->active is 1 if something was
 * changed, 0 if the device was already on a vfio driver. On failure every
 * change is undone and one pr_err line says why and what to do.
 */
int host_bind(const struct sysfs *s, const char *bdf, const struct host_bind_opts *o,
	      struct host_bind_state *st);
/* Undo host_bind(); 0 if nothing to do. -errno (and active stays 1) on failure. */
int host_restore(struct host_bind_state *st);
/* Fill st from the state file of a bound device; -ENOENT when there is none. */
int host_bind_load(const struct sysfs *s, const char *bdf, struct host_bind_state *st);

/* All or nothing: on a failure, devices bound so far are restored. st has n entries. */
int host_bind_all(const struct sysfs *s, char (*bdfs)[16], int n,
		  const struct host_bind_opts *o, struct host_bind_state *st);
/*
 * Give each device back (from its state file, else to the driver the kernel
 * picks); on a failure re-bind those given back. st (n entries) tells what
 * each device went back to.
 */
int host_unbind_all(const struct sysfs *s, char (*bdfs)[16], int n, struct host_bind_state *st);
/*
 * Add the other members of each device's IOMMU group (bridges left out) to
 * the list, which has room for max; returns the new count or -errno.
 */
int host_expand_groups(const struct sysfs *s, char (*bdfs)[16], int n, int max);

/*
 * For `ptvm run --device vfio,host=BDF,managed=on` (libvirt's managed
 * devices): bind before the VM starts, restore when it ends, also from a
 * signal or error path. Restore is idempotent and async-signal-safe; the state
 * file lets `ptvm unbind BDF` finish the job if ptvm was killed by SIGKILL.
 * Call restore only after this process closed the device's VFIO fds: the
 * kernel's vfio-pci unbind waits until the device is released, so restoring
 * with the device still open blocks.
 */
int host_bind_managed(const char *sysfs_root, const char *bdf, struct host_bind_state *st);
int host_restore_managed(struct host_bind_state *st);

#endif
