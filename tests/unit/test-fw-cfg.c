/*
 * fw_cfg: the file directory, selection, reads across item ends through the
 * data port, DMA with good and out-of-range guest addresses, DMA write, and
 * the files firmware_create() adds (e820, ACPI table loader) read back the
 * way SeaBIOS reads them.
 */
#include <errno.h>
#include <sys/mman.h>

#include "firmware/acpi/loader.h"
#include "firmware/e820.h"
#include "firmware/firmware.h"
#include "firmware/fw-cfg.h"
#include "firmware/smbios.h"
#include "tests/unit/fake-vm.h"
#include "tests/unit/harness.h"
#include "vmm/layout.h"

#define RAM_SIZE (1 * MiB)

static u8 *ram;

// A VM with RAM_SIZE bytes of RAM at 0 and a registered fw_cfg.
static void setup(struct vm *vm, struct fw_cfg *f)
{
	struct mem_region r = { .name = "ram", .gpa = 0, .size = RAM_SIZE, .hva = ram, .kind = MEM_RAM };

	fake_vm_init(vm);
	mem_init(&vm->mem);
	memset(ram, 0, RAM_SIZE);
	mem_add(&vm->mem, &r);
	fw_cfg_init(f, &vm->mem);
	fw_cfg_register(f, vm);
}

// Undo setup().
static void teardown(struct vm *vm, struct fw_cfg *f)
{
	fw_cfg_destroy(f);
	mem_del(&vm->mem, 0);
	fake_vm_destroy(vm);
}

// Big-endian helpers as the guest writes and reads them.
static void put_be(u8 *p, u64 v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (u8)(v >> (8 * (n - 1 - i)));
}

static u64 get_be(const u8 *p, int n)
{
	u64 v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

// Write a DMA request at req_gpa and start it through the ports; returns the control word after.
static u32 dma(struct vm *vm, u64 req_gpa, u32 control, u32 len, u64 addr)
{
	u8 *req = ram + req_gpa;
	u32 hi, lo;

	put_be(req, control, 4);
	put_be(req + 4, len, 4);
	put_be(req + 8, addr, 8);
	/* the guest writes cpu_to_be32(x) with outl: the bytes on the bus are big-endian */
	put_be((u8 *)&hi, req_gpa >> 32, 4);
	put_be((u8 *)&lo, req_gpa & 0xffffffff, 4);
	fake_pio(vm, FW_CFG_PORT_DMA_HI, 4, true, hi);
	fake_pio(vm, FW_CFG_PORT_DMA_LO, 4, true, lo);
	return (u32)get_be(req, 4);
}

// Select key through the selector port.
static void sel(struct vm *vm, u16 key)
{
	fake_pio(vm, FW_CFG_PORT_SEL, 2, true, key);
}

TEST(signature_and_id_through_ports)
{
	struct vm vm;
	struct fw_cfg f;
	char sig[5] = { 0 };
	u32 id = 0;

	setup(&vm, &f);
	sel(&vm, FW_CFG_SIGNATURE);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)fake_inb(&vm, FW_CFG_PORT_DATA);
	ASSERT_STR_EQ(sig, "QEMU");
	sel(&vm, FW_CFG_ID);
	for (int i = 0; i < 4; i++)
		id |= (u32)fake_inb(&vm, FW_CFG_PORT_DATA) << (8 * i);
	ASSERT_EQ(id, FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA);
	/* the DMA register reads back "QEMU CFG" */
	ASSERT_EQ(fake_inb(&vm, FW_CFG_PORT_DMA_HI), 'Q');
	ASSERT_EQ(fake_inb(&vm, FW_CFG_PORT_DMA_LO + 1), 'C');
	teardown(&vm, &f);
}

TEST(read_across_item_end_gives_zeros)
{
	struct vm vm;
	struct fw_cfg f;

	setup(&vm, &f);
	ASSERT_EQ(fw_cfg_add_bytes(&f, FW_CFG_UUID, "ab", 2), 0);
	sel(&vm, FW_CFG_UUID);
	ASSERT_EQ(fake_inb(&vm, FW_CFG_PORT_DATA), 'a');
	ASSERT_EQ(fake_inb(&vm, FW_CFG_PORT_DATA), 'b');
	ASSERT_EQ(fake_inb(&vm, FW_CFG_PORT_DATA), 0);
	ASSERT_EQ(fake_inb(&vm, FW_CFG_PORT_DATA), 0);
	/* selecting again rewinds */
	sel(&vm, FW_CFG_UUID);
	ASSERT_EQ(fake_inb(&vm, FW_CFG_PORT_DATA), 'a');
	/* an unknown key reads 0 */
	sel(&vm, 0x1234);
	ASSERT_EQ(fake_inb(&vm, FW_CFG_PORT_DATA), 0);
	teardown(&vm, &f);
}

