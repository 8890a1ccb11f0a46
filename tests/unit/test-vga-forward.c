/*
 * x-vga forwarding: the checks (non-VGA device, no VGA region), the RAM hole
 * at 0xA0000-0xBFFFF, and accesses reaching the VFIO VGA region (a plain
 * file stands in for the device fd: VFIO regions are read and written with
 * pread/pwrite at the region's offset).
 */
#include <errno.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/vga-forward.h"
#include "passthrough/vfio-device.h"
#include "tests/unit/fake-vm.h"
#include "tests/unit/harness.h"

#define RAM_SIZE (1 * MiB)
#define REGION_OFF 0x100000 /* where the VGA region starts in the "device fd" */

static u8 *ram;

struct fixture {
	struct vm vm;
	struct vdev dev;
	char path[64];
};

// A VM with 1 MiB of RAM and a fake VGA card whose region is a temp file.
static void setup(struct fixture *f)
{
	struct mem_region r = { .name = "ram-low", .gpa = 0, .size = RAM_SIZE, .hva = ram, .kind = MEM_RAM };

	fake_vm_init(&f->vm);
	mem_init(&f->vm.mem);
	mem_add(&f->vm.mem, &r);
	memset(&f->dev, 0, sizeof(f->dev));
	snprintf(f->path, sizeof(f->path), "/tmp/test-vga-XXXXXX");
	f->dev.fd = mkstemp(f->path);
	ftruncate(f->dev.fd, REGION_OFF + 0xc0000);
	f->dev.name = "0000:01:00.0";
	f->dev.nr_regions = VFIO_PCI_NUM_REGIONS;
	f->dev.regions[VFIO_PCI_VGA_REGION_INDEX].size = 0xc0000;
	f->dev.regions[VFIO_PCI_VGA_REGION_INDEX].offset = REGION_OFF;
}

static void teardown(struct fixture *f)
{
	close(f->dev.fd);
	unlink(f->path);
	while (f->vm.mem.nr)
		mem_del(&f->vm.mem, f->vm.mem.regions[0].gpa);
	fake_vm_destroy(&f->vm);
}

TEST(non_vga_and_missing_region_are_clear_errors)
{
	struct fixture f;
	char err[384];

	setup(&f);
	ASSERT_EQ(vga_forward_check(&f.dev, 0x010802, "0000:02:00.0", err, sizeof(err)), -ENODEV);
	ASSERT_STR_CONTAINS(err, "0000:02:00.0 is not a VGA device (class 010802");
	ASSERT_STR_CONTAINS(err, "drop x-vga=on");
	ASSERT_EQ(vga_forward_check(&f.dev, 0x030000, "0000:01:00.0", err, sizeof(err)), 0);
	f.dev.regions[VFIO_PCI_VGA_REGION_INDEX].size = 0;
	ASSERT_EQ(vga_forward_check(&f.dev, 0x030000, "0000:01:00.0", err, sizeof(err)), -ENODEV);
	ASSERT_STR_CONTAINS(err, "offers no VGA region for 0000:01:00.0");
	/* a 3D controller (0302xx) is not VGA either */
	ASSERT_EQ(vga_forward_check(&f.dev, 0x030200, "x", err, sizeof(err)), -ENODEV);
	teardown(&f);
}

TEST(ranges_forwarded_and_ram_cut)
{
	struct fixture f;
	struct vga_forward v;
	u8 b = 0;
	u32 word = 0;

	setup(&f);
	ASSERT_EQ(vga_forward_create(&v, &f.vm, &f.dev, 0x030000, "0000:01:00.0"), 0);
	/* the VGA window is no longer RAM; below and above it still are */
	ASSERT_FALSE(mem_gpa_to_hva(&f.vm.mem, 0xa0000, 1));
	ASSERT_TRUE(mem_gpa_to_hva(&f.vm.mem, 0x9ffff, 1) == ram + 0x9ffff);
	ASSERT_TRUE(mem_gpa_to_hva(&f.vm.mem, 0xc0000, 1) == ram + 0xc0000);
	/* an I/O write reaches the region at the port's offset */
	fake_outb(&f.vm, 0x3c2, 0x67);
	ASSERT_EQ(pread(f.dev.fd, &b, 1, REGION_OFF + 0x3c2), 1);
	ASSERT_EQ(b, 0x67);
	pwrite(f.dev.fd, "\x42", 1, REGION_OFF + 0x3da);
	ASSERT_EQ(fake_inb(&f.vm, 0x3da), 0x42);
	/* 0x3bc-0x3bf is not VGA: not claimed */
	ASSERT_FALSE(bus_find(&f.vm.bus, BUS_PIO, 0x3bc));
	/* MMIO in the text-mode window */
	pwrite(f.dev.fd, "ABCD", 4, REGION_OFF + 0xb8000);
	struct bus_access a = { .addr = 0xb8000, .data = (u8 *)&word, .len = 4 };

	vm_lock(&f.vm);
	ASSERT_TRUE(bus_dispatch(&f.vm.bus, BUS_MMIO, &a));
	vm_unlock(&f.vm);
	ASSERT_TRUE(!memcmp(&word, "ABCD", 4));
	/* a second x-vga device cannot take the same ranges */
	struct vga_forward v2;

	ASSERT_EQ(vga_forward_create(&v2, &f.vm, &f.dev, 0x030000, "0000:03:00.0"), -EEXIST);
	vga_forward_destroy(&v);
	/* RAM is whole again and the ports are free */
	ASSERT_TRUE(mem_gpa_to_hva(&f.vm.mem, 0x9f000, 0x30000) == ram + 0x9f000);
	ASSERT_FALSE(bus_find(&f.vm.bus, BUS_PIO, 0x3c0));
	teardown(&f);
}

int main(void)
{
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	RUN(non_vga_and_missing_region_are_clear_errors);
	RUN(ranges_forwarded_and_ram_cut);
	munmap(ram, RAM_SIZE);
	return test_done();
}
