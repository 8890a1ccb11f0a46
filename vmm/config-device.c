/*
 * `ptvm run --device`: VFIO passthrough devices and ivshmem shared memory
 * (see config.h for the fields). A valid value has its commas cut to NULs
 * so romfile= and path= can point into argv (see the top of config.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/config-priv.h"

// PCI addresses as lspci prints them: [DDDD:]BB:DD.F, hex, any case.
int config_parse_bdf(const char *s, char out[16])
{
	const char *c1 = strchr(s, ':'), *c2, *dot;
	long dom = 0, bus, dev, fn;

	if (!c1)
		return -EINVAL;
	c2 = strchr(c1 + 1, ':');
	if (c2) {
		dom = config_parse_hex(s, c1, 4);
		s = c1 + 1;
		c1 = c2;
	}
	dot = strchr(c1 + 1, '.');
	if (!dot || strchr(c1 + 1, ':'))
		return -EINVAL;
	bus = config_parse_hex(s, c1, 2);
	dev = config_parse_hex(c1 + 1, dot, 2);
	fn = config_parse_hex(dot + 1, dot + 1 + strlen(dot + 1), 1);
	if (dom < 0 || bus < 0 || dev < 0 || dev > 0x1f || fn < 0 || fn > 7)
		return -EINVAL;
	snprintf(out, 16, "%04x:%02x:%02x.%x", (u16)dom, (u8)bus, (u8)dev, (u8)fn);
	return 0;
}

/* addr=SLOT[.FN] in hex as QEMU writes it: slot 1..0x1f (0 is the host bridge), fn 0..7 */
static int parse_dev_addr(struct parse_ctx *p, const char *opt, const struct tok *v,
			  int *slot_out, int *fn_out)
{
	const char *s = v->s, *end = v->s + v->len, *dot = memchr(v->s, '.', v->len);
	long slot, fn = 0;

	if (v->len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	slot = config_parse_hex(s, dot ? dot : end, 2);
	if (dot)
		fn = config_parse_hex(dot + 1, end, 1);
	if (slot < 1 || slot > 0x1f || fn < 0 || fn > 7)
		return fail(p, "%s: bad addr=%.*s: give a slot 1-1f in hex, optionally with a function "
			    "0-7 (e.g. addr=5 or addr=05.1)", opt, (int)v->len, v->s);
	*slot_out = (int)slot;
	*fn_out = (int)fn;
	return 0;
}

/* One key=value of --device; string values point into the (not yet cut) value. */
static int parse_dev_setting(struct parse_ctx *p, const char *opt, const struct tok *t,
			     struct vfio_dev_config *d, bool *have_host)
{
	struct tok key, v;
	char buf[32];

	if (!tok_kv(t, &key, &v)) {
		/* a bare word: reported below as an unknown setting */
		key = *t;
		v.s = t->s + t->len;
		v.len = 0;
	}
	if (tok_is(&key, "host")) {
		if (!tok_copy(&v, buf, sizeof(buf)) || config_parse_bdf(buf, d->host))
			return fail(p, "%s: bad host=%.*s: give the PCI address as lspci -D prints it, "
				    "e.g. host=0000:01:00.0", opt, (int)v.len, v.s);
		*have_host = true;
		return 0;
	}
	if (tok_is(&key, "addr"))
		return parse_dev_addr(p, opt, &v, &d->slot, &d->fn);
	if (tok_is(&key, "romfile")) {
		if (!v.len)
			return fail(p, "%s: romfile= needs a file path", opt);
		d->romfile = v.s;
		return 0;
	}
	if (tok_is(&key, "rombar"))
		return config_parse_onoff(p, opt, &key, &v, &d->rombar);
	if (tok_is(&key, "multifunction"))
		return config_parse_onoff(p, opt, &key, &v, &d->multifunction);
	if (tok_is(&key, "x-vga"))
		return config_parse_onoff(p, opt, &key, &v, &d->x_vga);
	if (tok_is(&key, "managed"))
		return config_parse_onoff(p, opt, &key, &v, &d->managed);
	return fail(p, "%s: unknown setting '%.*s': accepted are host=, addr=, rombar=, romfile=, "
		    "multifunction=, x-vga= and managed=", opt, (int)t->len, t->s);
}

/* One key=value of --device ivshmem; path= points into the (not yet cut) value. */
static int parse_shm_setting(struct parse_ctx *p, const char *opt, const struct tok *t,
			     struct shm_dev_config *d)
{
	struct tok key, v;
	char buf[32];

	if (!tok_kv(t, &key, &v))
		key = v = (struct tok){ t->s, t->len };
	if (tok_is(&key, "path")) {
		if (!v.len || v.s == key.s)
			return fail(p, "%s: path= needs a file, e.g. path=/dev/shm/looking-glass", opt);
		d->path = v.s;
		return 0;
	}
	if (tok_is(&key, "size")) {
		if (!tok_copy(&v, buf, sizeof(buf)) || config_parse_size(buf, &d->size) ||
		    d->size < CONFIG_MIN_SHM_SIZE || (d->size & (d->size - 1)))
			return fail(p, "%s: bad size=%.*s: give a power of two of at least 1M, e.g. "
				    "size=32M (Looking Glass wants at least twice the frame)", opt,
				    (int)v.len, v.s);
		return 0;
	}
	if (tok_is(&key, "addr"))
		return parse_dev_addr(p, opt, &v, &d->slot, &d->fn);
	return fail(p, "%s: unknown setting '%.*s': accepted for ivshmem are path=, size= and "
		    "addr=", opt, (int)t->len, t->s);
}

/* --device ivshmem,path=FILE,size=SIZE[,addr=SLOT[.FN]] (rest: after the type) */
static int opt_device_shm(struct parse_ctx *p, const char *opt, char *val, const char *rest)
{
	struct vm_config *c = p->c;
	struct shm_dev_config d = { .slot = -1, .fn = -1 };
	struct tok t;

	if (c->nr_shm >= CONFIG_MAX_SHM)
		return fail(p, "%s: too many ivshmem devices: at most %d", opt, CONFIG_MAX_SHM);
	while (tok_next(&rest, &t))
		if (parse_shm_setting(p, opt, &t, &d))
			return -1;
	if (!d.path || !d.size)
		return fail(p, "%s: '%s' needs path= and size=, e.g. "
			    "ivshmem,path=/dev/shm/looking-glass,size=32M", opt, val);
	for (int i = 0; i < c->nr_shm; i++) {
		size_t len = strcspn(d.path, ",");

		if (strlen(c->shm[i].path) == len && !strncmp(c->shm[i].path, d.path, len))
			return fail(p, "%s: path=%s is given twice: give each ivshmem file once", opt,
				    c->shm[i].path);
	}
	cut_commas(val);
	c->shm[c->nr_shm++] = d;
	return 0;
}

/* --device vfio,host=BDF[,addr=SLOT[.FN]][,rombar=..][,romfile=..][,multifunction=..][,x-vga=..][,managed=..]
 * or --device ivshmem,... (opt_device_shm) */
int config_opt_device(struct parse_ctx *p, const char *opt, char *val)
{
	struct vm_config *c = p->c;
	struct vfio_dev_config d = { .slot = -1, .fn = -1, .rombar = true };
	const char *rest = val;
	struct tok t;
	bool have_host = false;

	t = tok_first(&rest);
	if (tok_is(&t, "ivshmem") || tok_is(&t, "ivshmem-plain"))
		return opt_device_shm(p, opt, val, rest);
	if (c->nr_devices >= CONFIG_MAX_DEVICES)
		return fail(p, "%s: too many devices: at most %d", opt, CONFIG_MAX_DEVICES);
	if (!tok_is(&t, "vfio") && !tok_is(&t, "vfio-pci"))
		return fail(p, "%s: unknown device type '%.*s': give vfio or ivshmem "
			    "(e.g. --device vfio,host=0000:01:00.0)", opt, (int)t.len, t.s);
	while (tok_next(&rest, &t))
		if (parse_dev_setting(p, opt, &t, &d, &have_host))
			return -1;
	if (!have_host)
		return fail(p, "%s: '%s' has no host=: give the device, e.g. vfio,host=0000:01:00.0",
			    opt, val);
	for (int i = 0; i < c->nr_devices; i++) {
		if (!strcmp(c->devices[i].host, d.host))
			return fail(p, "%s: host=%s is given twice: give each device once", opt, d.host);
		if (d.slot >= 0 && c->devices[i].slot == d.slot && c->devices[i].fn == d.fn)
			return fail(p, "%s: addr=%02x.%x is used by host=%s too: give each device its own "
				    "addr", opt, d.slot, d.fn, c->devices[i].host);
	}
	cut_commas(val);
	c->devices[c->nr_devices++] = d;
	return 0;
}
