/*
 * SMBIOS 2.8 structures (DSP0134) for firmware; see smbios.h. Each structure
 * is its formatted area followed by its strings (1-based, each NUL
 * terminated) and one more NUL; a structure without strings ends in two NULs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/smbios.h"

#define SMBIOS_MAX_STRINGS 8
#define DIMM_MAX (16 * GiB)

/* A growing buffer for the structures. */
struct sbuf {
	u8 *p;
	size_t len, cap;
	int nr;
	u16 max;
	u16 handle;
	bool oom;
};

/* One structure under construction: its formatted area and strings. */
struct sstruct {
	u8 f[64];
	u8 flen;
	const char *str[SMBIOS_MAX_STRINGS];
	int nstr;
};

// Store v as an n-byte little-endian integer at p.
static void put_le(u8 *p, u64 v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (u8)(v >> (8 * i));
}

// Start a structure of type with a formatted area of len bytes; the handle is the next one.
static void s_begin(struct sstruct *s, struct sbuf *b, u8 type, u8 len)
{
	memset(s, 0, sizeof(*s));
	s->f[0] = type;
	s->f[1] = len;
	put_le(s->f + 2, b->handle++, 2);
	s->flen = len;
}

// Add a string and store its number at offset off; empty or NULL strings are 0 (none).
static void s_str(struct sstruct *s, u8 off, const char *str)
{
	if (!str || !str[0] || s->nstr == SMBIOS_MAX_STRINGS) {
		s->f[off] = 0;
		return;
	}
	s->str[s->nstr++] = str;
	s->f[off] = (u8)s->nstr;
}

// Append the finished structure to the buffer.
static void s_end(struct sstruct *s, struct sbuf *b)
{
	size_t size = s->flen + (s->nstr ? 1 : 2); /* strings end in one more NUL; none: two */
	u8 *d;

	for (int i = 0; i < s->nstr; i++)
		size += strlen(s->str[i]) + 1;
	if (b->len + size > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 1024) + size;
		u8 *p = realloc(b->p, cap);

		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	d = b->p + b->len;
	memcpy(d, s->f, s->flen);
	d += s->flen;
	for (int i = 0; i < s->nstr; i++) {
		size_t l = strlen(s->str[i]) + 1;

		memcpy(d, s->str[i], l);
		d += l;
	}
	if (!s->nstr)
		*d++ = 0;
	*d = 0;
	b->len += size;
	if (size > b->max)
		b->max = (u16)MIN(size, 0xffff);
	b->nr++;
}

// Default for an unset string.
static const char *or(const char *s, const char *def)
{
	return s ? s : def;
}

// Type 0: BIOS information.
static void type0(struct sbuf *b, const struct smbios_params *p)
{
	struct sstruct s;

	s_begin(&s, b, 0, 0x1a);
	s_str(&s, 4, or(p->str.bios_vendor, "ptvm"));
	s_str(&s, 5, or(p->str.bios_version, "ptvm"));
	put_le(s.f + 6, 0xe800, 2); /* starting segment */
	s_str(&s, 8, or(p->str.bios_date, "01/01/2026"));
	s.f[9] = 0;                 /* ROM size: 64 KiB units - 1, 0 here */
	put_le(s.f + 0xa, 0x08, 8); /* characteristics: "not supported" */
	s.f[0x12] = 0;
	s.f[0x13] = 0x14;           /* ext 2: targeted content distribution, virtual machine */
	s.f[0x14] = 0;              /* system BIOS major/minor release */
	s.f[0x15] = 0;
	s.f[0x16] = 0xff;           /* embedded controller: none */
	s.f[0x17] = 0xff;
	put_le(s.f + 0x18, 0, 2);   /* extended ROM size */
	s_end(&s, b);
}

// Type 1: system information.
static void type1(struct sbuf *b, const struct smbios_params *p)
{
	struct sstruct s;

	s_begin(&s, b, 1, 0x1b);
	s_str(&s, 4, or(p->str.sys_manufacturer, "ptvm"));
	s_str(&s, 5, or(p->str.sys_product, "ptvm q35"));
	s_str(&s, 6, or(p->str.sys_version, "1.0"));
	s_str(&s, 7, p->str.sys_serial);
	memcpy(s.f + 8, p->uuid, 16);
	s.f[0x18] = 6; /* wake-up: power switch */
	s_str(&s, 0x19, p->str.sys_sku);
	s_str(&s, 0x1a, p->str.sys_family);
	s_end(&s, b);
}

