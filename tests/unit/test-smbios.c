/*
 * SMBIOS: the tables parsed back as an OS would (structure walk, strings,
 * the entry point's checksums and counts), for small and large machines,
 * and user-set strings.
 */
#include <errno.h>

#include "firmware/smbios.h"
#include "tests/unit/harness.h"

struct parsed {
	int nr;
	int count[128];     /* structures per type */
	u16 max;            /* largest structure */
	u16 handles[64];
	const u8 *first[128]; /* first structure of each type */
	bool bad;
};

// Walk the structures; every one must end inside the buffer, type 127 last.
static void parse(const u8 *t, size_t len, struct parsed *p)
{
	size_t off = 0;

	memset(p, 0, sizeof(*p));
	while (off < len) {
		const u8 *s = t + off;
		size_t end;

		if (off + 4 > len || s[1] < 4 || off + s[1] + 2 > len) {
			p->bad = true;
			return;
		}
		/* strings: up to the double NUL */
		for (end = off + s[1]; end + 1 < len && (t[end] || t[end + 1]); end++)
			;
		if (end + 1 >= len) {
			p->bad = true;
			return;
		}
		end += 2;
		if (p->nr < 64)
			p->handles[p->nr] = (u16)(s[2] | s[3] << 8);
		p->nr++;
		p->count[s[0] & 127]++;
		if (!p->first[s[0] & 127])
			p->first[s[0] & 127] = s;
		if (end - off > p->max)
			p->max = (u16)(end - off);
		off = end;
		if (s[0] == 127 && off != len)
			p->bad = true;
	}
}

// String number n (1-based) of structure s, or NULL.
static const char *str(const u8 *s, int n)
{
	const char *c = (const char *)s + s[1];

	if (!n)
		return NULL;
	while (--n) {
		if (!*c)
			return NULL;
		c += strlen(c) + 1;
	}
	return *c ? c : NULL;
}

static u8 sum(const u8 *p, size_t n)
{
	u8 s = 0;

	while (n--)
		s += *p++;
	return s;
}

TEST(small_machine_parses_back)
{
	struct smbios_params sp = { .nr_cpus = 2, .low_ram_size = 512 * MiB };
	struct smbios_result r;
	struct parsed p;

	ASSERT_EQ(smbios_build(&sp, &r), 0);
	parse(r.tables, r.len, &p);
	ASSERT_FALSE(p.bad);
	ASSERT_EQ(p.count[0], 1);
	ASSERT_EQ(p.count[1], 1);
	ASSERT_EQ(p.count[3], 1);
	ASSERT_EQ(p.count[4], 2);
	ASSERT_EQ(p.count[16], 1);
	ASSERT_EQ(p.count[17], 1);
	ASSERT_EQ(p.count[19], 1);
	ASSERT_EQ(p.count[32], 1);
	ASSERT_EQ(p.count[127], 1);
	ASSERT_EQ(p.nr, r.nr_structs);
	ASSERT_EQ(p.max, r.max_struct);
	/* handles are unique */
	for (int i = 0; i < p.nr; i++)
		for (int j = i + 1; j < p.nr; j++)
			ASSERT_NE(p.handles[i], p.handles[j]);
	/* type 17 size in MiB, type 19 range in KiB */
	ASSERT_EQ(p.first[17][0xc] | p.first[17][0xd] << 8, 512);
	u32 end_kib;

	memcpy(&end_kib, p.first[19] + 8, 4);
	ASSERT_EQ(end_kib, 512 * 1024 - 1);
	ASSERT_STR_EQ(str(p.first[0], p.first[0][4]), "ptvm");
	ASSERT_STR_EQ(str(p.first[4], p.first[4][4]), "CPU 0");
	/* entry point: both checksums, length, count, max size */
	ASSERT_TRUE(!memcmp(r.anchor, "_SM_", 4));
	ASSERT_TRUE(!memcmp(r.anchor + 0x10, "_DMI_", 5));
	ASSERT_EQ(sum(r.anchor, SMBIOS_ANCHOR_SIZE), 0);
	ASSERT_EQ(sum(r.anchor + 0x10, 0xf), 0);
	ASSERT_EQ(r.anchor[0x16] | r.anchor[0x17] << 8, r.len);
	ASSERT_EQ(r.anchor[0x1c] | r.anchor[0x1d] << 8, r.nr_structs);
	ASSERT_EQ(r.anchor[8] | r.anchor[9] << 8, r.max_struct);
	smbios_free(&r);
}

TEST(large_machine_high_ram_and_dimms)
{
	struct smbios_params sp = { .nr_cpus = 12, .low_ram_size = 2 * GiB, .high_ram_size = 38 * GiB };
	struct smbios_result r;
	struct parsed p;
	u64 ext_end;

	ASSERT_EQ(smbios_build(&sp, &r), 0);
	parse(r.tables, r.len, &p);
	ASSERT_FALSE(p.bad);
	ASSERT_EQ(p.count[4], 12);
	ASSERT_EQ(p.count[17], 3); /* 40 GiB in 16 GiB devices */
	ASSERT_EQ(p.count[19], 2);
	ASSERT_EQ(r.nr_structs, p.nr);
	/* the second type 19 maps the RAM above 4 GiB, in the 32-bit KiB fields */
	const u8 *t19 = p.first[19];

	t19 += t19[1];
	while (t19[0] || t19[1])
		t19++;
	t19 += 2;
	ASSERT_EQ(t19[0], 19);
	u32 start_kib;

	memcpy(&start_kib, t19 + 4, 4);
	ASSERT_EQ(start_kib, 4 * 1024 * 1024);
	memcpy(&ext_end, t19 + 0x17, 8);
	ASSERT_EQ(ext_end, 0); /* fits the 32-bit KiB fields */
	smbios_free(&r);
}

TEST(user_strings_and_bad_params)
{
	struct smbios_params sp = { .nr_cpus = 1, .low_ram_size = 256 * MiB };
	struct smbios_result r;
	struct parsed p;

	sp.str.bios_vendor = "American Megatrends Inc.";
	sp.str.sys_manufacturer = "ASUS";
	sp.str.sys_product = "ROG";
	sp.str.sys_serial = "SN123";
	sp.uuid[0] = 0x42;
	ASSERT_EQ(smbios_build(&sp, &r), 0);
	parse(r.tables, r.len, &p);
	ASSERT_FALSE(p.bad);
	ASSERT_STR_EQ(str(p.first[0], p.first[0][4]), "American Megatrends Inc.");
	ASSERT_STR_EQ(str(p.first[1], p.first[1][4]), "ASUS");
	ASSERT_STR_EQ(str(p.first[1], p.first[1][5]), "ROG");
	ASSERT_STR_EQ(str(p.first[1], p.first[1][7]), "SN123");
	ASSERT_EQ(p.first[1][8], 0x42);
	smbios_free(&r);
	sp.nr_cpus = 0;
	ASSERT_EQ(smbios_build(&sp, &r), -EINVAL);
	sp.nr_cpus = 1;
	sp.low_ram_size = 0;
	ASSERT_EQ(smbios_build(&sp, &r), -EINVAL);
}

int main(void)
{
	RUN(small_machine_parses_back);
	RUN(large_machine_high_ram_and_dimms);
	RUN(user_strings_and_bad_params);
	return test_done();
}
