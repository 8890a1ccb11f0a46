/*
 * Every file the host tools read or write under /sys, /proc, /dev, /run and
 * /usr/share goes through one root directory ("/" on a real host, a recorded
 * tree in tests). Paths given to these helpers are relative to that root and
 * have no leading slash, e.g. "sys/bus/pci/devices/0000:01:00.0/vendor".
 */
#ifndef PTVM_HOST_SYSFS_H
#define PTVM_HOST_SYSFS_H

#include <stdbool.h>
#include <stddef.h>
#include <limits.h>

struct sysfs {
	char root[PATH_MAX];    /* no trailing slash; "" means "/" */
	/*
	 * Tests only (NULL in ptvm): called after each successful write with
	 * the path relative to the root, so a test can play the kernel's part
	 * (move the driver link on bind/unbind) and log the write sequence.
	 */
	void (*after_write)(const struct sysfs *s, const char *rel, const char *val);
	void *opaque;
};

/* Point s at root ("/" or a directory); -ENAMETOOLONG if it does not fit. */
int sysfs_init(struct sysfs *s, const char *root);
/* root + "/" + printf(fmt) into buf; -ENAMETOOLONG if it does not fit. */
int sysfs_path(const struct sysfs *s, char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Read a text file, trailing newlines stripped. Returns its length or -errno. */
int sysfs_read(const struct sysfs *s, char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Read a file holding one number ("0x10de", "4", "1"). 0 or -errno. */
int sysfs_read_ulong(const struct sysfs *s, unsigned long *v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Read up to len bytes of a binary file (PCI config). Bytes read or -errno. */
int sysfs_read_bin(const struct sysfs *s, void *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Size of a file (st_size) or -errno. */
long sysfs_file_size(const struct sysfs *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The last component of a symlink's target ("vfio-pci" for .../driver). */
int sysfs_link_name(const struct sysfs *s, char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
bool sysfs_exists(const struct sysfs *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* access(2) with mode under the root; 0 or -errno. */
int sysfs_access(const struct sysfs *s, int mode, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Write val in one write(2), as the kernel wants for sysfs attributes. */
int sysfs_write(const struct sysfs *s, const char *val, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * The same with a path already made by sysfs_path(): only open, write and
 * close, so it is async-signal-safe when after_write is NULL.
 */
int sysfs_write_abs(const struct sysfs *s, const char *abs, const char *val);

/*
 * Directory listing, sorted, "." and ".." left out. On success *names is
 * one malloc'd array of n strings (free with free(*names)); -errno if the
 * directory cannot be read (-ENOENT when missing).
 */
int sysfs_list(const struct sysfs *s, char ***names, int *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "0000:01:00.0" or "01:00.0" -> "0000:01:00.0" (lower case); -EINVAL if malformed. */
int host_parse_bdf(const char *in, char out[16]);

#endif
