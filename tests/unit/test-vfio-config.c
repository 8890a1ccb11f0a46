/*
 * Emulated config space of passed-through devices, against config spaces
 * recorded in the lab (L2's sysfs config files of QEMU's edu, nvme and
 * e1000e): BAR sizing, 64-bit and I/O BARs, the ROM BAR, command and decode
 * tracking, capability filtering and relinking, read-only fields.
 */
#include <errno.h>

#include "passthrough/config-space.h"
#include "passthrough/msix.h"
#include "tests/unit/harness.h"

struct cfg_row {
	u16 off;
	const char *hex;
};

static const struct cfg_row edu_rows[] = {
	{ 0x000, "34 12 e8 11 03 01 10 00 10 00 ff 00 00 00 00 00" },
	{ 0x010, "00 00 a0 fe 00 00 00 00 00 00 00 00 00 00 00 00" },
	{ 0x020, "00 00 00 00 00 00 00 00 00 00 00 00 f4 1a 00 11" },
	{ 0x030, "00 00 00 00 40 00 00 00 00 00 00 00 0a 01 00 00" },
	{ 0x040, "05 00 80 00 00 00 00 00 00 00 00 00 00 00 00 00" },
};
static const struct cfg_row nvme_rows[] = {
	{ 0x000, "36 1b 10 00 07 01 10 00 02 02 08 01 00 00 00 00" },
	{ 0x010, "04 00 b8 fe 00 00 00 00 00 00 00 00 00 00 00 00" },
	{ 0x020, "00 00 00 00 00 00 00 00 00 00 00 00 f4 1a 00 11" },
	{ 0x030, "00 00 00 00 40 00 00 00 00 00 00 00 0a 01 00 00" },
	{ 0x040, "11 80 40 00 00 20 00 00 00 30 00 00 00 00 00 00" },
	{ 0x060, "01 00 03 00 0b 00 00 00 00 00 00 00 00 00 00 00" },
	{ 0x080, "10 60 92 00 00 80 00 10 00 00 00 00 11 04 00 00" },
	{ 0x090, "00 00 11 00 00 00 00 00 00 00 00 00 00 00 00 00" },
	{ 0x0a0, "00 00 00 00 00 00 30 00 00 00 00 00 00 00 00 00" },
};
static const struct cfg_row e1000e_rows[] = {
	{ 0x000, "86 80 d3 10 03 01 10 00 00 00 00 02 00 00 00 00" },
	{ 0x010, "00 00 b4 fe 00 00 b6 fe a1 c0 00 00 00 40 b8 fe" },
	{ 0x020, "00 00 00 00 00 00 00 00 00 00 00 00 86 80 00 00" },
	{ 0x030, "00 00 b0 fe c8 00 00 00 00 00 00 00 0b 01 00 00" },
	{ 0x0a0, "11 00 04 00 03 00 00 00 03 20 00 00 00 00 00 00" },
	{ 0x0c0, "00 00 00 00 00 00 00 00 01 d0 22 00 03 00 00 00" },
	{ 0x0d0, "05 e0 80 00 00 00 00 00 00 00 00 00 00 00 00 00" },
	{ 0x0e0, "10 a0 91 00 00 80 00 00 00 00 00 00 11 04 00 00" },
	{ 0x0f0, "00 00 11 00 00 00 00 00 00 00 00 00 00 00 00 00" },
	{ 0x100, "01 00 02 14 00 00 00 00 00 00 00 00 30 20 46 00" },
	{ 0x110, "00 00 00 00 00 e0 00 00 a0 00 00 00 00 00 00 00" },
	{ 0x140, "03 00 01 00 56 34 12 ff ff 00 54 52 00 00 00 00" },
};

/* Expand recorded rows into a 4096-byte config image. */
static void load(u8 *cfg, const struct cfg_row *rows, size_t n)
{
	memset(cfg, 0, VCFG_SIZE);
	for (size_t r = 0; r < n; r++)
		for (int i = 0; i < 16; i++)
			cfg[rows[r].off + i] = (u8)strtoul(rows[r].hex + 3 * i, NULL, 16);
}

/* Device bytes as a little-endian value, what the glue passes as phys. */
static u32 dev_val(const u8 *cfg, u16 off, int len)
{
	u32 v = 0;

	for (int i = 0; i < len; i++)
		v |= (u32)cfg[off + i] << (8 * i);
	return v;
}

