/* File access under one root directory, for the host tools and their tests. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "passthrough/host/sysfs.h"

// Remember the root without a trailing slash so paths join as root + "/" + rel.
int sysfs_init(struct sysfs *s, const char *root)
{
	size_t n;

	memset(s, 0, sizeof(*s));
	if (!root || !*root)
		root = "/";
	n = strlen(root);
	while (n > 0 && root[n - 1] == '/')
		n--;
	if (n >= sizeof(s->root))
		return -ENAMETOOLONG;
	memcpy(s->root, root, n);
	s->root[n] = '\0';
	return 0;
}

// Join the root and a printf-formatted relative path.
static int vpath(const struct sysfs *s, char *buf, size_t len, const char *fmt, va_list ap)
{
	int a, b;

	a = snprintf(buf, len, "%s/", s->root);
	if (a < 0 || (size_t)a >= len)
		return -ENAMETOOLONG;
	b = vsnprintf(buf + a, len - a, fmt, ap);
	if (b < 0 || (size_t)(a + b) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * Fill char array p with the path of the calling variadic function's
 * printf-style arguments (its last named parameter is fmt), or return the
 * error from that function.
 */
#define VPATH_OR_RETURN(s, p, fmt)					\
	do {								\
		va_list ap_;						\
		int r_;							\
									\
		va_start(ap_, fmt);					\
		r_ = vpath(s, p, sizeof(p), fmt, ap_);			\
		va_end(ap_);						\
		if (r_ < 0)						\
			return r_;					\
	} while (0)

// Public form of vpath().
int sysfs_path(const struct sysfs *s, char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vpath(s, buf, len, fmt, ap);
	va_end(ap);
	return r;
}

