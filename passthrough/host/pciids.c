/*
 * pci.ids lookups. The file is a list of lines:
 *   "vvvv  Vendor", "\tdddd  Device", "\t\tssss ssss  Subsystem",
 *   "C cc  Class", "\tss  Subclass", "\t\tpp  Prog-if"; '#' starts a comment.
 * We keep it in memory and scan it per lookup: a few dozen lookups per run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passthrough/host/pciids.h"

// Read the whole file (about 1.3 MB) into memory.
int pciids_load(struct pciids *p, const struct sysfs *s)
{
	long size;
	int r;

	p->data = NULL;
	p->len = 0;
	size = sysfs_file_size(s, PCIIDS_PATH);
	if (size == -ENOENT)
		return 0;
	if (size < 0)
		return (int)size;
	p->data = malloc(size + 1);
	if (!p->data)
		return -ENOMEM;
	r = sysfs_read_bin(s, p->data, size, PCIIDS_PATH);
	if (r < 0) {
		pciids_free(p);
		return r;
	}
	p->data[r] = '\0';
	p->len = r;
	return 0;
}

// Drop the file's text; safe to call twice.
void pciids_free(struct pciids *p)
{
	free(p->data);
	p->data = NULL;
	p->len = 0;
}

// Copy the name that follows "<id>  " up to the end of the line.
static const char *copy_name(const char *line, size_t idlen, char *buf, size_t len)
{
	const char *nm = line + idlen, *eol;
	size_t n;

	while (*nm == ' ')
		nm++;
	eol = strchr(nm, '\n');
	n = eol ? (size_t)(eol - nm) : strlen(nm);
	if (n >= len)
		n = len - 1;
	memcpy(buf, nm, n);
	buf[n] = '\0';
	return buf;
}

// Next line start after pos, or NULL at the end.
static const char *next_line(const char *pos)
{
	const char *nl = strchr(pos, '\n');

	return nl ? nl + 1 : NULL;
}

// A top-level line (no tab) matching prefix (e.g. "10de" or "C 03"); NULL if none.
static const char *find_top(const struct pciids *p, const char *prefix)
{
	size_t pl = strlen(prefix);
	const char *l;

	for (l = p->data; l && *l; l = next_line(l))
		if (!strncmp(l, prefix, pl) && l[pl] == ' ')
			return l;
	return NULL;
}

// Within the block below top, a line with `tabs` tabs then key; NULL if none.
static const char *find_child(const char *top, int tabs, const char *key)
{
	size_t kl = strlen(key);
	const char *l;

	for (l = next_line(top); l && *l; l = next_line(l)) {
		int t = 0;

		if (*l == '#' || *l == '\n')
			continue;
		while (l[t] == '\t')
			t++;
		if (t == 0)
			return NULL;        /* next vendor or class: the block ended */
		if (t == tabs && !strncmp(l + t, key, kl) && l[t + kl] == ' ')
			return l + t;
	}
	return NULL;
}

// The vendor's top-level line (4 hex digits first); empties buf; NULL if none.
static const char *vendor_line(const struct pciids *p, unsigned int vendor, char *buf, size_t len)
{
	char key[8];

	buf[0] = '\0';
	if (!p->data || len == 0)
		return NULL;
	snprintf(key, sizeof(key), "%04x", vendor & 0xffff);
	return find_top(p, key);
}

// The vendor's name, or "" when unknown.
const char *pciids_vendor(const struct pciids *p, unsigned int vendor, char *buf, size_t len)
{
	const char *l = vendor_line(p, vendor, buf, len);

	return l ? copy_name(l, 4, buf, len) : buf;
}

// A device line is a one-tab line inside its vendor's block.
const char *pciids_device(const struct pciids *p, unsigned int vendor, unsigned int device,
			  char *buf, size_t len)
{
	const char *l = vendor_line(p, vendor, buf, len);
	char key[8];

	if (!l)
		return buf;
	snprintf(key, sizeof(key), "%04x", device & 0xffff);
	l = find_child(l, 1, key);
	return l ? copy_name(l, 4, buf, len) : buf;
}

// Class "C cc" blocks hold one-tab subclass lines; prefer the subclass name.
const char *pciids_class(const struct pciids *p, unsigned int class, char *buf, size_t len)
{
	char key[8];
	const char *c, *sub;

	buf[0] = '\0';
	if (!p->data || len == 0)
		return buf;
	snprintf(key, sizeof(key), "C %02x", (class >> 16) & 0xff);
	c = find_top(p, key);
	if (!c)
		return buf;
	snprintf(key, sizeof(key), "%02x", (class >> 8) & 0xff);
	sub = find_child(c, 1, key);
	return sub ? copy_name(sub, 2, buf, len) : copy_name(c, 4, buf, len);
}