/* Read through the merge, as the glue does. */
static u32 rd(const struct vcfg *c, const u8 *dev, u16 off, int len)
{
	return vcfg_read(c, off, len, dev_val(dev, off, len));
}

static u8 edu[VCFG_SIZE], nvme[VCFG_SIZE], e1000e[VCFG_SIZE];
static const u64 edu_bars[6] = { 1 * MiB };
static const u64 nvme_bars[6] = { 16 * KiB };
/* e1000e: BAR0, BAR1 128 KiB memory, BAR2 32 bytes I/O, BAR3 16 KiB (MSI-X) */
static const u64 e1000e_bars[6] = { 128 * KiB, 128 * KiB, 32, 16 * KiB };

TEST(edu_identity_and_readonly)
{
	struct vcfg c;
	struct vcfg_write_result r;

	ASSERT_EQ(vcfg_init(&c, edu, 256, edu_bars, 0, true, false), 0);
	ASSERT_EQ(c.size, 256);
	ASSERT_EQ(rd(&c, edu, 0x00, 4), 0x11e81234);
	ASSERT_EQ(rd(&c, edu, 0x08, 4), 0x00ff0010);
	ASSERT_EQ(rd(&c, edu, 0x2c, 4), 0x11001af4);
	/* IDs are fully emulated: the write changes nothing, nothing is forwarded */
	ASSERT_EQ(vcfg_write(&c, 0x00, 4, 0xdeadbeef, &r), 0);
	ASSERT_EQ(rd(&c, edu, 0x00, 4), 0x11e81234);
	ASSERT_EQ(vcfg_write(&c, 0x2c, 2, 0xffff, &r), 0);
	ASSERT_EQ(rd(&c, edu, 0x2c, 2), 0x1af4);
	/* pin from the device, read-only; line writable */
	ASSERT_EQ(rd(&c, edu, PCI_INTERRUPT_PIN, 1), 1);
	vcfg_write(&c, PCI_INTERRUPT_PIN, 1, 3, &r);
	ASSERT_EQ(rd(&c, edu, PCI_INTERRUPT_PIN, 1), 1);
	vcfg_write(&c, PCI_INTERRUPT_LINE, 1, 0x0b, &r);
	ASSERT_EQ(rd(&c, edu, PCI_INTERRUPT_LINE, 1), 0x0b);
	/* header type: single function; extended space of a conventional device reads 0 */
	ASSERT_EQ(rd(&c, edu, PCI_HEADER_TYPE, 1), 0x00);
	ASSERT_EQ(vcfg_phys_mask(&c, 0x100, 4), 0);
	ASSERT_EQ(vcfg_read(&c, 0x100, 4, 0xffffffff), 0);
}

TEST(edu_bar_sizing)
{
	struct vcfg c;
	struct vcfg_write_result r;
	unsigned act;

	ASSERT_EQ(vcfg_init(&c, edu, 256, edu_bars, 0, true, false), 0);
	ASSERT_EQ(c.bars[0].type, VCFG_BAR_MEM32);
	ASSERT_EQ(c.bars[1].type, VCFG_BAR_NONE);
	/* unassigned until setup programs it; flags (32-bit, non-prefetchable) visible */
	ASSERT_EQ(rd(&c, edu, 0x10, 4), 0);
	act = vcfg_write(&c, 0x10, 4, 0xffffffff, &r);
	ASSERT_EQ(act, VCFG_ACT_BAR);
	ASSERT_EQ(r.bars_changed, 1);
	ASSERT_EQ(rd(&c, edu, 0x10, 4), 0xfff00000);
	vcfg_write(&c, 0x10, 4, 0xc0012345, &r);
	ASSERT_EQ(rd(&c, edu, 0x10, 4), 0xc0000000);
	ASSERT_EQ(vcfg_bar_addr(&c, 0), 0xc0000000);
	/* absent BARs read 0 and size to 0 */
	ASSERT_EQ(vcfg_write(&c, 0x14, 4, 0xffffffff, &r), 0);
	ASSERT_EQ(rd(&c, edu, 0x14, 4), 0);
	/* no ROM: the ROM BAR sizes to 0 */
	ASSERT_EQ(vcfg_write(&c, PCI_ROM_ADDRESS, 4, 0xfffff800, &r), 0);
	ASSERT_EQ(rd(&c, edu, PCI_ROM_ADDRESS, 4), 0);
	vcfg_set_bar(&c, 0, 0xc0100000);
	ASSERT_EQ(rd(&c, edu, 0x10, 4), 0xc0100000);
}