// Read at most len bytes of an absolute path; bytes read or -errno.
static int read_abs(const char *p, void *buf, size_t len)
{
	size_t got = 0;
	int fd = open(p, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (got < len) {
		ssize_t r = read(fd, (char *)buf + got, len - got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			close(fd);
			return (int)r;
		}
		if (r == 0)
			break;
		got += r;
	}
	close(fd);
	return (int)got;
}

// Text read: NUL-terminated, trailing whitespace stripped.
int sysfs_read(const struct sysfs *s, char *buf, size_t len, const char *fmt, ...)
{
	char p[PATH_MAX];
	int r;

	if (len == 0)
		return -EINVAL;
	buf[0] = '\0';
	VPATH_OR_RETURN(s, p, fmt);
	r = read_abs(p, buf, len - 1);
	if (r < 0)
		return r;
	buf[r] = '\0';
	while (r > 0 && isspace((unsigned char)buf[r - 1]))
		buf[--r] = '\0';
	return r;
}

// Numbers in sysfs are decimal or 0x-prefixed hex; strtoul base 0 takes both.
int sysfs_read_ulong(const struct sysfs *s, unsigned long *v, const char *fmt, ...)
{
	char p[PATH_MAX], buf[64], *end;
	int r;

	VPATH_OR_RETURN(s, p, fmt);
	r = read_abs(p, buf, sizeof(buf) - 1);
	if (r < 0)
		return r;
	buf[r] = '\0';
	errno = 0;
	*v = strtoul(buf, &end, 0);
	if (end == buf || errno)
		return -EINVAL;
	return 0;
}

// Binary read, e.g. a device's config space (64 bytes without root, 4 KiB with).
int sysfs_read_bin(const struct sysfs *s, void *buf, size_t len, const char *fmt, ...)
{
	char p[PATH_MAX];

	VPATH_OR_RETURN(s, p, fmt);
	return read_abs(p, buf, len);
}

// st_size of a file; for a device's rom attribute it is the ROM BAR size.
long sysfs_file_size(const struct sysfs *s, const char *fmt, ...)
{
	char p[PATH_MAX];
	struct stat st;

	VPATH_OR_RETURN(s, p, fmt);
	if (stat(p, &st) < 0)
		return -errno;
	return (long)st.st_size;
}

// The kernel's driver and iommu_group links end in the name we want.
int sysfs_link_name(const struct sysfs *s, char *buf, size_t len, const char *fmt, ...)
{
	char p[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	if (len == 0)
		return -EINVAL;
	buf[0] = '\0';
	VPATH_OR_RETURN(s, p, fmt);
	n = readlink(p, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	while (n > 1 && target[n - 1] == '/')
		target[--n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return 0;
}

// Does the path exist (following links)?
bool sysfs_exists(const struct sysfs *s, const char *fmt, ...)
{
	char p[PATH_MAX];
	struct stat st;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vpath(s, p, sizeof(p), fmt, ap);
	va_end(ap);
	return r == 0 && stat(p, &st) == 0;
}

// access(2) under the root, with the real uid like the kernel's open checks.
int sysfs_access(const struct sysfs *s, int mode, const char *fmt, ...)
{
	char p[PATH_MAX];

	VPATH_OR_RETURN(s, p, fmt);
	return access(p, mode) ? -errno : 0;
}

// One open/write/close; no stdio and no allocation, for cleanup paths.
int sysfs_write_abs(const struct sysfs *s, const char *abs, const char *val)
{
	size_t len = strlen(val);
	ssize_t w;
	int fd, err = 0;

	fd = open(abs, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do {
		w = write(fd, val, len);
	} while (w < 0 && errno == EINTR);
	if (w < 0)
		err = -errno;
	else if ((size_t)w != len)
		err = -EIO;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && s->after_write)
		s->after_write(s, abs + strlen(s->root) + 1, val);
	return err;
}

// Formatted-path form of sysfs_write_abs().
int sysfs_write(const struct sysfs *s, const char *val, const char *fmt, ...)
{
	char p[PATH_MAX];

	VPATH_OR_RETURN(s, p, fmt);
	return sysfs_write_abs(s, p, val);
}

// qsort comparator for an array of C strings.
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

// Directory entries, packed into one allocation: pointers first, then the strings.
int sysfs_list(const struct sysfs *s, char ***names, int *n, const char *fmt, ...)
{
	char p[PATH_MAX], **out, *str;
	size_t bytes = 0, count = 0, i = 0;
	struct dirent *de;
	DIR *d;

	*names = NULL;
	*n = 0;
	VPATH_OR_RETURN(s, p, fmt);
	d = opendir(p);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		count++;
		bytes += strlen(de->d_name) + 1;
	}
	out = malloc((count + 1) * sizeof(char *) + bytes);
	if (!out) {
		closedir(d);
		return -ENOMEM;
	}
	str = (char *)(out + count + 1);
	rewinddir(d);
	while ((de = readdir(d)) && i < count) {
		size_t l = strlen(de->d_name) + 1;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* the directory may have grown since the first pass */
		if ((size_t)(str - (char *)(out + count + 1)) + l > bytes)
			break;
		memcpy(str, de->d_name, l);
		out[i++] = str;
		str += l;
	}
	out[i] = NULL;
	closedir(d);
	qsort(out, i, sizeof(char *), cmp_str);
	*names = out;
	*n = (int)i;
	return 0;
}

// Accept "dddd:bb:dd.f" and "bb:dd.f"; always give the 12-character form.
int host_parse_bdf(const char *in, char out[16])
{
	unsigned int dom = 0, bus, dev, fn;
	char tail;

	if (!in)
		return -EINVAL;
	if (sscanf(in, "%4x:%2x:%2x.%1x%c", &dom, &bus, &dev, &fn, &tail) == 4) {
		if (strlen(in) != 12)
			return -EINVAL;
	} else if (sscanf(in, "%2x:%2x.%1x%c", &bus, &dev, &fn, &tail) == 3) {
		dom = 0;
		if (strlen(in) != 7)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (dev > 0x1f || fn > 7)
		return -EINVAL;
	snprintf(out, 16, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}
