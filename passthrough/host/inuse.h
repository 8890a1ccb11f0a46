/*
 * Does the host still use a PCI device? Block devices on it that are mounted,
 * swapped on or held by device-mapper/md (found by walking the device's sysfs
 * directory for children whose subsystem is "block"), and network interfaces
 * on it that are up. Binding such a device to vfio-pci pulls the disk or the
 * link from under the host.
 */
#ifndef PTVM_HOST_INUSE_H
#define PTVM_HOST_INUSE_H

#include <stddef.h>

#include "passthrough/host/sysfs.h"

/* 1 and one phrase in why ("nvme0n1p2 is mounted at /") when a block device
 * on bdf is in use; 0 when none is; -errno when the device cannot be read. */
int inuse_block(const struct sysfs *s, const char *bdf, char *why, size_t len);
/* 1 and the interfaces in why ("eth0 is up") when one on bdf is up; else 0. */
int inuse_net(const struct sysfs *s, const char *bdf, char *why, size_t len);

#endif
