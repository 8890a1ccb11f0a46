/* PCI bus 0 through the real port and ECAM paths (bus_dispatch), slots, BAR windows. */
#include <errno.h>

#include "devices/pci/config.h"
#include "devices/pci/host-bridge.h"
#include "devices/pci/pci.h"
#include "tests/unit/harness.h"
#include "vmm/bus.h"
#include "vmm/layout.h"
#include "vmm/vm.h"

/* A function with generic config space, as ptvm's own devices build it. */
struct test_fn {
	struct pci_dev dev;
	struct pci_cfg cfg;
};

// Test device config read.
static u32 tfn_read(struct pci_dev *d, u16 off, int len)
{
	return pci_cfg_read(&((struct test_fn *)d->opaque)->cfg, off, len);
}

// Test device config write.
static void tfn_write(struct pci_dev *d, u16 off, int len, u32 val)
{
	pci_cfg_write(&((struct test_fn *)d->opaque)->cfg, off, len, val);
}

// Make a test function with vendor 0x1af4 and the given device id and pin.
static void tfn_init(struct test_fn *t, u16 device, u8 pin)
{
	struct pci_cfg_id id = { .vendor = 0x1af4, .device = device, .class_code = 0xff0000,
				 .intx_pin = pin };

	pci_cfg_init(&t->cfg, &id);
	t->dev = (struct pci_dev){ .name = "test", .intx_pin = pin,
				   .cfg_read = tfn_read, .cfg_write = tfn_write, .opaque = t };
}

static struct vm vm;
static struct pci_bus *pci;
static struct test_fn fns[40];

// A fresh VM with only a bus and a layout (512 MiB, 40 address bits), and a PCI bus on it.
static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	bus_init(&vm.bus);
	layout_compute(&vm.layout, 512 * MiB, 40, 0);
	pci = pci_bus_create(&vm);
}

// Undo setup().
static void teardown(void)
{
	pci_bus_destroy(pci);
	pci = NULL;
	bus_destroy(&vm.bus);
}

// One access through the VM's bus, as a vCPU exit would make it.
static u64 access(enum bus_space s, u64 addr, u32 len, bool write, u64 val)
{
	u8 data[8];
	struct bus_access a = { .addr = addr, .data = data, .len = len, .is_write = write,
				.vcpu = 0 };
	u64 v = 0;

	for (u32 i = 0; i < len; i++)
		data[i] = (val >> (8 * i)) & 0xff;
	bus_dispatch(&vm.bus, s, &a);
	for (int i = len - 1; i >= 0; i--)
		v = (v << 8) | data[i];
	return write ? 0 : v;
}

// Port read (in/inw/inl).
static u64 in(u16 port, u32 len)
{
	return access(BUS_PIO, port, len, false, 0);
}

// Port write (out/outw/outl).
static void out(u16 port, u32 len, u64 v)
{
	access(BUS_PIO, port, len, true, v);
}

// Read at an offset into the ECAM window.
static u64 ecam_rd(u64 off, u32 len)
{
	return access(BUS_MMIO, LAYOUT_ECAM_BASE + off, len, false, 0);
}

// Write at an offset into the ECAM window.
static void ecam_wr(u64 off, u32 len, u64 v)
{
	access(BUS_MMIO, LAYOUT_ECAM_BASE + off, len, true, v);
}

// Mechanism #1 address: enable, bus, device, function, register (incl. bits 11:8).
static u32 cf8(int busno, int slot, int fn, int reg)
{
	return 0x80000000u | (reg & 0xf00) << 16 | busno << 16 | slot << 11 | fn << 8 | (reg & 0xfc);
}

// Record what reached a region standing in for devices/pm.c's reset register.
static void reset_reg_access(void *opaque, struct bus_access *a)
{
	int *hits = opaque;

	if (a->is_write && a->len == 1 && a->data[0] == 0x06)
		(*hits)++;
}

