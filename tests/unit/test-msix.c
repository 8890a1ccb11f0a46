/*
 * MSI and MSI-X emulation: table and PBA accesses, masking and enable
 * actions, MSI multi-vector messages. Layouts from QEMU's nvme (65 vectors,
 * table at BAR0+0x2000, PBA at BAR0+0x3000) and e1000e (5 vectors in BAR3).
 */
#include <errno.h>

#include "passthrough/msix.h"
#include "tests/unit/harness.h"

TEST(nvme_layout)
{
	struct msix m;

	ASSERT_EQ(msix_init(&m, 0x40, 0x0040, 0x00002000, 0x00003000), 0);
	ASSERT_EQ(m.nr, 65);
	ASSERT_EQ(m.table_bar, 0);
	ASSERT_EQ(m.table_off, 0x2000);
	ASSERT_EQ(m.pba_bar, 0);
	ASSERT_EQ(m.pba_off, 0x3000);
	ASSERT_EQ(msix_table_size(&m), 65 * 16);
	ASSERT_EQ(msix_pba_size(&m), 16);
	/* power-on: every vector masked, MSI-X off */
	ASSERT_EQ(msix_table_read(&m, 12, 4), 1);
	ASSERT_EQ(msix_table_read(&m, 64 * 16 + 12, 4), 1);
	ASSERT_TRUE(msix_vector_masked(&m, 0));
	msix_free(&m);

	/* e1000e: BIR 3 in both dwords */
	ASSERT_EQ(msix_init(&m, 0xa0, 0x0004, 0x00000003, 0x00002003), 0);
	ASSERT_EQ(m.nr, 5);
	ASSERT_EQ(m.table_bar, 3);
	ASSERT_EQ(m.pba_off, 0x2000);
	msix_free(&m);
}

TEST(bad_layouts)
{
	struct msix m;

	/* table and PBA overlapping in one BAR */
	ASSERT_EQ(msix_init(&m, 0x40, 0x0040, 0x2000, 0x2100), -EINVAL);
	/* BIR 6 and 7 are reserved */
	ASSERT_EQ(msix_init(&m, 0x40, 0x0001, 0x6, 0x1000), -EINVAL);
	/* same offsets in different BARs are fine */
	ASSERT_EQ(msix_init(&m, 0x40, 0x0001, 0x2000, 0x2001), 0);
	msix_free(&m);
}

TEST(enable_and_function_mask)
{
	struct msix m;

	ASSERT_EQ(msix_init(&m, 0x40, 0x0040, 0x2000, 0x3000), 0);
	/* Linux enables with the function masked, then clears the mask */
	ASSERT_EQ(msix_ctrl_write(&m, MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK),
		  MSIX_ACT_ENABLE | MSIX_ACT_MASKS);
	ASSERT_EQ(msix_ctrl_write(&m, MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK), 0);
	ASSERT_EQ(msix_ctrl_write(&m, MSIX_CTRL_ENABLE), MSIX_ACT_MASKS);
	/* vectors stay masked by their own bits */
	ASSERT_TRUE(msix_vector_masked(&m, 3));
	ASSERT_EQ(msix_ctrl_write(&m, 0), MSIX_ACT_DISABLE | MSIX_ACT_MASKS);
	/* function mask toggled while disabled: nothing to do */
	ASSERT_EQ(msix_ctrl_write(&m, MSIX_CTRL_FMASK), 0);
	msix_free(&m);
}