TEST(edu_command_and_decode)
{
	struct vcfg c;
	struct vcfg_write_result r;
	unsigned act;

	ASSERT_EQ(vcfg_init(&c, edu, 256, edu_bars, 0, true, false), 0);
	/* command is the device's: reads merge phys, writes forward */
	ASSERT_EQ(vcfg_phys_mask(&c, PCI_COMMAND, 2), 0xffff);
	ASSERT_EQ(vcfg_read(&c, PCI_COMMAND, 2, 0x0007), 0x0007);
	act = vcfg_write(&c, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, &r);
	ASSERT_EQ(act, VCFG_ACT_DECODE | VCFG_ACT_FORWARD);
	ASSERT_EQ(r.fwd_val, 0x6);
	ASSERT_TRUE(vcfg_bar_enabled(&c, 0));
	/* the same decode again: forward only */
	act = vcfg_write(&c, PCI_COMMAND, 2, 0x0406, &r);
	ASSERT_EQ(act, VCFG_ACT_FORWARD);
	/* a byte write to the high half keeps the decode bits */
	act = vcfg_write(&c, PCI_COMMAND + 1, 1, 0x00, &r);
	ASSERT_EQ(act, VCFG_ACT_FORWARD);
	ASSERT_TRUE(vcfg_bar_enabled(&c, 0));
	act = vcfg_write(&c, PCI_COMMAND, 4, 0x00000000, &r);
	ASSERT_EQ(act, VCFG_ACT_DECODE | VCFG_ACT_FORWARD);
	ASSERT_FALSE(vcfg_bar_enabled(&c, 0));
	/* status: the capability-list bit is emulated, the rest is the device's */
	ASSERT_EQ(vcfg_phys_mask(&c, PCI_STATUS, 2), 0xffef);
	ASSERT_EQ(vcfg_read(&c, PCI_STATUS, 2, 0x0000), PCI_STATUS_CAP_LIST);
}

TEST(edu_msi_capability)
{
	struct vcfg c;
	struct vcfg_write_result r;
	struct msi m;
	unsigned act;

	ASSERT_EQ(vcfg_init(&c, edu, 256, edu_bars, 0, true, false), 0);
	ASSERT_EQ(rd(&c, edu, PCI_CAPABILITY_LIST, 1), 0x40);
	ASSERT_EQ(c.msi_cap, 0x40);
	ASSERT_EQ(c.msix_cap, 0);
	ASSERT_EQ(rd(&c, edu, 0x40, 4), 0x00800005); /* MSI, last, 64-bit, 1 vector */
	ASSERT_EQ(vcfg_phys_mask(&c, 0x40, 4), 0);
	msi_init(&m, c.msi_cap, 0x0080);
	/* Linux: address, data, then enable */
	ASSERT_EQ(vcfg_write(&c, 0x44, 4, 0xfee01004, &r), VCFG_ACT_MSI);
	ASSERT_EQ(vcfg_write(&c, 0x48, 4, 0, &r), VCFG_ACT_MSI);
	ASSERT_EQ(vcfg_write(&c, 0x4c, 2, 0x4041, &r), VCFG_ACT_MSI);
	ASSERT_EQ(msi_update(&m, c.shadow), 0);
	ASSERT_EQ(rd(&c, edu, 0x44, 4), 0xfee01004);
	/* asking for 4 vectors of a 1-vector device: MME clamped to 0 */
	act = vcfg_write(&c, 0x42, 2, 0x0081 | (2 << 4), &r);
	ASSERT_EQ(act, VCFG_ACT_MSI);
	ASSERT_EQ(msi_update(&m, c.shadow), MSI_ACT_ENABLE);
	ASSERT_EQ(rd(&c, edu, 0x42, 2), 0x0081);
	ASSERT_EQ(m.nvec, 1);
	ASSERT_EQ(m.addr, 0xfee01004);
	ASSERT_EQ(m.data, 0x4041);
	/* the MSI-capable bits are read-only */
	vcfg_write(&c, 0x42, 2, 0x0001 | (7 << 1), &r);
	ASSERT_EQ(rd(&c, edu, 0x42, 2), 0x0081);
}