TEST(create_and_destroy_claim_and_release_ports)
{
	struct bus_region squatter = { .name = "squatter", .space = BUS_PIO, .base = 0xcfc,
				       .size = 1, .access = reset_reg_access };

	setup();
	ASSERT_TRUE(pci != NULL);
	ASSERT_TRUE(bus_find(&vm.bus, BUS_PIO, 0xcf8) != NULL);
	ASSERT_TRUE(bus_find(&vm.bus, BUS_PIO, 0xcf9) == NULL);  /* left to pm.c */
	ASSERT_TRUE(bus_find(&vm.bus, BUS_PIO, 0xcff) != NULL);
	ASSERT_TRUE(bus_find(&vm.bus, BUS_MMIO, LAYOUT_ECAM_BASE + LAYOUT_ECAM_SIZE - 1) != NULL);
	ASSERT_TRUE(bus_find(&vm.bus, BUS_MMIO, LAYOUT_ECAM_BASE + LAYOUT_ECAM_SIZE) == NULL);
	teardown();
	ASSERT_TRUE(bus_find(&vm.bus, BUS_PIO, 0xcf8) == NULL);
	/* claimed ports make creation fail cleanly */
	bus_init(&vm.bus);
	ASSERT_EQ(bus_register(&vm.bus, &squatter), 0);
	ASSERT_TRUE(pci_bus_create(&vm) == NULL);
	ASSERT_EQ(vm.bus.maps[BUS_PIO].nr, 1);
	ASSERT_EQ(vm.bus.maps[BUS_MMIO].nr, 0);
	bus_destroy(&vm.bus);
}

TEST(host_bridge_through_cf8)
{
	setup();
	out(0xcf8, 4, cf8(0, 0, 0, 0x00));
	ASSERT_EQ(in(0xcfc, 4), 0x29c08086);
	out(0xcf8, 4, cf8(0, 0, 0, 0x08));
	ASSERT_EQ(in(0xcfc, 4), 0x06000000);
	out(0xcf8, 4, cf8(0, 0, 0, 0x0c));
	ASSERT_EQ(in(0xcfc, 4), 0); /* header type 0, no multifunction */
	out(0xcf8, 4, cf8(0, 0, 0, PCI_HOST_PCIEXBAR));
	ASSERT_EQ(in(0xcfc, 4), LAYOUT_ECAM_BASE | 1);
	teardown();
}

TEST(config_address_latch)
{
	int resets = 0;
	struct bus_region reset = { .name = "reset", .space = BUS_PIO, .base = 0xcf9, .size = 1,
				    .access = reset_reg_access, .opaque = &resets };

	setup();
	/* Linux's mechanism #1 probe: write 0x80000000, read it back */
	out(0xcf8, 4, 0x80000000);
	ASSERT_EQ(in(0xcf8, 4), 0x80000000);
	/* reserved bits 30:28 and 1:0 read 0; ext register 27:24 is kept */
	out(0xcf8, 4, 0xffffffff);
	ASSERT_EQ(in(0xcf8, 4), 0x8ffffffc);
	/* byte and word accesses are not CONFIG_ADDRESS */
	out(0xcf8, 4, 0x80000000);
	out(0xcf8, 1, 0x00);
	out(0xcf8, 2, 0x1234);
	out(0xcfb, 1, 0x01);
	ASSERT_EQ(in(0xcf8, 4), 0x80000000);
	ASSERT_EQ(in(0xcf8, 1), 0xff);
	ASSERT_EQ(in(0xcfa, 1), 0xff); /* makes the mechanism #2 probe fail */
	/* the reset register at 0xCF9 coexists: bytes reach it, dwords at 0xCF8 do not */
	ASSERT_EQ(bus_register(&vm.bus, &reset), 0);
	out(0xcf9, 1, 0x06);
	ASSERT_EQ(resets, 1);
	out(0xcf8, 4, 0x80000600);
	ASSERT_EQ(resets, 1);
	ASSERT_EQ(in(0xcf8, 4), 0x80000600);
	bus_unregister(&vm.bus, &reset);
	teardown();
}