TEST(directory_sorted_big_endian)
{
	struct vm vm;
	struct fw_cfg f;
	u8 dir[4 + 3 * 64];
	const char *names[3];

	setup(&vm, &f);
	ASSERT_EQ(fw_cfg_add_file(&f, "zeta", "zz", 2), 0);
	ASSERT_EQ(fw_cfg_add_file(&f, "alpha", "a", 1), 0);
	ASSERT_EQ(fw_cfg_add_file(&f, "etc/mid", "mmm", 3), 0);
	ASSERT_EQ(fw_cfg_add_file(&f, "alpha", "x", 1), -EEXIST);
	ASSERT_EQ(fw_cfg_add_file(&f, "a-name-that-is-much-too-long-for-the-56-byte-field-of-fw_cfg", "", 0),
		  -ENAMETOOLONG);
	sel(&vm, FW_CFG_FILE_DIR);
	for (size_t i = 0; i < sizeof(dir); i++)
		dir[i] = fake_inb(&vm, FW_CFG_PORT_DATA);
	ASSERT_EQ(get_be(dir, 4), 3);
	for (int i = 0; i < 3; i++)
		names[i] = (const char *)dir + 4 + i * 64 + 8;
	ASSERT_STR_EQ(names[0], "alpha");
	ASSERT_STR_EQ(names[1], "etc/mid");
	ASSERT_STR_EQ(names[2], "zeta");
	/* sizes and keys: zeta was added first, so it has the first file key */
	ASSERT_EQ(get_be(dir + 4, 4), 1);
	ASSERT_EQ(get_be(dir + 4 + 64 + 0, 4), 3);
	ASSERT_EQ(get_be(dir + 4 + 128 + 4, 2), FW_CFG_FILE_FIRST);
	/* the key selects the file */
	sel(&vm, (u16)get_be(dir + 4 + 64 + 4, 2));
	ASSERT_EQ(fake_inb(&vm, FW_CFG_PORT_DATA), 'm');
	teardown(&vm, &f);
}

TEST(dma_select_read_skip)
{
	struct vm vm;
	struct fw_cfg f;

	setup(&vm, &f);
	ASSERT_EQ(fw_cfg_add_file(&f, "data", "0123456789", 10), 0);
	u16 key = fw_cfg_find_file(&f, "data")->key;

	memset(ram + 0x2000, 0xaa, 16);
	ASSERT_EQ(dma(&vm, 0x1000, (u32)key << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, 4, 0x2000), 0);
	ASSERT_TRUE(!memcmp(ram + 0x2000, "0123", 4));
	ASSERT_EQ(ram[0x2004], 0xaa);
	ASSERT_EQ(dma(&vm, 0x1000, FW_CFG_DMA_SKIP, 2, 0), 0);
	/* a read past the end fills the rest with zeros */
	ASSERT_EQ(dma(&vm, 0x1000, FW_CFG_DMA_READ, 8, 0x3000), 0);
	ASSERT_TRUE(!memcmp(ram + 0x3000, "6789\0\0\0\0", 8));
	/* the data port continues where DMA stopped (at the end: 0) */
	ASSERT_EQ(fake_inb(&vm, FW_CFG_PORT_DATA), 0);
	teardown(&vm, &f);
}

