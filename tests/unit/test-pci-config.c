/* Emulated PCI config space: masks, BAR sizing, capability lists. */
#include <errno.h>

#include "devices/pci/config.h"
#include "tests/unit/harness.h"

static const struct pci_cfg_id test_id = {
	.vendor = 0x1234, .device = 0x5678, .class_code = 0x020000, .revision = 0x10,
	.header_type = PCI_HEADER_TYPE_NORMAL, .subsys_vendor = 0xabcd, .subsys_id = 0xef01,
	.intx_pin = 2,
};

static struct pci_cfg cfg; /* 12 KiB+: kept off the stack */

TEST(init_fills_header)
{
	pci_cfg_init(&cfg, &test_id);
	ASSERT_EQ(pci_cfg_read(&cfg, 0x00, 4), 0x56781234);
	ASSERT_EQ(pci_cfg_read(&cfg, 0x08, 4), 0x02000010);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_HEADER_TYPE, 1), 0);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_SUBSYSTEM_VENDOR_ID, 4), 0xef01abcd);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_INTERRUPT_PIN, 1), 2);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_COMMAND, 4), 0);   /* command and status */
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_CAPABILITY_LIST, 1), 0);
	for (int off = 0x40; off < PCI_CFG_SIZE; off += 4)
		ASSERT_EQ(pci_cfg_read(&cfg, off, 4), 0);
}

TEST(reads_every_length_at_every_alignment)
{
	pci_cfg_init(&cfg, &test_id);
	for (int i = 0; i < PCI_CFG_SIZE; i++)
		pci_cfg_set(&cfg, i, 1, (i * 7 + 3) & 0xff);
	for (int len = 1; len <= 4; len *= 2) {
		for (int off = 0; off + len <= PCI_CFG_SIZE; off += len) {
			u32 want = 0;

			for (int b = len - 1; b >= 0; b--)
				want = (want << 8) | (((off + b) * 7 + 3) & 0xff);
			ASSERT_EQ(pci_cfg_read(&cfg, off, len), want);
		}
	}
	/* past the end or a bad length: all ones */
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_CFG_SIZE - 2, 4), 0xffffffff);
	ASSERT_EQ(pci_cfg_read(&cfg, 0, 3), 0xffffffff);
}

TEST(wmask_limits_writes)
{
	pci_cfg_init(&cfg, &test_id);
	pci_cfg_write(&cfg, PCI_VENDOR_ID, 4, 0xffffffff);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_VENDOR_ID, 4), 0x56781234);
	pci_cfg_write(&cfg, PCI_COMMAND, 2, 0xffff);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_COMMAND, 2), 0x0547);
	pci_cfg_write(&cfg, PCI_INTERRUPT_LINE, 2, 0xff0b);  /* line writable, pin not */
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_INTERRUPT_LINE, 1), 0x0b);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_INTERRUPT_PIN, 1), 2);
	/* a device-chosen mask on a vendor register, written byte by byte */
	pci_cfg_set_wmask(&cfg, 0x44, 4, 0x00ff0f00);
	for (int i = 0; i < 4; i++)
		pci_cfg_write(&cfg, 0x44 + i, 1, 0xff);
	ASSERT_EQ(pci_cfg_read(&cfg, 0x44, 4), 0x00ff0f00);
	pci_cfg_write(&cfg, 0x46, 2, 0x0000);
	ASSERT_EQ(pci_cfg_read(&cfg, 0x44, 4), 0x00000f00);
}

TEST(w1c_clears_only_written_ones)
{
	pci_cfg_init(&cfg, &test_id);
	pci_cfg_set(&cfg, PCI_STATUS, 2, 0xf900 | PCI_STATUS_CAP_LIST | PCI_STATUS_INTERRUPT);
	pci_cfg_write(&cfg, PCI_STATUS, 2, 0);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_STATUS, 2), 0xf918);
	pci_cfg_write(&cfg, PCI_STATUS, 2, 0x2000);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_STATUS, 2), 0xd918);
	/* read-only status bits survive a write of all ones */
	pci_cfg_write(&cfg, PCI_STATUS, 2, 0xffff);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_STATUS, 2), 0x0018);
	/* a dword write to command+status: command takes its bits, status clears */
	pci_cfg_set(&cfg, PCI_STATUS, 2, 0x8000);
	pci_cfg_write(&cfg, PCI_COMMAND, 4, 0x80000006);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_COMMAND, 4), 0x00000006);
}

