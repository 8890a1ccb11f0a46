/* Options shared by the host commands (check, groups, bind, unbind, sriov). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passthrough/host/host-tools.h"
#include "vmm/log.h"

// Decimal number with an optional K/M/G/T (binary) suffix, "iB"/"B" allowed.
int host_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'i' && shift)
		end++;
	if ((*end == 'B' || *end == 'b') && (shift || end[1] == '\0'))
		end++;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

// The value of "--opt VALUE" or "--opt=VALUE"; NULL (after pr_err) if missing.
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t nl = strlen(name);

	if (argv[*i][nl] == '=')
		return argv[*i] + nl + 1;
	if (*i + 1 >= argc) {
		pr_err("%s needs a value: see ptvm %s --help", name, argv[0]);
		return NULL;
	}
	return argv[++*i];
}

// Does argv[i] name this option (alone or as --opt=VALUE)?
static bool is_opt(const char *arg, const char *name)
{
	size_t nl = strlen(name);

	return !strncmp(arg, name, nl) && (arg[nl] == '\0' || arg[nl] == '=');
}

// One pass over argv; options a command does not accept are errors.
int host_opts_parse(struct host_opts *o, int argc, char **argv, unsigned int accept,
		    const char *usage)
{
	const char *root = "/", *v;
	char *end;

	memset(o, 0, sizeof(*o));
	o->vfs = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return 1;
		} else if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (is_opt(a, "--sysfs-root")) {
			if (!(root = opt_value(argc, argv, &i, "--sysfs-root")))
				return -1;
		} else if ((accept & HOST_OPT_GROUP) && !strcmp(a, "--group")) {
			o->group = true;
		} else if ((accept & HOST_OPT_FORCE) && !strcmp(a, "--force")) {
			o->force = true;
		} else if ((accept & HOST_OPT_MEMORY) && is_opt(a, "--memory")) {
			if (!(v = opt_value(argc, argv, &i, "--memory")))
				return -1;
			if (host_parse_size(v, &o->memory) < 0 || !o->memory) {
				pr_err("bad --memory '%s': use a size like 8G or 512M", v);
				return -1;
			}
		} else if ((accept & HOST_OPT_VFS) && is_opt(a, "--vfs")) {
			if (!(v = opt_value(argc, argv, &i, "--vfs")))
				return -1;
			o->vfs = strtol(v, &end, 10);
			if (*end || end == v || o->vfs < 0 || o->vfs > 65535) {
				pr_err("bad --vfs '%s': give a number of VFs, 0 removes them", v);
				return -1;
			}
		} else if (a[0] == '-') {
			pr_err("unknown option '%s': see ptvm %s --help", a, argv[0]);
			return -1;
		} else if (accept & HOST_OPT_BDFS) {
			if (o->nr_bdfs == HOST_MAX_BDFS) {
				pr_err("too many devices: at most %d per command", HOST_MAX_BDFS);
				return -1;
			}
			if (host_parse_bdf(a, o->bdfs[o->nr_bdfs]) < 0) {
				pr_err("bad PCI address '%s': use DDDD:BB:DD.F as lspci -D shows it, "
				       "e.g. 0000:01:00.0", a);
				return -1;
			}
			o->nr_bdfs++;
		} else {
			pr_err("unexpected argument '%s': see ptvm %s --help", a, argv[0]);
			return -1;
		}
	}
	if (sysfs_init(&o->sys, root) < 0) {
		pr_err("--sysfs-root path too long");
		return -1;
	}
	return 0;
}