TEST(nvme_bar64_and_caps)
{
	struct vcfg c;
	struct vcfg_write_result r;

	ASSERT_EQ(vcfg_init(&c, nvme, VCFG_SIZE, nvme_bars, 0, true, false), 0);
	ASSERT_EQ(c.size, VCFG_SIZE);
	ASSERT_EQ(c.bars[0].type, VCFG_BAR_MEM64);
	ASSERT_EQ(c.bars[1].type, VCFG_BAR_MEM64_HI);
	ASSERT_EQ(rd(&c, nvme, 0x10, 4), 0x4);
	/* sizing a 64-bit BAR: both halves */
	ASSERT_EQ(vcfg_write(&c, 0x10, 4, 0xffffffff, &r), VCFG_ACT_BAR);
	ASSERT_EQ(r.bars_changed, 1);
	ASSERT_EQ(vcfg_write(&c, 0x14, 4, 0xffffffff, &r), VCFG_ACT_BAR);
	ASSERT_EQ(r.bars_changed, 1); /* the high half reports the BAR by its low index */
	ASSERT_EQ(rd(&c, nvme, 0x10, 4), 0xffffc004);
	ASSERT_EQ(rd(&c, nvme, 0x14, 4), 0xffffffff);
	vcfg_write(&c, 0x10, 4, 0xfe000000, &r);
	vcfg_write(&c, 0x14, 4, 0x00000008, &r);
	ASSERT_EQ(vcfg_bar_addr(&c, 0), 0x8fe000000ULL);
	vcfg_set_bar(&c, 0, 0x800000000ULL + 0x4000);
	ASSERT_EQ(rd(&c, nvme, 0x10, 4), 0x4004);
	ASSERT_EQ(rd(&c, nvme, 0x14, 4), 0x8);
	/* the chain as the device has it: MSI-X 0x40 -> PCIe 0x80 -> PM 0x60 */
	ASSERT_EQ(rd(&c, nvme, PCI_CAPABILITY_LIST, 1), 0x40);
	ASSERT_EQ(rd(&c, nvme, 0x40, 2), 0x8011);
	ASSERT_EQ(rd(&c, nvme, 0x80, 2), 0x6010);
	ASSERT_EQ(rd(&c, nvme, 0x60, 2), 0x0001);
	ASSERT_EQ(c.msix_cap, 0x40);
	ASSERT_EQ(c.exp_cap, 0x80);
	ASSERT_EQ(c.pm_cap, 0x60);
	ASSERT_EQ(c.nr_hidden, 0);
	/* the PCIe capability body is the device's */
	ASSERT_EQ(vcfg_phys_mask(&c, 0x84, 4), 0xffffffff);
	/* MSI-X: table in BAR0 at 0x2000, PBA at 0x3000, 65 vectors */
	ASSERT_EQ(rd(&c, nvme, 0x42, 2), 0x0040);
	ASSERT_EQ(rd(&c, nvme, 0x44, 4), 0x2000);
	ASSERT_EQ(rd(&c, nvme, 0x48, 4), 0x3000);
	ASSERT_EQ(vcfg_write(&c, 0x42, 2, 0xc0ff, &r), VCFG_ACT_MSIX);
	ASSERT_EQ(r.msix_ctrl, 0xc040); /* enable + function mask; size read-only */
	ASSERT_EQ(vcfg_write(&c, 0x44, 4, 0, &r), 0); /* table offset read-only */
	ASSERT_EQ(rd(&c, nvme, 0x44, 4), 0x2000);
}

