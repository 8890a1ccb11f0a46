/*
 * CFI flash: the command sequences OVMF uses (its flash detection, program,
 * block erase, read array), the memory slot leaving and coming back with the
 * mode, write-through to the backing file, CFI query, the read-only flash.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/pflash.h"
#include "tests/unit/fake-vm.h"
#include "tests/unit/harness.h"

#define GPA 0xffc00000ULL
#define SIZE (4 * PFLASH_SECTOR_SIZE)

struct fixture {
	struct vm vm;
	struct pflash p;
	char path[64];
	int fd;
	u8 *mem;
};

// A vars-like file of SIZE bytes (0x5a everywhere) mapped as a writable flash.
static int setup(struct fixture *f, bool readonly)
{
	u8 buf[SIZE];

	fake_vm_init(&f->vm);
	mem_init(&f->vm.mem);
	snprintf(f->path, sizeof(f->path), "/tmp/test-pflash-XXXXXX");
	f->fd = mkstemp(f->path);
	memset(buf, 0x5a, sizeof(buf));
	if (f->fd < 0 || write(f->fd, buf, sizeof(buf)) != SIZE)
		return -1;
	f->mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
	if (f->mem == MAP_FAILED)
		return -1;
	return pflash_init(&f->p, &f->vm, "vars", GPA, f->mem, SIZE, f->fd, readonly);
}

static void teardown(struct fixture *f)
{
	pflash_destroy(&f->p);
	munmap(f->mem, SIZE);
	close(f->fd);
	unlink(f->path);
	fake_vm_destroy(&f->vm);
}

// One byte MMIO access at flash offset off, as a vCPU exit would make it.
static u8 mmio(struct fixture *f, u64 off, bool write, u8 val)
{
	struct bus_access a = { .addr = GPA + off, .data = &val, .len = 1, .is_write = write };

	vm_lock(&f->vm);
	bus_dispatch(&f->vm.bus, BUS_MMIO, &a);
	vm_unlock(&f->vm);
	return val;
}

// The byte the file holds at off (what the next run would see).
static u8 file_byte(struct fixture *f, u64 off)
{
	u8 b = 0;

	pread(f->fd, &b, 1, (off_t)off);
	return b;
}

TEST(mapped_in_array_mode)
{
	struct fixture f;

	ASSERT_EQ(setup(&f, false), 0);
	ASSERT_TRUE(mem_find(&f.vm.mem, GPA));
	ASSERT_EQ(mem_find(&f.vm.mem, GPA)->kind, MEM_ROM);
	ASSERT_EQ(mmio(&f, 100, false, 0), 0x5a);
	teardown(&f);
}

TEST(ovmf_detection_sees_flash)
{
	struct fixture f;
	u8 orig;

	/* QemuFlashDetected: CLEAR_STATUS, read; READ_STATUS, read must give 0 */
	ASSERT_EQ(setup(&f, false), 0);
	orig = mmio(&f, 0, false, 0);
	mmio(&f, 0, true, 0x50);
	ASSERT_EQ(mmio(&f, 0, false, 0), orig); /* array mode: not RAM-like */
	mmio(&f, 0, true, 0x70);
	ASSERT_FALSE(mem_find(&f.vm.mem, GPA)); /* status reads must exit */
	ASSERT_EQ(mmio(&f, 0, false, 0), 0x00);
	mmio(&f, 0, true, 0xff);
	ASSERT_TRUE(mem_find(&f.vm.mem, GPA));
	ASSERT_EQ(mmio(&f, 0, false, 0), orig);
	ASSERT_EQ(file_byte(&f, 0), 0x5a); /* detection wrote nothing */
	teardown(&f);
}