// Type 3: system enclosure.
static void type3(struct sbuf *b, const struct smbios_params *p)
{
	struct sstruct s;

	s_begin(&s, b, 3, 0x16);
	s_str(&s, 4, or(p->str.sys_manufacturer, "ptvm"));
	s.f[5] = 1; /* type: other */
	s_str(&s, 6, NULL);
	s_str(&s, 7, NULL);
	s_str(&s, 8, NULL);
	s.f[9] = s.f[0xa] = s.f[0xb] = 3; /* boot-up, power supply, thermal state: safe */
	s.f[0xc] = 2;                     /* security: unknown */
	s_str(&s, 0x15, NULL);            /* SKU */
	s_end(&s, b);
}

// Type 4: one processor per vCPU (one core, one thread each).
static void type4(struct sbuf *b, int id)
{
	static const char *const names[] = { "CPU 0", "CPU 1", "CPU 2", "CPU 3", "CPU 4", "CPU 5",
					     "CPU 6", "CPU 7", "CPU 8", "CPU 9" };
	struct sstruct s;

	s_begin(&s, b, 4, 0x2a);
	s_str(&s, 4, id < 10 ? names[id] : "CPU");
	s.f[5] = 3;    /* central processor */
	s.f[6] = 0xfe; /* family: see family 2 */
	s_str(&s, 7, "ptvm");
	s_str(&s, 0x10, NULL);
	s.f[0x11] = 0;
	put_le(s.f + 0x14, 2000, 2); /* max speed, MHz */
	put_le(s.f + 0x16, 2000, 2); /* current speed */
	s.f[0x18] = 0x41;            /* socket populated, CPU enabled */
	s.f[0x19] = 1;               /* upgrade: other */
	put_le(s.f + 0x1a, 0xffff, 2);
	put_le(s.f + 0x1c, 0xffff, 2);
	put_le(s.f + 0x1e, 0xffff, 2);
	s.f[0x23] = s.f[0x24] = s.f[0x25] = 1; /* cores, enabled cores, threads */
	put_le(s.f + 0x26, 0x02, 2);           /* characteristics: unknown */
	put_le(s.f + 0x28, 0x01, 2);           /* family 2: other */
	s_end(&s, b);
}

// Type 16: the physical memory array.
static void type16(struct sbuf *b, u64 ram, int ndimms)
{
	struct sstruct s;
	u64 kib = ram / KiB;

	s_begin(&s, b, 16, 0x17);
	s.f[4] = 1; /* location: other */
	s.f[5] = 3; /* use: system memory */
	s.f[6] = 6; /* error correction: multi-bit ECC */
	put_le(s.f + 7, kib < 0x80000000ULL ? kib : 0x80000000ULL, 4);
	put_le(s.f + 0xb, 0xfffe, 2); /* no error information */
	put_le(s.f + 0xd, (u64)ndimms, 2);
	put_le(s.f + 0xf, kib < 0x80000000ULL ? 0 : ram, 8);
	s_end(&s, b);
}

// Type 17: one memory device of size bytes in array handle array.
static void type17(struct sbuf *b, u16 array, u64 size, int i)
{
	static const char *const names[] = { "DIMM 0", "DIMM 1", "DIMM 2", "DIMM 3", "DIMM 4",
					     "DIMM 5", "DIMM 6", "DIMM 7" };
	struct sstruct s;
	u64 mib = size / MiB;

	s_begin(&s, b, 17, 0x28);
	put_le(s.f + 4, array, 2);
	put_le(s.f + 6, 0xfffe, 2);
	put_le(s.f + 8, 64, 2);  /* total width */
	put_le(s.f + 0xa, 64, 2); /* data width */
	put_le(s.f + 0xc, mib < 0x7fff ? mib : 0x7fff, 2);
	s.f[0xe] = 9; /* DIMM */
	s_str(&s, 0x10, i < 8 ? names[i] : "DIMM");
	s_str(&s, 0x11, NULL);
	s.f[0x12] = 7;             /* RAM */
	put_le(s.f + 0x13, 2, 2);  /* type detail: other */
	s_str(&s, 0x17, "ptvm");
	put_le(s.f + 0x1c, mib < 0x7fff ? 0 : mib, 4);
	s_end(&s, b);
}