TEST(e1000e_io_bar_rom_and_ext_caps)
{
	struct vcfg c;
	struct vcfg_write_result r;

	ASSERT_EQ(vcfg_init(&c, e1000e, VCFG_SIZE, e1000e_bars, 256 * KiB, true, false), 0);
	ASSERT_EQ(c.bars[2].type, VCFG_BAR_IO);
	ASSERT_EQ(rd(&c, e1000e, 0x18, 4), 0x1);
	vcfg_write(&c, 0x18, 4, 0xffffffff, &r);
	ASSERT_EQ(rd(&c, e1000e, 0x18, 4), 0xffffffe1);
	vcfg_set_bar(&c, 2, 0xc040);
	ASSERT_EQ(rd(&c, e1000e, 0x18, 4), 0xc041);
	ASSERT_EQ(vcfg_bar_addr(&c, 2), 0xc040);
	vcfg_set_cmd(&c, PCI_COMMAND_MEMORY);
	ASSERT_FALSE(vcfg_bar_enabled(&c, 2));
	vcfg_set_cmd(&c, PCI_COMMAND_IO);
	ASSERT_TRUE(vcfg_bar_enabled(&c, 2));
	/* ROM: sizing as Linux does it, then enable */
	ASSERT_EQ(vcfg_write(&c, PCI_ROM_ADDRESS, 4, 0xfffff800, &r), VCFG_ACT_BAR);
	ASSERT_EQ(r.bars_changed, 1u << VCFG_ROM_BAR);
	ASSERT_EQ(rd(&c, e1000e, PCI_ROM_ADDRESS, 4), 0xfffc0000);
	vcfg_write(&c, PCI_ROM_ADDRESS, 4, 0xc0040001, &r);
	ASSERT_EQ(vcfg_bar_addr(&c, VCFG_ROM_BAR), 0xc0040000);
	vcfg_set_cmd(&c, 0);
	ASSERT_FALSE(vcfg_bar_enabled(&c, VCFG_ROM_BAR));
	vcfg_set_cmd(&c, PCI_COMMAND_MEMORY);
	ASSERT_TRUE(vcfg_bar_enabled(&c, VCFG_ROM_BAR));
	/* PM 0xc8 -> MSI 0xd0 -> PCIe 0xe0 -> MSI-X 0xa0, all kept */
	ASSERT_EQ(rd(&c, e1000e, PCI_CAPABILITY_LIST, 1), 0xc8);
	ASSERT_EQ(rd(&c, e1000e, 0xc8, 2), 0xd001);
	ASSERT_EQ(rd(&c, e1000e, 0xd0, 2), 0xe005);
	ASSERT_EQ(rd(&c, e1000e, 0xe0, 2), 0xa010);
	ASSERT_EQ(rd(&c, e1000e, 0xa0, 2), 0x0011);
	ASSERT_EQ(c.msi_cap, 0xd0);
	ASSERT_EQ(c.msix_cap, 0xa0);
	/* extended: AER 0x100 -> DSN 0x140, both kept, headers emulated */
	ASSERT_EQ(rd(&c, e1000e, 0x100, 4), 0x14020001);
	ASSERT_EQ(rd(&c, e1000e, 0x140, 4), 0x00010003);
	ASSERT_EQ(vcfg_phys_mask(&c, 0x100, 4), 0);
	ASSERT_EQ(vcfg_phys_mask(&c, 0x104, 4), 0xffffffff);
}

TEST(capability_filtering)
{
	u8 dev[VCFG_SIZE];
	struct vcfg c;

	/* make e1000e's PM capability a VPD one and its AER an SR-IOV one */
	memcpy(dev, e1000e, VCFG_SIZE);
	dev[0xc8] = 0x03;
	dev[0x100] = 0x10;
	ASSERT_EQ(vcfg_init(&c, dev, VCFG_SIZE, e1000e_bars, 0, true, false), 0);
	ASSERT_EQ(rd(&c, dev, PCI_CAPABILITY_LIST, 1), 0xd0);
	ASSERT_EQ(c.pm_cap, 0);
	ASSERT_EQ(rd(&c, dev, 0xa0, 2), 0x0011);
	/* the list still starts at 0x100, with a null header pointing at DSN */
	ASSERT_EQ(rd(&c, dev, 0x100, 4), 0x14000000);
	ASSERT_EQ(rd(&c, dev, 0x140, 4), 0x00010003);
	ASSERT_EQ(c.nr_hidden, 2);
	ASSERT_EQ(c.hidden_ids[0], 0x03);
	ASSERT_EQ(c.hidden_ids[1], 0x90);

	/* DSN made ARI too: nothing left, the header at 0x100 reads 0 */
	dev[0x140] = 0x0e;
	ASSERT_EQ(vcfg_init(&c, dev, VCFG_SIZE, e1000e_bars, 0, true, false), 0);
	ASSERT_EQ(rd(&c, dev, 0x100, 4), 0);

	/* a middle capability hidden: 0x100 kept, points past the hidden one */
	memcpy(dev, e1000e, VCFG_SIZE);
	dev[0x140] = 0x15; /* resizable BAR */
	ASSERT_EQ(vcfg_init(&c, dev, VCFG_SIZE, e1000e_bars, 0, true, false), 0);
	ASSERT_EQ(rd(&c, dev, 0x100, 4), 0x00020001);

	/* every standard capability hidden: no list, status bit clear */
	memcpy(dev, edu, 256);
	dev[0x40] = 0x07; /* PCI-X */
	ASSERT_EQ(vcfg_init(&c, dev, 256, edu_bars, 0, true, false), 0);
	ASSERT_EQ(rd(&c, dev, PCI_CAPABILITY_LIST, 1), 0);
	ASSERT_EQ(vcfg_read(&c, PCI_STATUS, 2, 0x0010), 0);

	/* a looping list ends */
	memcpy(dev, edu, 256);
	dev[0x41] = 0x40;
	ASSERT_EQ(vcfg_init(&c, dev, 256, edu_bars, 0, true, false), 0);
	ASSERT_EQ(c.msi_cap, 0x40);
}