TEST(bar_sizing_mem32)
{
	pci_cfg_init(&cfg, &test_id);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 0, PCI_BAR_MEM32, 4096, true), 0);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_BASE_ADDRESS_0, 4), PCI_BASE_ADDRESS_MEM_PREFETCH);
	pci_cfg_write(&cfg, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_BASE_ADDRESS_0, 4), 0xfffff008);
	pci_cfg_write(&cfg, PCI_BASE_ADDRESS_0, 4, 0xc0001234);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_BASE_ADDRESS_0, 4), 0xc0001008);
	ASSERT_EQ(pci_cfg_bar_addr(&cfg, 0), 0xc0001000);
	/* a 2 GiB BAR has only bit 31 */
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 1, PCI_BAR_MEM32, 2 * GiB, false), 0);
	pci_cfg_write(&cfg, PCI_BASE_ADDRESS_0 + 4, 4, 0xffffffff);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_BASE_ADDRESS_0 + 4, 4), 0x80000000);
}

TEST(bar_sizing_mem64)
{
	u64 mask;

	pci_cfg_init(&cfg, &test_id);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 2, PCI_BAR_MEM64, 8 * GiB, true), 0);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_BASE_ADDRESS_0 + 8, 4), PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);
	pci_cfg_write(&cfg, PCI_BASE_ADDRESS_0 + 8, 4, 0xffffffff);
	pci_cfg_write(&cfg, PCI_BASE_ADDRESS_0 + 12, 4, 0xffffffff);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_BASE_ADDRESS_0 + 8, 4), 0x0000000c);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_BASE_ADDRESS_0 + 12, 4), 0xfffffffe);
	mask = (u64)pci_cfg_read(&cfg, PCI_BASE_ADDRESS_0 + 12, 4) << 32 |
	       (pci_cfg_read(&cfg, PCI_BASE_ADDRESS_0 + 8, 4) & ~0xfu);
	ASSERT_EQ(~mask + 1, 8 * GiB);
	pci_cfg_write(&cfg, PCI_BASE_ADDRESS_0 + 8, 4, 0);
	pci_cfg_write(&cfg, PCI_BASE_ADDRESS_0 + 12, 4, 0x12);
	ASSERT_EQ(pci_cfg_bar_addr(&cfg, 2), 0x1200000000ULL);

	/* a small 64-bit BAR: low dword has address bits too */
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 0, PCI_BAR_MEM64, 16 * KiB, false), 0);
	pci_cfg_write(&cfg, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	pci_cfg_write(&cfg, PCI_BASE_ADDRESS_0 + 4, 4, 0xffffffff);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_BASE_ADDRESS_0, 4), 0xffffc004);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_BASE_ADDRESS_0 + 4, 4), 0xffffffff);
	pci_cfg_set_bar_addr(&cfg, 0, 0x4000000000ULL + 0xc000);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_BASE_ADDRESS_0, 4), 0x0000c004);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_BASE_ADDRESS_0 + 4, 4), 0x40);

	/* upper halves are taken; the last BAR cannot be 64-bit */
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 1, PCI_BAR_MEM32, 4096, false), -EINVAL);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 3, PCI_BAR_IO, 16, false), -EINVAL);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 5, PCI_BAR_MEM64, 4096, false), -EINVAL);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 4, PCI_BAR_MEM64, 4096, false), 0);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 5, PCI_BAR_MEM32, 4096, false), -EINVAL);
}