TEST(program_and_erase_reach_the_file)
{
	struct fixture f;

	ASSERT_EQ(setup(&f, false), 0);
	/* QemuFlashWrite: 0x10 + byte per byte, then READ_ARRAY */
	mmio(&f, 0x1001, true, 0x10);
	mmio(&f, 0x1001, true, 0x12);
	mmio(&f, 0x1002, true, 0x40);
	mmio(&f, 0x1002, true, 0x34);
	ASSERT_EQ(mmio(&f, 0x1002, false, 0) & 0x80, 0x80); /* status: ready */
	mmio(&f, 0x1002, true, 0xff);
	ASSERT_EQ(mmio(&f, 0x1001, false, 0), 0x12);
	ASSERT_EQ(f.mem[0x1002], 0x34);
	ASSERT_EQ(file_byte(&f, 0x1001), 0x12);
	ASSERT_EQ(file_byte(&f, 0x1002), 0x34);
	/* QemuFlashEraseBlock: 0x20, 0xd0 at the block; the whole sector is ones */
	mmio(&f, 0x2000, true, 0x20);
	mmio(&f, 0x2000, true, 0xd0);
	mmio(&f, 0x2000, true, 0xff);
	ASSERT_EQ(file_byte(&f, 0x2000), 0xff);
	ASSERT_EQ(file_byte(&f, 0x2fff), 0xff);
	ASSERT_EQ(file_byte(&f, 0x1fff), 0x5a);
	ASSERT_EQ(file_byte(&f, 0x3000), 0x5a);
	teardown(&f);
}

TEST(erase_without_confirm_is_an_error)
{
	struct fixture f;

	ASSERT_EQ(setup(&f, false), 0);
	mmio(&f, 0x3000, true, 0x20);
	mmio(&f, 0x3000, true, 0x77);
	ASSERT_EQ(mmio(&f, 0x3000, false, 0) & 0x30, 0x30);
	mmio(&f, 0, true, 0x50); /* clear status */
	ASSERT_EQ(mmio(&f, 0x3000, false, 0), 0x5a);
	mmio(&f, 0, true, 0x70);
	ASSERT_EQ(mmio(&f, 0, false, 0), 0);
	teardown(&f);
}

TEST(cfi_query_and_id)
{
	struct fixture f;

	ASSERT_EQ(setup(&f, false), 0);
	mmio(&f, 0x55, true, 0x98);
	ASSERT_EQ(mmio(&f, 0x10, false, 0), 'Q');
	ASSERT_EQ(mmio(&f, 0x11, false, 0), 'R');
	ASSERT_EQ(mmio(&f, 0x12, false, 0), 'Y');
	ASSERT_EQ(mmio(&f, 0x27, false, 0), 14); /* 16 KiB */
	ASSERT_EQ(mmio(&f, 0x2d, false, 0), 3);  /* 4 blocks - 1 */
	mmio(&f, 0, true, 0x90);
	ASSERT_EQ(mmio(&f, 0, false, 0), 0x89);
	mmio(&f, 0, true, 0xff);
	ASSERT_EQ(mmio(&f, 0x10, false, 0), 0x5a);
	teardown(&f);
}

TEST(readonly_flash_ignores_commands)
{
	struct fixture f;

	ASSERT_EQ(setup(&f, true), 0);
	mmio(&f, 0x10, true, 0x10);
	mmio(&f, 0x10, true, 0x00);
	mmio(&f, 0x10, true, 0x20);
	mmio(&f, 0x10, true, 0xd0);
	ASSERT_TRUE(mem_find(&f.vm.mem, GPA));
	ASSERT_EQ(mmio(&f, 0x10, false, 0), 0x5a);
	ASSERT_EQ(file_byte(&f, 0x10), 0x5a);
	teardown(&f);
}

TEST(bad_size_refused)
{
	struct vm vm;
	struct pflash p;
	static u8 mem[PFLASH_SECTOR_SIZE + 512];

	fake_vm_init(&vm);
	mem_init(&vm.mem);
	ASSERT_TRUE(pflash_init(&p, &vm, "odd", GPA, mem, sizeof(mem), -1, false) < 0);
	ASSERT_FALSE(bus_find(&vm.bus, BUS_MMIO, GPA));
	fake_vm_destroy(&vm);
}

int main(void)
{
	RUN(mapped_in_array_mode);
	RUN(ovmf_detection_sees_flash);
	RUN(program_and_erase_reach_the_file);
	RUN(erase_without_confirm_is_an_error);
	RUN(cfi_query_and_id);
	RUN(readonly_flash_ignores_commands);
	RUN(bad_size_refused);
	return test_done();
}