TEST(dma_out_of_range_sets_error)
{
	struct vm vm;
	struct fw_cfg f;

	setup(&vm, &f);
	ASSERT_EQ(fw_cfg_add_file(&f, "data", "0123456789", 10), 0);
	u16 key = fw_cfg_find_file(&f, "data")->key;
	u32 ctl = (u32)key << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ;

	/* destination outside RAM, straddling its end, and wrapping around */
	ASSERT_EQ(dma(&vm, 0x1000, ctl, 4, 0x40000000), FW_CFG_DMA_ERROR);
	ASSERT_EQ(dma(&vm, 0x1000, ctl, 16, RAM_SIZE - 8), FW_CFG_DMA_ERROR);
	ASSERT_EQ(dma(&vm, 0x1000, ctl, 16, 0xfffffffffffffff8ULL), FW_CFG_DMA_ERROR);
	/* a length far beyond the item is zero-filled only if the range is RAM */
	ASSERT_EQ(dma(&vm, 0x1000, ctl, 0xffffffff, 0x2000), FW_CFG_DMA_ERROR);
	ASSERT_EQ(dma(&vm, 0x1000, ctl, 4, 0x2000), 0);
	/* a request structure outside RAM: nothing happens, nothing crashes */
	fake_pio(&vm, FW_CFG_PORT_DMA_HI, 4, true, 0x01000000); /* be32 of 1: 4 GiB up */
	fake_pio(&vm, FW_CFG_PORT_DMA_LO, 4, true, 0);
	fake_pio(&vm, FW_CFG_PORT_DMA_LO, 4, true, 0xf8ff0f00); /* be32 0x000ffff8: straddles the end */
	teardown(&vm, &f);
}

TEST(dma_write_only_to_writable_files)
{
	struct vm vm;
	struct fw_cfg f;

	setup(&vm, &f);
	ASSERT_EQ(fw_cfg_add_file(&f, "ro", "xxxx", 4), 0);
	ASSERT_EQ(fw_cfg_add_file(&f, "rw", "xxxx", 4), 0);
	ASSERT_EQ(fw_cfg_set_writable(&f, "rw"), 0);
	memcpy(ram + 0x2000, "abcdefgh", 8);
	u16 ro = fw_cfg_find_file(&f, "ro")->key, rw = fw_cfg_find_file(&f, "rw")->key;

	ASSERT_EQ(dma(&vm, 0x1000, (u32)ro << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_WRITE, 2, 0x2000),
		  FW_CFG_DMA_ERROR);
	ASSERT_TRUE(!memcmp(fw_cfg_find_file(&f, "ro")->data, "xxxx", 4));
	ASSERT_EQ(dma(&vm, 0x1000, (u32)rw << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_WRITE, 2, 0x2000), 0);
	ASSERT_TRUE(!memcmp(fw_cfg_find_file(&f, "rw")->data, "abxx", 4));
	/* past the end of the file: refused */
	ASSERT_EQ(dma(&vm, 0x1000, FW_CFG_DMA_WRITE, 4, 0x2000), FW_CFG_DMA_ERROR);
	teardown(&vm, &f);
}

// Read a whole file through DMA as SeaBIOS does; malloc'd, NULL if missing.
static u8 *read_file(struct vm *vm, struct fw_cfg *f, const char *name, u32 *size)
{
	const struct fw_cfg_item *it = fw_cfg_find_file(f, name);
	u8 *out;

	if (!it || it->size > RAM_SIZE / 2)
		return NULL;
	*size = it->size;
	if (dma(vm, 0x100, (u32)it->key << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, it->size,
		RAM_SIZE / 2))
		return NULL;
	out = malloc(it->size + 1);
	memcpy(out, ram + RAM_SIZE / 2, it->size);
	return out;
}

TEST(e820_file_in_qemu_format)
{
	struct vm vm;
	struct fw_cfg f;
	struct layout l;
	struct e820_entry *e;
	u32 size;

	setup(&vm, &f);
	ASSERT_EQ(layout_compute(&l, 6 * GiB, 40, 0), 0);
	ASSERT_EQ(firmware_add_e820(&f, &l), 0);
	e = (struct e820_entry *)read_file(&vm, &f, "etc/e820", &size);
	ASSERT_TRUE(e);
	ASSERT_EQ(size, 4 * 20);
	ASSERT_EQ(e[0].addr, 0);
	ASSERT_EQ(e[0].size, l.low_ram_size);
	ASSERT_EQ(e[0].type, E820_RAM);
	ASSERT_EQ(e[1].addr, LAYOUT_ECAM_BASE);
	ASSERT_EQ(e[1].type, E820_RESERVED);
	ASSERT_EQ(e[3].addr, 4 * GiB);
	ASSERT_EQ(e[3].size, 6 * GiB - l.low_ram_size);
	free(e);
	teardown(&vm, &f);
}

// The NUL-terminated file name field at p, or NULL if it is not terminated.
static const char *fname(const u8 *p)
{
	return memchr(p, 0, ACPI_LOADER_FNAME_SIZE) ? (const char *)p : NULL;
}