TEST(enable_bit_gates_data_port)
{
	setup();
	out(0xcf8, 4, cf8(0, 0, 0, 0) & ~0x80000000u);
	ASSERT_EQ(in(0xcfc, 4), 0xffffffff);
	ASSERT_EQ(in(0xcfe, 2), 0xffff);
	out(0xcf8, 4, cf8(0, 0, 0, PCI_INTERRUPT_LINE) & ~0x80000000u);
	out(0xcfc, 1, 0x0a);
	ASSERT_EQ(pci_config_read(pci, 0, 0, PCI_INTERRUPT_LINE, 1), 0);
	out(0xcf8, 4, cf8(0, 0, 0, PCI_INTERRUPT_LINE));
	out(0xcfc, 1, 0x0a);
	ASSERT_EQ(pci_config_read(pci, 0, 0, PCI_INTERRUPT_LINE, 1), 0x0a);
	teardown();
}

TEST(data_port_byte_and_word_offsets)
{
	setup();
	out(0xcf8, 4, cf8(0, 0, 0, 0));
	ASSERT_EQ(in(0xcfc, 1), 0x86);
	ASSERT_EQ(in(0xcfd, 1), 0x80);
	ASSERT_EQ(in(0xcfe, 1), 0xc0);
	ASSERT_EQ(in(0xcff, 1), 0x29);
	ASSERT_EQ(in(0xcfc, 2), 0x8086);
	ASSERT_EQ(in(0xcfe, 2), 0x29c0);
	/* misaligned or running past 0xCFF: all ones */
	ASSERT_EQ(in(0xcfd, 2), 0xffff);
	ASSERT_EQ(in(0xcfe, 4), 0xffffffff);
	/* register bits 7:2 pick the dword, the port offset the byte in it */
	out(0xcf8, 4, cf8(0, 0, 0, 0x3c));
	out(0xcfc, 1, 0x0b);
	ASSERT_EQ(pci_config_read(pci, 0, 0, 0x3c, 1), 0x0b);
	out(0xcf8, 4, cf8(0, 0, 0, 0x04));
	out(0xcfc, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	ASSERT_EQ(pci_config_read(pci, 0, 0, 0x04, 2), PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	out(0xcf8, 4, cf8(0, 0, 0, 0x90)); /* PAM0..PAM3 */
	out(0xcfd, 1, 0x33);
	out(0xcfe, 2, 0x3311);
	ASSERT_EQ(pci_config_read(pci, 0, 0, 0x90, 4), 0x33113300);
	/* bits 1:0 of CONFIG_ADDRESS do not offset the register */
	out(0xcf8, 4, cf8(0, 0, 0, 0) | 3);
	ASSERT_EQ(in(0xcfc, 4), 0x29c08086);
	teardown();
}

TEST(extended_register_bits)
{
	struct test_fn *t = &fns[0];

	setup();
	tfn_init(t, 0x1001, 0);
	ASSERT_EQ(pci_cfg_add_ecap(&t->cfg, 0x0b, 1, NULL, 16), 0x100);
	pci_cfg_set_wmask(&t->cfg, 0x104, 4, 0xffffffff);
	ASSERT_EQ(pci_register(pci, &t->dev, 4, 0), 0);
	out(0xcf8, 4, cf8(0, 4, 0, 0x100));
	ASSERT_EQ(in(0xcf8, 4), 0x81002000);
	ASSERT_EQ(in(0xcfc, 4), 0x0001000b);
	out(0xcf8, 4, cf8(0, 4, 0, 0x104));
	out(0xcfe, 2, 0xbeef);
	ASSERT_EQ(pci_cfg_get(&t->cfg, 0x104, 4), 0xbeef0000);
	/* without bits 27:24 the same address is register 0x00 */
	out(0xcf8, 4, cf8(0, 4, 0, 0x00));
	ASSERT_EQ(in(0xcfc, 4), 0x10011af4);
	teardown();
}

TEST(ecam_decode)
{
	setup();
	tfn_init(&fns[0], 0x2000, 1);
	tfn_init(&fns[1], 0x2001, 2);
	ASSERT_EQ(pci_register(pci, &fns[0].dev, 3, 0), 0);
	ASSERT_EQ(pci_register(pci, &fns[1].dev, 3, 1), 0);
	ASSERT_EQ(pci_cfg_add_ecap(&fns[1].cfg, 0x0b, 1, NULL, 8), 0x100);
	ASSERT_EQ(ecam_rd(0, 4), 0x29c08086);                        /* 00:00.0 */
	ASSERT_EQ(ecam_rd(3 << 15, 4), 0x20001af4);                  /* 00:03.0 */
	ASSERT_EQ(ecam_rd(3 << 15 | 1 << 12, 4), 0x20011af4);        /* 00:03.1 */
	ASSERT_EQ(ecam_rd(3 << 15 | 1 << 12 | 2, 2), 0x2001);
	ASSERT_EQ(ecam_rd(3 << 15 | 1 << 12 | 3, 1), 0x20);
	ASSERT_EQ(ecam_rd(3 << 15 | 1 << 12 | 0x3d, 1), 2);          /* pin */
	ASSERT_EQ(ecam_rd(3 << 15 | 1 << 12 | 0x100, 4), 0x0001000b); /* extended space */
	ASSERT_EQ(ecam_rd(3 << 15 | 0x100, 4), 0);                   /* none on fn 0 */
	/* 8 bytes: two dwords; 0x0C of fn 0 carries the multifunction bit */
	ASSERT_EQ(ecam_rd(3 << 15 | 0x08, 8), 0x00800000ff000000ULL);
	ASSERT_EQ(ecam_rd(3 << 15 | 1 << 12, 8), 0x0000000020011af4ULL);
	/* other buses and unaligned accesses read all ones */
	ASSERT_EQ(ecam_rd(1 << 20, 4), 0xffffffff);
	ASSERT_EQ(ecam_rd(1 << 20 | 3 << 15, 4), 0xffffffff);
	ASSERT_EQ(ecam_rd(255 << 20 | 31 << 15 | 7 << 12 | 0xffc, 4), 0xffffffff);
	ASSERT_EQ(ecam_rd(3 << 15 | 1, 2), 0xffff);
	/* writes land on the decoded function only */
	ecam_wr(3 << 15 | 1 << 12 | 0x3c, 1, 0x0e);
	ASSERT_EQ(pci_cfg_get(&fns[1].cfg, 0x3c, 1), 0x0e);
	ASSERT_EQ(pci_cfg_get(&fns[0].cfg, 0x3c, 1), 0);
	ecam_wr(1 << 20 | 3 << 15 | 0x3c, 1, 0x0f);  /* bus 1: dropped */
	ASSERT_EQ(pci_cfg_get(&fns[0].cfg, 0x3c, 1), 0);
	ecam_wr(3 << 15 | 0x38, 8, 0x0000000900000000ULL); /* 0x38 (RO) and 0x3C */
	ASSERT_EQ(pci_cfg_get(&fns[0].cfg, 0x3c, 1), 9);
	/* the same function through both mechanisms */
	out(0xcf8, 4, cf8(0, 3, 1, 0x3c));
	ASSERT_EQ(in(0xcfc, 1), 0x0e);
	teardown();
}

TEST(unpopulated_functions_read_all_ones)
{
	setup();
	for (int slot = 1; slot < PCI_MAX_SLOTS; slot++) {
		out(0xcf8, 4, cf8(0, slot, 0, 0));
		ASSERT_EQ(in(0xcfc, 4), 0xffffffff);
		ASSERT_EQ(ecam_rd(slot << 15, 4), 0xffffffff);
	}
	for (int fn = 1; fn < PCI_MAX_FUNCS; fn++)
		ASSERT_EQ(ecam_rd(fn << 12, 4), 0xffffffff);
	out(0xcf8, 4, cf8(0, 7, 3, 0x08));
	ASSERT_EQ(in(0xcfd, 1), 0xff);
	ASSERT_EQ(in(0xcfe, 2), 0xffff);
	out(0xcf8, 4, cf8(2, 0, 0, 0));
	ASSERT_EQ(in(0xcfc, 4), 0xffffffff);
	ASSERT_EQ(pci_config_read(pci, 0, 9 << 3, 0, 4), 0xffffffff);
	ASSERT_EQ(pci_config_read(pci, 0, 9 << 3, 0, 2), 0xffff);
	/* a write there is harmless */
	out(0xcf8, 4, cf8(0, 9, 0, 0x3c));
	out(0xcfc, 4, 0);
	teardown();
}

TEST(multifunction_bit)
{
	setup();
	tfn_init(&fns[0], 0x3000, 1);
	tfn_init(&fns[1], 0x3001, 1);
	ASSERT_EQ(pci_register(pci, &fns[0].dev, 6, 0), 0);
	ASSERT_EQ(ecam_rd(6 << 15 | 0x0e, 1), 0x00);
	ASSERT_EQ(pci_register(pci, &fns[1].dev, 6, 5), 0);
	ASSERT_EQ(ecam_rd(6 << 15 | 0x0e, 1), 0x80);
	ASSERT_EQ(ecam_rd(6 << 15 | 0x0e, 2), 0x0080);
	ASSERT_EQ(ecam_rd(6 << 15 | 0x0c, 4), 0x00800000);
	out(0xcf8, 4, cf8(0, 6, 0, 0x0c));
	ASSERT_EQ(in(0xcfe, 1), 0x80);
	ASSERT_EQ(in(0xcff, 1), 0x00);
	ASSERT_EQ(in(0xcfc, 2), 0x0000);
	/* the device's own storage is unchanged; other functions do not get it */
	ASSERT_EQ(pci_cfg_get(&fns[0].cfg, 0x0e, 1), 0);
	ASSERT_EQ(ecam_rd(6 << 15 | 5 << 12 | 0x0e, 1), 0x00);
	ASSERT_EQ(ecam_rd(0x0e, 1), 0x00); /* host bridge slot: single function */
	pci_unregister(pci, &fns[1].dev);
	ASSERT_EQ(ecam_rd(6 << 15 | 0x0e, 1), 0x00);
	ASSERT_EQ(ecam_rd(6 << 15 | 5 << 12, 4), 0xffffffff);
	teardown();
}

TEST(slot_allocation_and_intx)
{
	int i;

	setup();
	for (i = 0; i < 4; i++)
		tfn_init(&fns[i], 0x4000 + i, i == 3 ? 0 : 1);
	ASSERT_EQ(pci_register(pci, &fns[0].dev, -1, 0), 0);
	ASSERT_EQ(fns[0].dev.slot, 1);
	ASSERT_EQ(fns[0].dev.fn, 0);
	ASSERT_EQ(fns[0].dev.intx_gsi, PCI_INTX_GSI(1, 0));
	ASSERT_EQ(fns[0].dev.intx_gsi, 17);
	ASSERT_EQ(pci_register(pci, &fns[1].dev, 2, 0), 0);
	ASSERT_EQ(pci_register(pci, &fns[2].dev, -1, 0), 0);
	ASSERT_EQ(fns[2].dev.slot, 3);
	fns[3].dev.intx_pin = 4;
	ASSERT_EQ(pci_register(pci, &fns[3].dev, 7, 0), 0);
	ASSERT_EQ(fns[3].dev.intx_gsi, 16 + ((7 + 3) & 7));
	pci_unregister(pci, &fns[3].dev);
	fns[3].dev.intx_pin = 0;
	ASSERT_EQ(pci_register(pci, &fns[3].dev, 7, 0), 0);
	ASSERT_EQ(fns[3].dev.intx_gsi, -1);
	pci_unregister(pci, &fns[3].dev);

	/* errors */
	tfn_init(&fns[4], 0x4004, 1);
	ASSERT_EQ(pci_register(pci, &fns[4].dev, 2, 0), -EBUSY);
	ASSERT_EQ(pci_register(pci, &fns[4].dev, 0, 0), -EBUSY);  /* the host bridge */
	ASSERT_EQ(pci_register(pci, &fns[4].dev, 9, 1), -ENOENT); /* no fn 0 in slot 9 */
	ASSERT_EQ(pci_register(pci, &fns[4].dev, -1, 1), -EINVAL);
	ASSERT_EQ(pci_register(pci, &fns[4].dev, PCI_MAX_SLOTS, 0), -EINVAL);
	ASSERT_EQ(pci_register(pci, &fns[4].dev, 9, PCI_MAX_FUNCS), -EINVAL);
	fns[4].dev.intx_pin = 5;
	ASSERT_EQ(pci_register(pci, &fns[4].dev, 9, 0), -EINVAL);
	fns[4].dev.intx_pin = 1;
	ASSERT_EQ(ecam_rd(9 << 15, 4), 0xffffffff); /* nothing half-registered */
	/* a slot with only a stray function > 0 is not free for slot -1 */
	tfn_init(&fns[5], 0x4005, 0);
	ASSERT_EQ(pci_register(pci, &fns[4].dev, 4, 0), 0);
	ASSERT_EQ(pci_register(pci, &fns[5].dev, 4, 2), 0);
	pci_unregister(pci, &fns[4].dev);
	tfn_init(&fns[6], 0x4006, 0);
	ASSERT_EQ(pci_register(pci, &fns[6].dev, -1, 0), 0);
	ASSERT_EQ(fns[6].dev.slot, 5);

	/* fill the bus: slots 6..31 are left */
	for (i = 7; i < 7 + 26; i++) {
		tfn_init(&fns[i], 0x4100 + i, 1);
		ASSERT_EQ(pci_register(pci, &fns[i].dev, -1, 0), 0);
		ASSERT_EQ(fns[i].dev.slot, i - 1);
	}
	tfn_init(&fns[i], 0x4200, 1);
	ASSERT_EQ(pci_register(pci, &fns[i].dev, -1, 0), -ENOSPC);
	/* functions of a full bus can still be added */
	ASSERT_EQ(pci_register(pci, &fns[i].dev, 31, 7), 0);
	ASSERT_EQ(ecam_rd(31 << 15 | 7 << 12, 2), 0x1af4);
	teardown();
}

TEST(bar_alloc_alignment)
{
	u64 a;

	setup();
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_IO, 0x20, &a), 0);
	ASSERT_EQ(a, LAYOUT_PIO_PCI_BASE);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_IO, 0x100, &a), 0);
	ASSERT_EQ(a, LAYOUT_PIO_PCI_BASE + 0x100);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_IO, 0x4, &a), 0); /* first fit: the gap */
	ASSERT_EQ(a, LAYOUT_PIO_PCI_BASE + 0x20);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_IO, 0x40, &a), 0);
	ASSERT_EQ(a, LAYOUT_PIO_PCI_BASE + 0x40);

	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM32, 16, &a), 0);
	ASSERT_EQ(a, LAYOUT_MMIO32_BASE);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM32, 16, &a), 0); /* never the same page */
	ASSERT_EQ(a, LAYOUT_MMIO32_BASE + 0x1000);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM32, 1 * MiB, &a), 0);
	ASSERT_EQ(a, LAYOUT_MMIO32_BASE + 1 * MiB);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM32, 8 * KiB, &a), 0);
	ASSERT_EQ(a, LAYOUT_MMIO32_BASE + 8 * KiB);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM32, 256 * MiB, &a), 0);
	ASSERT_EQ(a, LAYOUT_MMIO32_BASE + 256 * MiB);
	ASSERT_EQ(a % (256 * MiB), 0);

	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM64, 1 * GiB, &a), 0);
	ASSERT_EQ(a, vm.layout.mmio64_base);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM64, 64 * KiB, &a), 0);
	ASSERT_EQ(a, vm.layout.mmio64_base + 1 * GiB);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM64, 8 * GiB, &a), 0);
	ASSERT_EQ(a % (8 * GiB), 0);
	ASSERT_TRUE(a >= vm.layout.mmio64_base);
	ASSERT_TRUE(a + 8 * GiB <= vm.layout.mmio64_base + vm.layout.mmio64_size);

	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM32, 3 * KiB, &a), -EINVAL);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_IO, 0, &a), -EINVAL);
	teardown();
}