TEST(no_intx_multifunction_and_bad_headers)
{
	u8 dev[VCFG_SIZE];
	u64 bad[6] = { 16 * KiB, 0, 0, 0, 0, 0 };
	struct vcfg c;

	ASSERT_EQ(vcfg_init(&c, edu, 256, edu_bars, 0, false, true), 0);
	ASSERT_EQ(rd(&c, edu, PCI_INTERRUPT_PIN, 1), 0);
	ASSERT_EQ(rd(&c, edu, PCI_HEADER_TYPE, 1), 0x80);
	/* a bridge header is refused */
	memcpy(dev, edu, 256);
	dev[PCI_HEADER_TYPE] = 1;
	ASSERT_EQ(vcfg_init(&c, dev, 256, edu_bars, 0, true, false), -EINVAL);
	/* a 64-bit BAR in the last slot is refused */
	memcpy(dev, edu, 256);
	dev[0x24] = 0x04;
	bad[5] = 16 * KiB;
	ASSERT_EQ(vcfg_init(&c, dev, 256, bad, 0, true, false), -EINVAL);
	/* a ROM size that is not a power of two */
	ASSERT_EQ(vcfg_init(&c, edu, 256, edu_bars, 3000, true, false), -EINVAL);
}

TEST(reset_restores_setup_state)
{
	struct vcfg c;
	struct vcfg_write_result r;
	u64 addrs[7] = { 0xc0000000 };

	ASSERT_EQ(vcfg_init(&c, edu, 256, edu_bars, 0, true, false), 0);
	vcfg_set_bar(&c, 0, addrs[0]);
	vcfg_write(&c, 0x10, 4, 0xffffffff, &r);
	vcfg_write(&c, 0x44, 4, 0xfee00000, &r);
	vcfg_write(&c, 0x42, 2, 0x0001, &r);
	vcfg_reset(&c, addrs, PCI_COMMAND_MEMORY);
	ASSERT_EQ(rd(&c, edu, 0x10, 4), 0xc0000000);
	ASSERT_EQ(rd(&c, edu, 0x42, 2), 0x0080);
	ASSERT_EQ(rd(&c, edu, 0x44, 4), 0);
	ASSERT_TRUE(vcfg_bar_enabled(&c, 0));
}

int main(void)
{
	load(edu, edu_rows, ARRAY_SIZE(edu_rows));
	load(nvme, nvme_rows, ARRAY_SIZE(nvme_rows));
	load(e1000e, e1000e_rows, ARRAY_SIZE(e1000e_rows));
	RUN(edu_identity_and_readonly);
	RUN(edu_bar_sizing);
	RUN(edu_command_and_decode);
	RUN(edu_msi_capability);
	RUN(nvme_bar64_and_caps);
	RUN(e1000e_io_bar_rom_and_ext_caps);
	RUN(capability_filtering);
	RUN(no_intx_multifunction_and_bad_headers);
	RUN(reset_restores_setup_state);
	return test_done();
}
