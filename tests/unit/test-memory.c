/* The guest-physical memory map and its listeners. */
#include <errno.h>

#include "tests/unit/harness.h"
#include "vmm/memory.h"

struct rec {
	struct mem_listener l;
	int adds, dels;
	int fail_on_add; /* fail the Nth add (1-based), 0 = never */
	bool only_ram;
};

static bool rec_wants(struct mem_listener *l, const struct mem_region *r)
{
	return !((struct rec *)l->opaque)->only_ram || r->kind == MEM_RAM;
}

static int rec_add(struct mem_listener *l, struct mem_region *r)
{
	struct rec *c = l->opaque;

	if (c->fail_on_add && c->adds + 1 == c->fail_on_add)
		return -EIO;
	c->adds++;
	r->slot = c->adds;
	return 0;
}

static void rec_del(struct mem_listener *l, struct mem_region *r)
{
	((struct rec *)l->opaque)->dels++;
}

static void rec_init(struct rec *c)
{
	memset(c, 0, sizeof(*c));
	c->l.name = "rec";
	c->l.wants = rec_wants;
	c->l.region_add = rec_add;
	c->l.region_del = rec_del;
	c->l.opaque = c;
}

static u8 ram[3 * 4096];

static struct mem_region reg(u64 gpa, u64 size, void *hva, enum mem_kind k)
{
	struct mem_region r = { .name = "r", .gpa = gpa, .size = size, .hva = hva, .kind = k };
	return r;
}

TEST(replay_on_register_and_fanout)
{
	struct mem_map m;
	struct rec a, b;
	struct mem_region r1 = reg(0, 4096, ram, MEM_RAM), r2 = reg(0x10000, 4096, ram + 4096, MEM_DEVICE);

	mem_init(&m);
	rec_init(&a);
	rec_init(&b);
	b.only_ram = true;
	ASSERT_EQ(mem_add(&m, &r1), 0);
	ASSERT_EQ(mem_add(&m, &r2), 0);
	ASSERT_EQ(mem_listener_register(&m, &a.l), 0);
	ASSERT_EQ(a.adds, 2);
	ASSERT_EQ(mem_listener_register(&m, &b.l), 0);
	ASSERT_EQ(b.adds, 1); /* only the RAM region */
	ASSERT_EQ(mem_del(&m, 0x10000), 0);
	ASSERT_EQ(a.dels, 1);
	ASSERT_EQ(b.dels, 0);
	ASSERT_EQ(mem_del(&m, 0x10000), -ENOENT);
	mem_listener_unregister(&m, &a.l);
	ASSERT_EQ(a.dels, 2);
}

TEST(failing_listener_unwinds)
{
	struct mem_map m;
	struct rec a, b;
	struct mem_region r1 = reg(0, 4096, ram, MEM_RAM);

	mem_init(&m);
	rec_init(&a);
	rec_init(&b);
	b.fail_on_add = 1;
	ASSERT_EQ(mem_listener_register(&m, &a.l), 0);
	ASSERT_EQ(mem_listener_register(&m, &b.l), 0);
	ASSERT_EQ(mem_add(&m, &r1), -EIO);
	ASSERT_EQ(m.nr, 0);
	ASSERT_EQ(a.adds, 1);
	ASSERT_EQ(a.dels, 1); /* the first listener was told to undo */
}

TEST(failing_replay_unwinds)
{
	struct mem_map m;
	struct rec a;
	struct mem_region r1 = reg(0, 4096, ram, MEM_RAM), r2 = reg(0x4000, 4096, ram + 4096, MEM_RAM);

	mem_init(&m);
	rec_init(&a);
	a.fail_on_add = 2;
	ASSERT_EQ(mem_add(&m, &r1), 0);
	ASSERT_EQ(mem_add(&m, &r2), 0);
	ASSERT_EQ(mem_listener_register(&m, &a.l), -EIO);
	ASSERT_EQ(a.adds, 1);
	ASSERT_EQ(a.dels, 1);
	ASSERT_TRUE(m.listeners == NULL);
}

TEST(overlap_and_bad_regions)
{
	struct mem_map m;
	struct mem_region r1 = reg(0x1000, 0x2000, ram, MEM_RAM), r2 = reg(0x2000, 0x1000, ram, MEM_RAM),
			  r3 = reg(0, 0, ram, MEM_RAM), r4 = reg(~0ULL - 10, 0x100, ram, MEM_RAM);

	mem_init(&m);
	ASSERT_EQ(mem_add(&m, &r1), 0);
	ASSERT_EQ(mem_add(&m, &r2), -EEXIST);
	ASSERT_EQ(mem_add(&m, &r3), -EINVAL);
	ASSERT_EQ(mem_add(&m, &r4), -EINVAL);
}

TEST(gpa_checks)
{
	struct mem_map m;
	struct mem_region r1 = reg(0x1000, 0x2000, ram, MEM_RAM), r2 = reg(0x8000, 0x1000, ram + 8192, MEM_ROM);
	u8 buf[16] = { 1, 2, 3 };

	mem_init(&m);
	ASSERT_EQ(mem_add(&m, &r2), 0);
	ASSERT_EQ(mem_add(&m, &r1), 0);
	ASSERT_TRUE(m.regions[0].gpa == 0x1000); /* kept sorted */
	ASSERT_TRUE(mem_gpa_to_hva(&m, 0x1000, 0x2000) == ram);
	ASSERT_TRUE(mem_gpa_to_hva(&m, 0x2fff, 1) == ram + 0x1fff);
	ASSERT_TRUE(mem_gpa_to_hva(&m, 0x2fff, 2) == NULL);   /* runs past the end */
	ASSERT_TRUE(mem_gpa_to_hva(&m, 0xfff, 2) == NULL);    /* starts before */
	ASSERT_TRUE(mem_gpa_to_hva(&m, 0x8000, 1) == NULL);   /* ROM is not RAM */
	ASSERT_TRUE(mem_gpa_to_hva(&m, 0x1000, ~0ULL) == NULL); /* overflow */
	ASSERT_TRUE(mem_gpa_to_hva(&m, 0x2000, ~0ULL - 0x100) == NULL);
	ASSERT_EQ(mem_write(&m, 0x1010, buf, 3), 0);
	ASSERT_EQ(ram[0x10], 1);
	ASSERT_EQ(mem_write(&m, 0x2ffe, buf, 3), -EFAULT);
	ASSERT_EQ(mem_read(&m, 0x1010, buf + 8, 3), 0);
	ASSERT_EQ(buf[10], 3);
	ASSERT_EQ(mem_read(&m, 0x100000, buf, 1), -EFAULT);
}

int main(void)
{
	RUN(replay_on_register_and_fanout);
	RUN(failing_listener_unwinds);
	RUN(failing_replay_unwinds);
	RUN(overlap_and_bad_regions);
	RUN(gpa_checks);
	return test_done();
}
