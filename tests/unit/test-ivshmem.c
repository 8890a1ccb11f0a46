/* ivshmem-plain: the shared file, QEMU's identity, BAR placement and BAR moves (fake VM). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/ivshmem.h"
#include "devices/pci/pci.h"
#include "tests/unit/fake-vm.h"
#include "tests/unit/harness.h"
#include "vmm/layout.h"
#include "vmm/memory.h"

static struct vm vm;
static struct vm_config cfg;
static struct pci_bus *pci;
static char dir[64];
static char path[128];

// A fake VM with a layout (512 MiB, 40 address bits), an empty memory map and a PCI bus.
static void setup(void)
{
	fake_vm_init(&vm);
	layout_compute(&vm.layout, 512 * MiB, 40, 0);
	mem_init(&vm.mem);
	config_init(&cfg);
	vm.cfg = &cfg;
	pci = pci_bus_create(&vm);
	snprintf(dir, sizeof(dir), "/tmp/ptvm-test-ivshmem-XXXXXX");
	if (!mkdtemp(dir))
		dir[0] = 0;
	snprintf(path, sizeof(path), "%s/shm", dir);
}

// Undo setup() and remove the files.
static void teardown(void)
{
	pci_bus_destroy(pci);
	fake_vm_destroy(&vm);
	unlink(path);
	rmdir(dir);
}

// Config access to the device at slot s, function 0, as the guest makes it.
static u32 cfg_rd(int s, u16 off, int len)
{
	return pci_config_read(pci, 0, (u8)(s << 3), off, len);
}

// Config write by the guest.
static void cfg_wr(int s, u16 off, int len, u32 val)
{
	pci_config_write(pci, 0, (u8)(s << 3), off, len, val);
}

// One MMIO access of len bytes at addr; returns what a read saw, or ~0 if unclaimed.
static u64 mmio(u64 addr, u32 len, bool write, u64 val)
{
	u8 data[8];
	struct bus_access a = { .addr = addr, .data = data, .len = len, .is_write = write, .vcpu = -1 };
	bool claimed;

	memcpy(data, &val, sizeof(data));
	vm_lock(&vm);
	claimed = bus_dispatch(&vm.bus, BUS_MMIO, &a);
	vm_unlock(&vm);
	if (!claimed)
		return ~0ULL;
	val = 0;
	memcpy(&val, data, len);
	return val;
}

// The memory region of the shared memory, or NULL.
static struct mem_region *shm_region(void)
{
	for (int i = 0; i < vm.mem.nr; i++)
		if (vm.mem.regions[i].kind == MEM_DEVICE)
			return &vm.mem.regions[i];
	return NULL;
}

// Size of the file at path, -1 if missing.
static long long file_size(const char *p)
{
	struct stat st;

	return stat(p, &st) ? -1 : (long long)st.st_size;
}

TEST(file_created_grown_and_checked)
{
	int fd;

	setup();
	ASSERT_TRUE(dir[0]);
	/* missing: created with the size */
	fd = ivshmem_open_file(path, 2 * MiB);
	ASSERT_TRUE(fd >= 0);
	close(fd);
	ASSERT_EQ(file_size(path), 2 * MiB);
	/* same size again: fine */
	fd = ivshmem_open_file(path, 2 * MiB);
	ASSERT_TRUE(fd >= 0);
	close(fd);
	/* another size: refused, file untouched */
	ASSERT_EQ(ivshmem_open_file(path, 4 * MiB), -EINVAL);
	ASSERT_EQ(file_size(path), 2 * MiB);
	/* empty (as systemd-tmpfiles makes it): grown */
	ASSERT_EQ(truncate(path, 0), 0);
	fd = ivshmem_open_file(path, 4 * MiB);
	ASSERT_TRUE(fd >= 0);
	close(fd);
	ASSERT_EQ(file_size(path), 4 * MiB);
	/* a directory that does not exist, and a directory instead of a file */
	ASSERT_EQ(ivshmem_open_file("/nonexistent-ptvm-dir/shm", MiB), -ENOENT);
	ASSERT_EQ(ivshmem_open_file(dir, MiB), -EISDIR);
	teardown();
}