TEST(bar_sizing_io)
{
	pci_cfg_init(&cfg, &test_id);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 1, PCI_BAR_IO, 32, true), 0);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_BASE_ADDRESS_0 + 4, 4), PCI_BASE_ADDRESS_SPACE_IO);
	pci_cfg_write(&cfg, PCI_BASE_ADDRESS_0 + 4, 4, 0xffffffff);
	/* 16-bit decode: bits 31:16 read 0; prefetch is meaningless for I/O */
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_BASE_ADDRESS_0 + 4, 4), 0x0000ffe1);
	pci_cfg_write(&cfg, PCI_BASE_ADDRESS_0 + 4, 2, 0xc040);
	ASSERT_EQ(pci_cfg_bar_addr(&cfg, 1), 0xc040);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_BASE_ADDRESS_0 + 4, 4), 0xc041);
}

TEST(bar_rejects_bad_declarations)
{
	pci_cfg_init(&cfg, &test_id);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 0, PCI_BAR_MEM32, 3000, false), -EINVAL);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 0, PCI_BAR_MEM32, 8, false), -EINVAL);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 0, PCI_BAR_MEM32, 4 * GiB, false), -EINVAL);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 0, PCI_BAR_IO, 512, false), -EINVAL);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 0, PCI_BAR_IO, 2, false), -EINVAL);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, -1, PCI_BAR_IO, 16, false), -EINVAL);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 0, PCI_BAR_IO, 16, false), 0);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 0, PCI_BAR_IO, 16, false), -EINVAL);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, PCI_CFG_BAR_ROM, PCI_BAR_MEM32, 1024, false), -EINVAL);
	/* a bridge has two BARs and its ROM register at 0x38 */
	pci_cfg_init(&cfg, &(struct pci_cfg_id){ .header_type = PCI_HEADER_TYPE_BRIDGE });
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 2, PCI_BAR_MEM32, 4096, false), -EINVAL);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 1, PCI_BAR_MEM64, 4096, false), -EINVAL);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 0, PCI_BAR_MEM64, 4096, false), 0);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, PCI_CFG_BAR_ROM, PCI_BAR_MEM32, 4096, false), 0);
	pci_cfg_write(&cfg, PCI_ROM_ADDRESS1, 4, 0xffffffff);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_ROM_ADDRESS1, 4), 0xfffff001);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_ROM_ADDRESS, 4), 0);
}

TEST(rom_bar)
{
	u64 addr = 0;

	pci_cfg_init(&cfg, &test_id);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, PCI_CFG_BAR_ROM, PCI_BAR_MEM32, 64 * KiB, false), 0);
	pci_cfg_write(&cfg, PCI_ROM_ADDRESS, 4, 0xfffffffe);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_ROM_ADDRESS, 4), 0xffff0000);
	pci_cfg_write(&cfg, PCI_ROM_ADDRESS, 4, 0xc0020000);
	ASSERT_EQ(pci_cfg_bar_addr(&cfg, PCI_CFG_BAR_ROM), 0xc0020000);
	pci_cfg_write(&cfg, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	ASSERT_FALSE(pci_cfg_bar_live(&cfg, PCI_CFG_BAR_ROM, &addr)); /* enable bit clear */
	pci_cfg_write(&cfg, PCI_ROM_ADDRESS, 4, 0xc0020001);
	ASSERT_TRUE(pci_cfg_bar_live(&cfg, PCI_CFG_BAR_ROM, &addr));
	ASSERT_EQ(addr, 0xc0020000);
	/* pci_cfg_set_bar_addr leaves the enable bit alone */
	pci_cfg_set_bar_addr(&cfg, PCI_CFG_BAR_ROM, 0xd0000000);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_ROM_ADDRESS, 4), 0xd0000001);
}

TEST(write_reports_what_changed)
{
	pci_cfg_init(&cfg, &test_id);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 0, PCI_BAR_MEM64, 4096, false), 0);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 2, PCI_BAR_IO, 16, false), 0);
	ASSERT_EQ(pci_cfg_write(&cfg, PCI_COMMAND, 2, PCI_COMMAND_MEMORY), PCI_CFG_WR_COMMAND);
	ASSERT_EQ(pci_cfg_write(&cfg, PCI_COMMAND, 2, PCI_COMMAND_MEMORY), 0);
	ASSERT_EQ(pci_cfg_write(&cfg, PCI_BASE_ADDRESS_0 + 4, 4, 0x1), PCI_CFG_WR_BAR(0));
	ASSERT_EQ(pci_cfg_write(&cfg, PCI_BASE_ADDRESS_0 + 8, 4, 0xc000), PCI_CFG_WR_BAR(2));
	ASSERT_EQ(pci_cfg_write(&cfg, PCI_BASE_ADDRESS_0 + 12, 4, 0xffffffff), 0); /* unimplemented */
	ASSERT_EQ(pci_cfg_write(&cfg, PCI_VENDOR_ID, 4, 0), 0);
	ASSERT_EQ(pci_cfg_write(&cfg, PCI_INTERRUPT_LINE, 1, 5), 0); /* changed, but not tracked */
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_INTERRUPT_LINE, 1), 5);
}