TEST(table_writes)
{
	struct msix m;
	u64 addr;
	u32 data;
	int vec = -1;

	ASSERT_EQ(msix_init(&m, 0x40, 0x0040, 0x2000, 0x3000), 0);
	msix_ctrl_write(&m, MSIX_CTRL_ENABLE);
	/* program vector 3 dword by dword, then unmask it */
	ASSERT_EQ(msix_table_write(&m, 3 * 16 + 0, 4, 0xfee01000, &vec), MSIX_ACT_ROUTE);
	ASSERT_EQ(vec, 3);
	ASSERT_EQ(msix_table_write(&m, 3 * 16 + 4, 4, 0, &vec), 0); /* unchanged */
	ASSERT_EQ(msix_table_write(&m, 3 * 16 + 8, 4, 0x4023, &vec), MSIX_ACT_ROUTE);
	ASSERT_TRUE(msix_vector_masked(&m, 3));
	ASSERT_EQ(msix_table_write(&m, 3 * 16 + 12, 4, 0, &vec), MSIX_ACT_VMASK);
	ASSERT_FALSE(msix_vector_masked(&m, 3));
	msix_vector_msg(&m, 3, &addr, &data);
	ASSERT_EQ(addr, 0xfee01000);
	ASSERT_EQ(data, 0x4023);
	ASSERT_EQ(msix_table_read(&m, 3 * 16, 8), 0xfee01000);
	ASSERT_EQ(msix_table_read(&m, 3 * 16 + 8, 8), 0x4023);
	/* reserved bits of vector control are read-only */
	ASSERT_EQ(msix_table_write(&m, 3 * 16 + 12, 4, 0xfffffffe, &vec), 0);
	ASSERT_EQ(msix_table_read(&m, 3 * 16 + 12, 4), 0);
	/* function mask masks it without touching its bit */
	msix_ctrl_write(&m, MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
	ASSERT_TRUE(msix_vector_masked(&m, 3));
	msix_ctrl_write(&m, MSIX_CTRL_ENABLE);
	ASSERT_FALSE(msix_vector_masked(&m, 3));
	/* a qword write of the address, and a byte write of the data */
	ASSERT_EQ(msix_table_write(&m, 64 * 16, 8, 0x00000001fee02000ULL, &vec), MSIX_ACT_ROUTE);
	ASSERT_EQ(vec, 64);
	ASSERT_EQ(msix_table_write(&m, 64 * 16 + 9, 1, 0x41, &vec), MSIX_ACT_ROUTE);
	msix_vector_msg(&m, 64, &addr, &data);
	ASSERT_EQ(addr, 0x1fee02000ULL);
	ASSERT_EQ(data, 0x4100);
	/* re-masking */
	ASSERT_EQ(msix_table_write(&m, 3 * 16 + 12, 4, 1, &vec), MSIX_ACT_VMASK);
	ASSERT_TRUE(msix_vector_masked(&m, 3));
	/* past the table, or straddling entries: ignored */
	ASSERT_EQ(msix_table_write(&m, 65 * 16, 4, 0x1234, &vec), 0);
	ASSERT_EQ(msix_table_write(&m, 3 * 16 + 12, 8, 0, &vec), 0);
	ASSERT_EQ(msix_table_read(&m, 65 * 16, 4), 0);
	/* reset masks everything again */
	msix_reset(&m);
	ASSERT_FALSE(m.enabled);
	ASSERT_EQ(msix_table_read(&m, 64 * 16, 4), 0);
	ASSERT_EQ(msix_table_read(&m, 64 * 16 + 12, 4), 1);
	msix_free(&m);
}

TEST(pba)
{
	struct msix m;

	ASSERT_EQ(msix_init(&m, 0x40, 0x0040, 0x2000, 0x3000), 0);
	ASSERT_EQ(msix_pba_read(&m, 0, 8), 0);
	msix_set_pending(&m, 0, true);
	msix_set_pending(&m, 9, true);
	msix_set_pending(&m, 64, true);
	msix_set_pending(&m, 65, true); /* beyond the table: ignored */
	ASSERT_EQ(msix_pba_read(&m, 0, 8), 0x201);
	ASSERT_EQ(msix_pba_read(&m, 1, 1), 0x02);
	ASSERT_EQ(msix_pba_read(&m, 8, 8), 1);
	ASSERT_EQ(msix_pba_read(&m, 8, 4), 1);
	ASSERT_EQ(msix_pba_read(&m, 16, 4), 0); /* past the PBA */
	msix_set_pending(&m, 9, false);
	ASSERT_EQ(msix_pba_read(&m, 0, 4), 1);
	msix_free(&m);
}

/* Fill the MSI capability bytes the way vcfg keeps them. */
static void msi_cfg(u8 *cfg, u16 cap, u16 ctrl, u64 addr, u16 data, u32 mask)
{
	int d = msi_data_off(0x0180), mo = msi_mask_off(0x0180);

	cfg[cap] = 0x05;
	cfg[cap + 2] = ctrl;
	cfg[cap + 3] = ctrl >> 8;
	for (int i = 0; i < 8; i++)
		cfg[cap + 4 + i] = addr >> (8 * i);
	cfg[cap + d] = data;
	cfg[cap + d + 1] = data >> 8;
	for (int i = 0; i < 4; i++)
		cfg[cap + mo + i] = mask >> (8 * i);
}

TEST(msi_layout)
{
	ASSERT_EQ(msi_cap_len(0x0000), 10);
	ASSERT_EQ(msi_cap_len(0x0080), 14);
	ASSERT_EQ(msi_cap_len(0x0100), 20);
	ASSERT_EQ(msi_cap_len(0x0180), 24);
	ASSERT_EQ(msi_data_off(0x0000), 8);
	ASSERT_EQ(msi_data_off(0x0080), 12);
	ASSERT_EQ(msi_mask_off(0x0100), 12);
	ASSERT_EQ(msi_mask_off(0x0180), 16);
	ASSERT_EQ(msi_mask_off(0x0080), 0);
}

TEST(msi_multi_vector)
{
	/* 64-bit, maskable, 8 vectors capable (MMC = 3) */
	const u16 caps = 0x0180 | (3 << MSI_CTRL_MMC_SHIFT);
	u8 cfg[256] = { 0 };
	struct msi m;
	u64 addr;
	u32 data;

	msi_init(&m, 0x50, caps);
	ASSERT_EQ(m.max_vecs, 8);
	ASSERT_TRUE(msi_vector_masked(&m, 0));
	msi_cfg(cfg, 0x50, caps, 0xfee00000, 0x4020, 0);
	ASSERT_EQ(msi_update(&m, cfg), 0);
	/* enable 4 vectors */
	msi_cfg(cfg, 0x50, caps | 1 | (2 << MSI_CTRL_MME_SHIFT), 0xfee00000, 0x4020, 0);
	ASSERT_EQ(msi_update(&m, cfg), MSI_ACT_ENABLE);
	ASSERT_EQ(m.nvec, 4);
	msi_vector_msg(&m, 3, &addr, &data);
	ASSERT_EQ(addr, 0xfee00000);
	ASSERT_EQ(data, 0x4023);
	/* mask vector 1 */
	msi_cfg(cfg, 0x50, caps | 1 | (2 << MSI_CTRL_MME_SHIFT), 0xfee00000, 0x4020, 2);
	ASSERT_EQ(msi_update(&m, cfg), MSI_ACT_MASK);
	ASSERT_TRUE(msi_vector_masked(&m, 1));
	ASSERT_FALSE(msi_vector_masked(&m, 2));
	ASSERT_TRUE(msi_vector_masked(&m, 5)); /* beyond nvec */
	/* retarget: route update */
	msi_cfg(cfg, 0x50, caps | 1 | (2 << MSI_CTRL_MME_SHIFT), 0xfee01000, 0x4020, 2);
	ASSERT_EQ(msi_update(&m, cfg), MSI_ACT_ROUTE);
	/* more vectors than capable: clamped to 8, and the guest sees MME = 3 */
	msi_cfg(cfg, 0x50, caps | 1 | (5 << MSI_CTRL_MME_SHIFT), 0xfee01000, 0x4020, 2);
	ASSERT_EQ(msi_update(&m, cfg), MSI_ACT_DISABLE | MSI_ACT_ENABLE);
	ASSERT_EQ(m.nvec, 8);
	ASSERT_EQ((cfg[0x52] >> MSI_CTRL_MME_SHIFT) & 7, 3);
	/* off */
	msi_cfg(cfg, 0x50, caps, 0xfee01000, 0x4020, 2);
	ASSERT_EQ(msi_update(&m, cfg), MSI_ACT_DISABLE);
	ASSERT_TRUE(msi_vector_masked(&m, 0));
}

int main(void)
{
	RUN(nvme_layout);
	RUN(bad_layouts);
	RUN(enable_and_function_mask);
	RUN(table_writes);
	RUN(pba);
	RUN(msi_layout);
	RUN(msi_multi_vector);
	return test_done();
}