TEST(table_loader_commands_name_files_in_the_directory)
{
	struct vm vm;
	struct fw_cfg f;
	struct layout l;
	u8 *cmds;
	u32 size, allocs = 0, ptrs = 0, csums = 0;

	setup(&vm, &f);
	ASSERT_EQ(layout_compute(&l, 512 * MiB, 40, 0), 0);
	ASSERT_EQ(firmware_add_acpi(&f, &l, 2), 0);
	cmds = read_file(&vm, &f, ACPI_LOADER_FILE_CMDS, &size);
	ASSERT_TRUE(cmds);
	ASSERT_EQ(size % ACPI_LOADER_ENTRY_SIZE, 0);
	for (u32 off = 0; off < size; off += ACPI_LOADER_ENTRY_SIZE) {
		const u8 *c = cmds + off;
		u32 cmd = c[0] | c[1] << 8 | c[2] << 16 | (u32)c[3] << 24;
		const char *a = fname(c + 4), *b = fname(c + 4 + ACPI_LOADER_FNAME_SIZE);
		const struct fw_cfg_item *fa = a ? fw_cfg_find_file(&f, a) : NULL;
		const struct fw_cfg_item *fb = b ? fw_cfg_find_file(&f, b) : NULL;
		u32 o1, o2, o3;

		ASSERT_TRUE(fa);
		switch (cmd) {
		case ACPI_LOADER_ALLOCATE:
			allocs++;
			break;
		case ACPI_LOADER_ADD_POINTER: /* dest, src, offset, size: inside dest */
			ASSERT_TRUE(fb);
			memcpy(&o1, c + 4 + 2 * ACPI_LOADER_FNAME_SIZE, 4);
			ASSERT_TRUE(o1 + c[4 + 2 * ACPI_LOADER_FNAME_SIZE + 4] <= fa->size);
			ptrs++;
			break;
		case ACPI_LOADER_ADD_CHECKSUM: /* file, offset, start, length: inside file */
			memcpy(&o1, c + 4 + ACPI_LOADER_FNAME_SIZE, 4);
			memcpy(&o2, c + 8 + ACPI_LOADER_FNAME_SIZE, 4);
			memcpy(&o3, c + 12 + ACPI_LOADER_FNAME_SIZE, 4);
			ASSERT_TRUE(o1 < fa->size && o2 + o3 <= fa->size);
			csums++;
			break;
		default:
			FAIL_AT("unknown loader command %u", cmd);
			return;
		}
	}
	ASSERT_EQ(allocs, 2); /* the RSDP and the tables */
	ASSERT_TRUE(ptrs >= 6);
	ASSERT_TRUE(csums >= 7);
	free(cmds);
	teardown(&vm, &f);
}

TEST(smbios_files_present)
{
	struct vm vm;
	struct fw_cfg f;
	struct layout l;
	u8 *anchor, *tables;
	u32 asize, tsize;

	setup(&vm, &f);
	ASSERT_EQ(layout_compute(&l, 512 * MiB, 40, 0), 0);
	ASSERT_EQ(firmware_add_smbios(&f, &l, 2, NULL), 0);
	anchor = read_file(&vm, &f, SMBIOS_FILE_ANCHOR, &asize);
	tables = read_file(&vm, &f, SMBIOS_FILE_TABLES, &tsize);
	ASSERT_TRUE(anchor && tables);
	ASSERT_EQ(asize, SMBIOS_ANCHOR_SIZE);
	ASSERT_TRUE(!memcmp(anchor, "_SM_", 4));
	ASSERT_EQ(anchor[0x16] | anchor[0x17] << 8, tsize);
	ASSERT_EQ(tables[0], 0); /* type 0 first */
	free(anchor);
	free(tables);
	teardown(&vm, &f);
}

int main(void)
{
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	RUN(signature_and_id_through_ports);
	RUN(read_across_item_end_gives_zeros);
	RUN(directory_sorted_big_endian);
	RUN(dma_select_read_skip);
	RUN(dma_out_of_range_sets_error);
	RUN(dma_write_only_to_writable_files);
	RUN(e820_file_in_qemu_format);
	RUN(table_loader_commands_name_files_in_the_directory);
	RUN(smbios_files_present);
	munmap(ram, RAM_SIZE);
	return test_done();
}