TEST(bar_live_follows_command_and_limits)
{
	u64 addr = 0;

	pci_cfg_init(&cfg, &test_id);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 0, PCI_BAR_MEM64, 16 * KiB, false), 0);
	ASSERT_EQ(pci_cfg_add_bar(&cfg, 2, PCI_BAR_IO, 16, false), 0);
	ASSERT_FALSE(pci_cfg_bar_live(&cfg, 4, &addr)); /* not implemented */
	pci_cfg_set_bar_addr(&cfg, 0, 0x800000000ULL);
	pci_cfg_set_bar_addr(&cfg, 2, 0xc010);
	ASSERT_FALSE(pci_cfg_bar_live(&cfg, 0, &addr));
	ASSERT_FALSE(pci_cfg_bar_live(&cfg, 2, &addr));
	pci_cfg_write(&cfg, PCI_COMMAND, 2, PCI_COMMAND_IO);
	ASSERT_TRUE(pci_cfg_io_enabled(&cfg));
	ASSERT_FALSE(pci_cfg_mem_enabled(&cfg));
	ASSERT_FALSE(pci_cfg_bar_live(&cfg, 0, &addr));
	ASSERT_TRUE(pci_cfg_bar_live(&cfg, 2, &addr));
	ASSERT_EQ(addr, 0xc010);
	pci_cfg_write(&cfg, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	ASSERT_FALSE(pci_cfg_bar_live(&cfg, 2, &addr));
	ASSERT_TRUE(pci_cfg_bar_live(&cfg, 0, &addr));
	ASSERT_EQ(addr, 0x800000000ULL);
	/* the sizing pattern of a 64-bit BAR is no place to map it */
	pci_cfg_write(&cfg, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	pci_cfg_write(&cfg, PCI_BASE_ADDRESS_0 + 4, 4, 0xffffffff);
	ASSERT_FALSE(pci_cfg_bar_live(&cfg, 0, &addr));
	/* nor address 0 */
	pci_cfg_set_bar_addr(&cfg, 0, 0);
	ASSERT_FALSE(pci_cfg_bar_live(&cfg, 0, &addr));
}

TEST(capability_list_links)
{
	static const u8 body1[12] = { 0x80, 0x01, 0xaa, 0xbb };
	static const u8 body2[10] = { 0x11, 0x22 };
	int off1, off2, off3;

	pci_cfg_init(&cfg, &test_id);
	ASSERT_EQ(pci_cfg_find_cap(&cfg, PCI_CAP_ID_MSI), 0);
	off1 = pci_cfg_add_cap(&cfg, PCI_CAP_ID_MSI, body1, 14);
	ASSERT_EQ(off1, 0x40);
	ASSERT_EQ(pci_cfg_read(&cfg, PCI_CAPABILITY_LIST, 1), 0x40);
	ASSERT_TRUE(pci_cfg_read(&cfg, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	ASSERT_EQ(pci_cfg_read(&cfg, 0x40, 4), 0x01800005); /* id, next 0, body */
	off2 = pci_cfg_add_cap(&cfg, PCI_CAP_ID_MSIX, body2, 12);
	ASSERT_EQ(off2, 0x50); /* 0x40 + 14, rounded up to a dword */
	ASSERT_EQ(pci_cfg_read(&cfg, 0x41, 1), 0x50);
	ASSERT_EQ(pci_cfg_read(&cfg, 0x50, 4), 0x22110011);
	off3 = pci_cfg_add_cap(&cfg, PCI_CAP_ID_VNDR, NULL, 8);
	ASSERT_EQ(off3, 0x5c);
	ASSERT_EQ(pci_cfg_read(&cfg, 0x51, 1), 0x5c);
	ASSERT_EQ(pci_cfg_read(&cfg, 0x5d, 1), 0);
	ASSERT_EQ(pci_cfg_find_cap(&cfg, PCI_CAP_ID_MSI), off1);
	ASSERT_EQ(pci_cfg_find_cap(&cfg, PCI_CAP_ID_MSIX), off2);
	ASSERT_EQ(pci_cfg_find_cap(&cfg, PCI_CAP_ID_VNDR), off3);
	ASSERT_EQ(pci_cfg_find_cap(&cfg, PCI_CAP_ID_PM), 0);
	/* guests cannot rewrite ids, links or bodies unless the device allows it */
	ASSERT_EQ(pci_cfg_read(&cfg, 0x40, 4), 0x01805005);
	pci_cfg_write(&cfg, 0x40, 4, 0xffffffff);
	pci_cfg_write(&cfg, 0x50, 1, 0);
	ASSERT_EQ(pci_cfg_read(&cfg, 0x40, 4), 0x01805005);
	ASSERT_EQ(pci_cfg_find_cap(&cfg, PCI_CAP_ID_MSIX), off2);
	/* full: 0x64 + 0xa0 > 0x100 */
	ASSERT_EQ(pci_cfg_add_cap(&cfg, PCI_CAP_ID_VNDR, NULL, 0xa0), -ENOSPC);
	ASSERT_EQ(pci_cfg_add_cap(&cfg, PCI_CAP_ID_VNDR, NULL, 1), -EINVAL);
	ASSERT_EQ(pci_cfg_add_cap(&cfg, PCI_CAP_ID_VNDR, NULL, 0x9c), 0x64);
	ASSERT_EQ(pci_cfg_read(&cfg, 0x5d, 1), 0x64);
}

TEST(extended_capabilities)
{
	static const u8 body[4] = { 1, 2, 3, 4 };

	pci_cfg_init(&cfg, &test_id);
	ASSERT_EQ(pci_cfg_find_ecap(&cfg, 0x0b), 0);
	ASSERT_EQ(pci_cfg_add_ecap(&cfg, 0x0b, 1, body, 8), 0x100);
	ASSERT_EQ(pci_cfg_read(&cfg, 0x100, 4), 0x0001000b);
	ASSERT_EQ(pci_cfg_read(&cfg, 0x104, 4), 0x04030201);
	ASSERT_EQ(pci_cfg_add_ecap(&cfg, 0x18, 1, NULL, 6), 0x108);
	ASSERT_EQ(pci_cfg_read(&cfg, 0x100, 4), 0x1081000b); /* next = 0x108 in bits 31:20 */
	ASSERT_EQ(pci_cfg_read(&cfg, 0x108, 4), 0x00010018);
	ASSERT_EQ(pci_cfg_add_ecap(&cfg, 0x0b, 2, NULL, 4), 0x110); /* 0x108 + 6, aligned */
	ASSERT_EQ(pci_cfg_read(&cfg, 0x108, 4) >> 20, 0x110);
	ASSERT_EQ(pci_cfg_find_ecap(&cfg, 0x18), 0x108);
	ASSERT_EQ(pci_cfg_find_ecap(&cfg, 0x0b), 0x100); /* the first one */
	ASSERT_EQ(pci_cfg_find_ecap(&cfg, 0x01), 0);
	ASSERT_EQ(pci_cfg_add_ecap(&cfg, 0x0b, 1, NULL, 0x1000), -ENOSPC);
	ASSERT_EQ(pci_cfg_add_ecap(&cfg, 0x0b, 1, NULL, 2), -EINVAL);
	ASSERT_EQ(pci_cfg_add_ecap(&cfg, 0x0b, 1, NULL, 0x1000 - 0x114), 0x114);
}

TEST(pcie_capability_rc_integrated)
{
	int off;

	pci_cfg_init(&cfg, &test_id);
	ASSERT_EQ(pci_cfg_add_pcie_cap(&cfg, 4 /* root port */), -EINVAL);
	off = pci_cfg_add_pcie_cap(&cfg, PCI_EXP_TYPE_RC_END);
	ASSERT_EQ(off, 0x40);
	ASSERT_EQ(pci_cfg_find_cap(&cfg, PCI_CAP_ID_EXP), off);
	ASSERT_EQ(pci_cfg_read(&cfg, off, 4), 0x00920010); /* version 2, type 9 */
	ASSERT_EQ(pci_cfg_read(&cfg, off + PCI_EXP_DEVCAP, 4) & 7, 0); /* 128-byte MPS */
	ASSERT_EQ(pci_cfg_read(&cfg, off + PCI_EXP_DEVCTL, 2), 0x2810);
	pci_cfg_write(&cfg, off + PCI_EXP_DEVCTL, 2, 0xffff);
	ASSERT_EQ(pci_cfg_read(&cfg, off + PCI_EXP_DEVCTL, 2), 0x78ff); /* no FLR, no ext tag */
	pci_cfg_set(&cfg, off + PCI_EXP_DEVSTA, 2, 0x002f);
	pci_cfg_write(&cfg, off + PCI_EXP_DEVSTA, 2, 0x0005);
	ASSERT_EQ(pci_cfg_read(&cfg, off + PCI_EXP_DEVSTA, 2), 0x002a);
	/* no link registers in an integrated endpoint */
	ASSERT_EQ(pci_cfg_read(&cfg, off + PCI_EXP_LNKCAP, 4), 0);
	pci_cfg_write(&cfg, off + PCI_EXP_LNKCTL, 2, 0xffff);
	ASSERT_EQ(pci_cfg_read(&cfg, off + PCI_EXP_LNKCTL, 4), 0);
	/* the next capability starts after the 0x3C bytes */
	ASSERT_EQ(pci_cfg_add_cap(&cfg, PCI_CAP_ID_MSI, NULL, 14), 0x7c);
}

TEST(pcie_capability_endpoint)
{
	int off;

	pci_cfg_init(&cfg, &test_id);
	ASSERT_EQ(pci_cfg_add_cap(&cfg, PCI_CAP_ID_PM, NULL, 8), 0x40);
	off = pci_cfg_add_pcie_cap(&cfg, PCI_EXP_TYPE_ENDPOINT);
	ASSERT_EQ(off, 0x48);
	ASSERT_EQ(pci_cfg_read(&cfg, 0x41, 1), 0x48);
	ASSERT_EQ(pci_cfg_read(&cfg, off + PCI_EXP_FLAGS, 2), 0x0002);
	ASSERT_EQ(pci_cfg_read(&cfg, off + PCI_EXP_LNKCAP, 4) & 0x3ff, 0x11);
	ASSERT_EQ(pci_cfg_read(&cfg, off + PCI_EXP_LNKSTA, 2), 0x11);
	pci_cfg_write(&cfg, off + PCI_EXP_LNKCTL, 2, 0xffff);
	ASSERT_EQ(pci_cfg_read(&cfg, off + PCI_EXP_LNKCTL, 2), 0x00cb);
	pci_cfg_write(&cfg, off + PCI_EXP_LNKSTA, 2, 0xffff);
	ASSERT_EQ(pci_cfg_read(&cfg, off + PCI_EXP_LNKSTA, 2), 0x11);
}

int main(void)
{
	RUN(init_fills_header);
	RUN(reads_every_length_at_every_alignment);
	RUN(wmask_limits_writes);
	RUN(w1c_clears_only_written_ones);
	RUN(bar_sizing_mem32);
	RUN(bar_sizing_mem64);
	RUN(bar_sizing_io);
	RUN(bar_rejects_bad_declarations);
	RUN(rom_bar);
	RUN(write_reports_what_changed);
	RUN(bar_live_follows_command_and_limits);
	RUN(capability_list_links);
	RUN(extended_capabilities);
	RUN(pcie_capability_rc_integrated);
	RUN(pcie_capability_endpoint);
	return test_done();
}
