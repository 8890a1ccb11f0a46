/*
 * fw_cfg table-loader files from acpi_build()'s result (see loader.h).
 * Every offset in the commands is relative to the start of its file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/acpi/loader.h"

/* Where each file's bytes come from in acpi_build()'s buffer. */
struct file_map {
	u32 tables_start, tables_end;
	u32 rsdp_start;
};

// Store v as an n-byte little-endian integer at p.
static void put_le(u8 *p, u64 v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = v >> (8 * i);
}

// Name of the file table t goes to, and its offset in buf.
static const char *file_of(const struct file_map *m, enum acpi_table t, u32 *base)
{
	if (t == ACPI_RSDP) {
		*base = m->rsdp_start;
		return ACPI_LOADER_FILE_RSDP;
	}
	*base = m->tables_start;
	return ACPI_LOADER_FILE_TABLES;
}

// The blob holding table t (rsdp or tables copy).
static u8 *blob_of(struct acpi_loader *l, enum acpi_table t)
{
	return t == ACPI_RSDP ? l->rsdp : l->tables;
}

// Start a command entry: zeroed, with its command number.
static u8 *cmd_next(struct acpi_loader *l, u32 command)
{
	u8 *e = l->cmds + l->cmds_len;

	memset(e, 0, ACPI_LOADER_ENTRY_SIZE);
	put_le(e, command, 4);
	l->cmds_len += ACPI_LOADER_ENTRY_SIZE;
	return e + 4;
}

// ALLOCATE: the firmware downloads file to memory aligned to align in zone.
static void cmd_allocate(struct acpi_loader *l, const char *file, u32 align, u8 zone)
{
	u8 *e = cmd_next(l, ACPI_LOADER_ALLOCATE);

	strncpy((char *)e, file, ACPI_LOADER_FNAME_SIZE - 1);
	put_le(e + ACPI_LOADER_FNAME_SIZE, align, 4);
	e[ACPI_LOADER_FNAME_SIZE + 4] = zone;
}

// Check that the tables form one block after the RSDP, FACS 64-byte aligned.
static int map_files(const struct acpi_build_result *r, struct file_map *m)
{
	const struct acpi_table_info *rsdp = &r->tables[ACPI_RSDP];

	m->rsdp_start = rsdp->off;
	m->tables_start = UINT32_MAX;
	m->tables_end = 0;
	for (int t = 0; t < ACPI_NR_TABLES; t++) {
		const struct acpi_table_info *ti = &r->tables[t];

		if (t == ACPI_RSDP || !ti->len)
			continue;
		m->tables_start = MIN(m->tables_start, ti->off);
		m->tables_end = MAX(m->tables_end, ti->off + ti->len);
	}
	if (!rsdp->len || m->tables_end == 0 || m->tables_end > r->len ||
	    rsdp->off + rsdp->len > m->tables_start)
		return -EINVAL;
	if (!IS_ALIGNED(r->tables[ACPI_FACS].off - m->tables_start, 64))
		return -EINVAL;
	return 0;
}

// Make the three fw_cfg files from acpi_build()'s buffer and result.
int acpi_loader_build(const u8 *buf, const struct acpi_build_result *r,
		      struct acpi_loader *out)
{
	size_t nr_cmds = 2 + r->nr_ptrs + r->nr_csums;
	struct file_map m;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = map_files(r, &m);
	if (ret)
		return ret;
	out->rsdp_len = r->tables[ACPI_RSDP].len;
	out->tables_len = m.tables_end - m.tables_start;
	out->rsdp = malloc(out->rsdp_len);
	out->tables = malloc(out->tables_len);
	out->cmds = malloc(nr_cmds * ACPI_LOADER_ENTRY_SIZE);
	if (!out->rsdp || !out->tables || !out->cmds) {
		acpi_loader_free(out);
		return -ENOMEM;
	}
	memcpy(out->rsdp, buf + m.rsdp_start, out->rsdp_len);
	memcpy(out->tables, buf + m.tables_start, out->tables_len);

	cmd_allocate(out, ACPI_LOADER_FILE_TABLES, 64, ACPI_LOADER_ZONE_HIGH);
	cmd_allocate(out, ACPI_LOADER_FILE_RSDP, 16, ACPI_LOADER_ZONE_FSEG);
	for (int i = 0; i < r->nr_ptrs; i++) {
		const struct acpi_pointer *p = &r->ptrs[i];
		u32 dbase, sbase;
		const char *dfile = file_of(&m, p->table, &dbase);
		const char *sfile = file_of(&m, p->target, &sbase);
		u8 *e = cmd_next(out, ACPI_LOADER_ADD_POINTER);

		/* the field holds the target's offset in its file; the
		 * firmware adds the file's address */
		put_le(blob_of(out, p->table) + p->off - dbase,
		       r->tables[p->target].off - sbase, p->size);
		strncpy((char *)e, dfile, ACPI_LOADER_FNAME_SIZE - 1);
		strncpy((char *)e + ACPI_LOADER_FNAME_SIZE, sfile, ACPI_LOADER_FNAME_SIZE - 1);
		put_le(e + 2 * ACPI_LOADER_FNAME_SIZE, p->off - dbase, 4);
		e[2 * ACPI_LOADER_FNAME_SIZE + 4] = p->size;
	}
	/* after the pointers, in acpi_build()'s order (RSDP: 20 bytes, then 36) */
	for (int i = 0; i < r->nr_csums; i++) {
		const struct acpi_checksum *c = &r->csums[i];
		u32 base;
		const char *file = file_of(&m, c->table, &base);
		u8 *e = cmd_next(out, ACPI_LOADER_ADD_CHECKSUM);

		/* OVMF stores the checksum of the range including this byte,
		 * which is only right if the byte starts at 0 */
		blob_of(out, c->table)[c->off - base] = 0;
		strncpy((char *)e, file, ACPI_LOADER_FNAME_SIZE - 1);
		put_le(e + ACPI_LOADER_FNAME_SIZE, c->off - base, 4);
		put_le(e + ACPI_LOADER_FNAME_SIZE + 4, c->start - base, 4);
		put_le(e + ACPI_LOADER_FNAME_SIZE + 8, c->len, 4);
	}
	return 0;
}

// Free the three files.
void acpi_loader_free(struct acpi_loader *l)
{
	free(l->rsdp);
	free(l->tables);
	free(l->cmds);
	memset(l, 0, sizeof(*l));
}