TEST(bar_alloc_exhaustion_and_free)
{
	u64 a, first = 0;
	int n;

	setup();
	/* I/O: 0xC000..0xFFFF holds 64 BARs of 256 bytes */
	for (n = 0; pci_alloc_bar(pci, PCI_BAR_IO, 256, &a) == 0; n++) {
		ASSERT_TRUE(a >= LAYOUT_PIO_PCI_BASE && a + 256 <= LAYOUT_PIO_PCI_END);
		if (n == 5)
			first = a;
	}
	ASSERT_EQ(n, (LAYOUT_PIO_PCI_END - LAYOUT_PIO_PCI_BASE) / 256);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_IO, 4, &a), -ENOSPC);
	ASSERT_EQ(pci_free_bar(pci, PCI_BAR_IO, first), 0);
	ASSERT_EQ(pci_free_bar(pci, PCI_BAR_IO, first), -ENOENT);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_IO, 256, &a), 0);
	ASSERT_EQ(a, first);

	/* 32-bit: 0xC0000000..0xFEC00000 holds one aligned 512 MiB BAR, not two
	 * (the second would end at 4 GiB, over the IOAPIC) */
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM32, 512 * MiB, &a), 0);
	ASSERT_EQ(a, 0xc0000000);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM32, 512 * MiB, &a), -ENOSPC);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM32, 256 * MiB, &a), 0);
	ASSERT_EQ(a, 0xe0000000);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM32, 256 * MiB, &a), -ENOSPC);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM32, 128 * MiB, &a), 0);
	ASSERT_EQ(a, 0xf0000000);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM32, 2 * GiB, &a), -ENOSPC);
	ASSERT_EQ(pci_free_bar(pci, PCI_BAR_MEM32, 0xc0000000), 0);

	/* 64-bit: [4 GiB, 36 GiB); a 32 GiB BAR needs 32 GiB alignment: no room */
	ASSERT_EQ(vm.layout.mmio64_base, 4 * GiB);
	ASSERT_EQ(vm.layout.mmio64_size, 32 * GiB);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM64, 32 * GiB, &a), -ENOSPC);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM64, 16 * GiB, &a), 0);
	ASSERT_EQ(a, 16 * GiB);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM64, 8 * GiB, &a), 0);
	ASSERT_EQ(a, 8 * GiB);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM64, 4 * GiB, &a), 0);
	ASSERT_EQ(a, 4 * GiB);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM64, 4 * GiB, &a), 0);
	ASSERT_EQ(a, 32 * GiB);
	/* the 64-bit window is full: a small 64-bit BAR goes below 4 GiB */
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM64, 1 * MiB, &a), 0);
	ASSERT_EQ(a, 0xc0000000);
	ASSERT_EQ(pci_free_bar(pci, PCI_BAR_MEM64, 0xc0000000), 0);
	ASSERT_EQ(pci_free_bar(pci, PCI_BAR_MEM64, 8 * GiB), 0);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM64, 1 * MiB, &a), 0);
	ASSERT_EQ(a, 8 * GiB);
	ASSERT_EQ(pci_alloc_bar(pci, PCI_BAR_MEM64, 1 * GiB, &a), 0); /* rest of the hole */
	ASSERT_EQ(a, 9 * GiB);
	teardown();
}

int main(void)
{
	RUN(create_and_destroy_claim_and_release_ports);
	RUN(host_bridge_through_cf8);
	RUN(config_address_latch);
	RUN(enable_bit_gates_data_port);
	RUN(data_port_byte_and_word_offsets);
	RUN(extended_register_bits);
	RUN(ecam_decode);
	RUN(unpopulated_functions_read_all_ones);
	RUN(multifunction_bit);
	RUN(slot_allocation_and_intx);
	RUN(bar_alloc_alignment);
	RUN(bar_alloc_exhaustion_and_free);
	return test_done();
}