// Type 19: RAM from start to start + size mapped by array handle array.
static void type19(struct sbuf *b, u16 array, u64 start, u64 size)
{
	struct sstruct s;
	u64 end = start + size - 1;
	bool ext = end / KiB >= 0xffffffffULL;

	s_begin(&s, b, 19, 0x1f);
	put_le(s.f + 4, ext ? 0xffffffffULL : start / KiB, 4);
	put_le(s.f + 8, ext ? 0xffffffffULL : end / KiB, 4);
	put_le(s.f + 0xc, array, 2);
	s.f[0xe] = 1; /* partition width */
	put_le(s.f + 0xf, ext ? start : 0, 8);
	put_le(s.f + 0x17, ext ? end : 0, 8);
	s_end(&s, b);
}

// Types 32 and 127: boot status "no errors" and the end marker.
static void tail(struct sbuf *b)
{
	struct sstruct s;

	s_begin(&s, b, 32, 0xb);
	s_end(&s, b);
	s_begin(&s, b, 127, 4);
	s_end(&s, b);
}

// The sum of len bytes modulo 256.
static u8 sum8(const u8 *p, size_t len)
{
	u8 s = 0;

	while (len--)
		s += *p++;
	return s;
}

// The SMBIOS 2.8 entry point for the structures in r (table address 0).
static void make_anchor(struct smbios_result *r)
{
	u8 *a = r->anchor;

	memset(a, 0, SMBIOS_ANCHOR_SIZE);
	memcpy(a, "_SM_", 4);
	a[5] = SMBIOS_ANCHOR_SIZE;
	a[6] = 2;
	a[7] = 8;
	put_le(a + 8, r->max_struct, 2);
	memcpy(a + 0x10, "_DMI_", 5);
	put_le(a + 0x16, r->len, 2);
	put_le(a + 0x18, 0, 4); /* table address: the firmware's choice */
	put_le(a + 0x1c, (u64)r->nr_structs, 2);
	a[0x1e] = 0x28;
	a[0x15] = (u8)-sum8(a + 0x10, 0xf);
	a[4] = (u8)-sum8(a, SMBIOS_ANCHOR_SIZE);
}

// Build every structure and the entry point.
int smbios_build(const struct smbios_params *p, struct smbios_result *out)
{
	struct sbuf b = { 0 };
	u64 ram = p->low_ram_size + p->high_ram_size, left;
	int ndimms;
	u16 array;

	memset(out, 0, sizeof(*out));
	if (p->nr_cpus < 1 || !p->low_ram_size)
		return -EINVAL;
	ndimms = (int)((ram + DIMM_MAX - 1) / DIMM_MAX);
	type0(&b, p);
	type1(&b, p);
	type3(&b, p);
	for (int i = 0; i < p->nr_cpus; i++)
		type4(&b, i);
	array = b.handle;
	type16(&b, ram, ndimms);
	left = ram;
	for (int i = 0; i < ndimms; i++, left -= MIN(left, DIMM_MAX))
		type17(&b, array, MIN(left, DIMM_MAX), i);
	type19(&b, array, 0, p->low_ram_size);
	if (p->high_ram_size)
		type19(&b, array, 4 * GiB, p->high_ram_size);
	tail(&b);
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	if (b.len > 0xffff) {
		free(b.p);
		return -EINVAL;
	}
	out->tables = b.p;
	out->len = b.len;
	out->nr_structs = b.nr;
	out->max_struct = b.max;
	make_anchor(out);
	return 0;
}

void smbios_free(struct smbios_result *r)
{
	free(r->tables);
	r->tables = NULL;
	r->len = 0;
}