TEST(identity_and_bar_sizing)
{
	struct shm_dev_config c = { .path = path, .size = 8 * MiB, .slot = 5, .fn = 0 };
	struct ivshmem *s;

	setup();
	ASSERT_EQ(ivshmem_create(&vm, pci, &c, &s), 0);
	ASSERT_EQ(s->dev.slot, 5);
	ASSERT_EQ(cfg_rd(5, PCI_VENDOR_ID, 2), 0x1af4);
	ASSERT_EQ(cfg_rd(5, PCI_DEVICE_ID, 2), 0x1110);
	ASSERT_EQ(cfg_rd(5, PCI_CLASS_REVISION, 4), 0x05000001); /* class 0500, prog-if 0, rev 1 */
	ASSERT_EQ(cfg_rd(5, PCI_HEADER_TYPE, 1), PCI_HEADER_TYPE_NORMAL);
	ASSERT_EQ(cfg_rd(5, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	ASSERT_EQ(cfg_rd(5, PCI_SUBSYSTEM_ID, 2), 0x1100);
	ASSERT_EQ(cfg_rd(5, PCI_INTERRUPT_PIN, 1), 0); /* none, as QEMU 7.2's */
	ASSERT_EQ(cfg_rd(5, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
	/* setup placed both BARs and turned memory decode on */
	ASSERT_EQ(cfg_rd(5, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY, PCI_COMMAND_MEMORY);
	ASSERT_EQ(cfg_rd(5, PCI_BASE_ADDRESS_0, 4), (u32)s->setup_addr[0]);
	ASSERT_EQ(cfg_rd(5, PCI_BASE_ADDRESS_2, 4),
		  (u32)s->setup_addr[1] | PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);
	ASSERT_EQ(cfg_rd(5, PCI_BASE_ADDRESS_3, 4), (u32)(s->setup_addr[1] >> 32));
	ASSERT_EQ(s->setup_addr[1] & (8 * MiB - 1), 0);
	/* sizing as firmware does it, decode off first */
	cfg_wr(5, PCI_COMMAND, 2, 0);
	cfg_wr(5, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	ASSERT_EQ(cfg_rd(5, PCI_BASE_ADDRESS_0, 4), 0xffffff00); /* 256 bytes, 32-bit */
	cfg_wr(5, PCI_BASE_ADDRESS_2, 4, 0xffffffff);
	cfg_wr(5, PCI_BASE_ADDRESS_3, 4, 0xffffffff);
	ASSERT_EQ(cfg_rd(5, PCI_BASE_ADDRESS_2, 4), (u32)~(8 * MiB - 1) | 0xc);
	ASSERT_EQ(cfg_rd(5, PCI_BASE_ADDRESS_3, 4), 0xffffffff);
	/* BARs 1, 4, 5 and the ROM are not implemented */
	cfg_wr(5, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	cfg_wr(5, PCI_BASE_ADDRESS_4, 4, 0xffffffff);
	cfg_wr(5, PCI_ROM_ADDRESS, 4, 0xffffffff);
	ASSERT_EQ(cfg_rd(5, PCI_BASE_ADDRESS_1, 4), 0);
	ASSERT_EQ(cfg_rd(5, PCI_BASE_ADDRESS_4, 4), 0);
	ASSERT_EQ(cfg_rd(5, PCI_ROM_ADDRESS, 4), 0);
	ivshmem_destroy(s);
	teardown();
}

TEST(setup_mapping_and_registers)
{
	struct shm_dev_config c = { .path = path, .size = 2 * MiB, .slot = -1, .fn = -1 };
	struct ivshmem *s;
	struct mem_region *r;
	u64 bar0;
	u8 buf[4];
	int fd;

	setup();
	ASSERT_EQ(ivshmem_create(&vm, pci, &c, &s), 0);
	ASSERT_EQ(s->dev.slot, 1); /* the first free slot */
	r = shm_region();
	ASSERT_TRUE(r != NULL);
	ASSERT_EQ(r->gpa, s->setup_addr[1]);
	ASSERT_EQ(r->size, 2 * MiB);
	ASSERT_TRUE(r->hva == s->shm);
	/* the mapping is the file: a write through it shows in the file */
	memcpy((u8 *)r->hva + MiB, "LGMP", 4);
	fd = open(path, O_RDONLY);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(pread(fd, buf, 4, MiB), 4);
	close(fd);
	ASSERT_TRUE(!memcmp(buf, "LGMP", 4));
	/* BAR0 as QEMU's: all 0 at first; mask and status keep writes, a status
	 * read clears it; IV position and doorbell read 0; only 32-bit accesses */
	for (int off = 0; off < IVSHMEM_REG_SIZE; off += 4)
		ASSERT_EQ(mmio(s->setup_addr[0] + off, 4, false, 0), 0);
	mmio(s->setup_addr[0] + 0, 4, true, 0x12345678); /* interrupt mask */
	mmio(s->setup_addr[0] + 4, 4, true, 0x5);        /* interrupt status */
	mmio(s->setup_addr[0] + 8, 4, true, 7);          /* IV position: read-only */
	mmio(s->setup_addr[0] + 12, 4, true, 0x10001);   /* doorbell */
	ASSERT_EQ(mmio(s->setup_addr[0] + 0, 4, false, 0), 0x12345678);
	ASSERT_EQ(mmio(s->setup_addr[0] + 4, 4, false, 0), 0x5);
	ASSERT_EQ(mmio(s->setup_addr[0] + 4, 4, false, 0), 0); /* cleared by the read */
	ASSERT_EQ(mmio(s->setup_addr[0] + 8, 4, false, 0), 0);
	ASSERT_EQ(mmio(s->setup_addr[0] + 12, 4, false, 0), 0);
	ASSERT_EQ(mmio(s->setup_addr[0] + 1, 1, false, 0), 0);  /* not 32-bit: reads 0 */
	mmio(s->setup_addr[0] + 0, 2, true, 0);                 /* and writes are dropped */
	ASSERT_EQ(mmio(s->setup_addr[0] + 0, 4, false, 0), 0x12345678);
	ASSERT_EQ(mmio(s->setup_addr[0] + 0xfc, 4, false, 0), 0);
	ASSERT_EQ(mmio(s->setup_addr[0] + 0x100, 4, false, 0), ~0ULL); /* past the 256 bytes */
	bar0 = s->setup_addr[0];
	ivshmem_destroy(s);
	ASSERT_TRUE(shm_region() == NULL);
	ASSERT_EQ(mmio(bar0, 4, false, 0), ~0ULL);
	teardown();
}

TEST(bars_follow_guest_programming)
{
	struct shm_dev_config c = { .path = path, .size = 4 * MiB, .slot = 3, .fn = 0 };
	struct ivshmem *s;
	u64 bar0, new_shm = 0x10000000000ULL - 4 * MiB * 3; /* 4 MiB aligned, below 2^40 */

	setup();
	ASSERT_EQ(ivshmem_create(&vm, pci, &c, &s), 0);
	bar0 = s->setup_addr[0];
	ASSERT_TRUE(shm_region() != NULL);
	ASSERT_EQ(mmio(bar0, 4, false, 0), 0);
	/* decode off: both BARs leave */
	cfg_wr(3, PCI_COMMAND, 2, 0);
	ASSERT_TRUE(shm_region() == NULL);
	ASSERT_EQ(mmio(bar0, 4, false, 0), ~0ULL);
	ASSERT_FALSE(s->regs_mapped || s->shm_mapped);
	/* move BAR2 with decode off (two halves), BAR0 too: nothing maps yet */
	cfg_wr(3, PCI_BASE_ADDRESS_2, 4, (u32)new_shm);
	cfg_wr(3, PCI_BASE_ADDRESS_3, 4, (u32)(new_shm >> 32));
	cfg_wr(3, PCI_BASE_ADDRESS_0, 4, 0xc0001000);
	ASSERT_TRUE(shm_region() == NULL);
	/* decode on: both at their new places */
	cfg_wr(3, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	ASSERT_TRUE(shm_region() != NULL);
	ASSERT_EQ(shm_region()->gpa, new_shm);
	ASSERT_EQ(mmio(0xc0001004, 4, false, 0), 0);
	ASSERT_EQ(mmio(bar0, 4, false, 0), ~0ULL);
	/* a move with decode on: the region follows each half as it is written */
	cfg_wr(3, PCI_BASE_ADDRESS_3, 4, 0);
	ASSERT_EQ(shm_region()->gpa, (u32)new_shm);
	cfg_wr(3, PCI_BASE_ADDRESS_2, 4, 0x80000000);
	ASSERT_EQ(shm_region()->gpa, 0x80000000);
	ASSERT_EQ(vm.mem.nr, 1);
	/* sizing with decode on: all ones is past 2^40, so BAR2 is not mapped */
	cfg_wr(3, PCI_BASE_ADDRESS_3, 4, 0xffffffff);
	ASSERT_TRUE(shm_region() == NULL);
	cfg_wr(3, PCI_BASE_ADDRESS_2, 4, 0xffffffff); /* both halves: the end wraps past 2^64 */
	ASSERT_TRUE(shm_region() == NULL);
	ASSERT_FALSE(s->shm_mapped);
	cfg_wr(3, PCI_BASE_ADDRESS_2, 4, 0x80000000);
	ASSERT_TRUE(shm_region() == NULL);
	cfg_wr(3, PCI_BASE_ADDRESS_3, 4, 0);
	ASSERT_EQ(shm_region()->gpa, 0x80000000);
	/* a place taken by RAM is refused; the BAR stays off until moved again */
	cfg_wr(3, PCI_BASE_ADDRESS_2, 4, 0);
	ASSERT_TRUE(shm_region() == NULL); /* address 0 is "not programmed" */
	ASSERT_EQ(mem_add(&vm.mem, &(struct mem_region){ .name = "ram", .gpa = 0x40000000,
		  .size = 256 * MiB, .hva = s->shm, .kind = MEM_RAM, .slot = -1 }), 0);
	cfg_wr(3, PCI_BASE_ADDRESS_2, 4, 0x40000000);
	ASSERT_TRUE(shm_region() == NULL);
	ASSERT_FALSE(s->shm_mapped);
	cfg_wr(3, PCI_BASE_ADDRESS_2, 4, 0x80000000);
	ASSERT_EQ(shm_region()->gpa, 0x80000000);
	ivshmem_destroy(s);
	ASSERT_EQ(vm.mem.nr, 1); /* only the RAM is left */
	mem_del(&vm.mem, 0x40000000);
	teardown();
}

TEST(init_from_config_and_errors)
{
	struct ivshmem_set *set;
	char other[160];
	struct ivshmem *s;

	setup();
	/* none configured: nothing made */
	ASSERT_EQ(ivshmem_init(&vm, pci, &set), 0);
	ASSERT_TRUE(set == NULL);
	snprintf(other, sizeof(other), "%s/two", dir);
	cfg.shm[0] = (struct shm_dev_config){ .path = path, .size = MiB, .slot = -1, .fn = -1 };
	cfg.shm[1] = (struct shm_dev_config){ .path = other, .size = 2 * MiB, .slot = 7, .fn = 0 };
	cfg.nr_shm = 2;
	ASSERT_EQ(ivshmem_init(&vm, pci, &set), 0);
	ASSERT_TRUE(set != NULL);
	ASSERT_EQ(set->nr, 2);
	ASSERT_EQ(cfg_rd(7, PCI_DEVICE_ID, 2), 0x1110);
	ASSERT_EQ(vm.mem.nr, 2);
	/* a slot that is taken fails cleanly */
	ASSERT_EQ(ivshmem_create(&vm, pci, &(struct shm_dev_config){ .path = path, .size = MiB,
		  .slot = 7, .fn = 0 }, &s), -EBUSY);
	ASSERT_TRUE(s == NULL);
	ASSERT_EQ(vm.mem.nr, 2);
	ivshmem_fini(set);
	ASSERT_EQ(vm.mem.nr, 0);
	ASSERT_EQ(cfg_rd(7, PCI_VENDOR_ID, 2), 0xffff);
	/* the second file has another size: the first device is undone too */
	cfg.shm[1].size = 4 * MiB;
	ASSERT_EQ(ivshmem_init(&vm, pci, &set), -EINVAL);
	ASSERT_TRUE(set == NULL);
	ASSERT_EQ(vm.mem.nr, 0);
	ASSERT_EQ(cfg_rd(1, PCI_VENDOR_ID, 2), 0xffff);
	unlink(other);
	teardown();
}

int main(void)
{
	RUN(file_created_grown_and_checked);
	RUN(identity_and_bar_sizing);
	RUN(setup_mapping_and_registers);
	RUN(bars_follow_guest_programming);
	RUN(init_from_config_and_errors);
	return test_done();
}
