/* bzImage checks and direct-boot loading, on synthetic images in memory. */
#include <asm/bootparam.h>
#include <errno.h>
#include <unistd.h>

#include "firmware/bzimage.h"
#include "firmware/e820.h"
#include "tests/unit/harness.h"

#define SECTS 4
#define PM_OFF ((SECTS + 1) * 512)
#define PM_SIZE (64 * KiB)
#define RAM_SIZE (64 * MiB)

/* Little-endian stores into the synthetic image. */
static void wr16(u8 *p, u16 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}

/* See wr16. */
static void wr32(u8 *p, u32 v)
{
	wr16(p, (u16)v);
	wr16(p + 2, (u16)(v >> 16));
}

/* See wr16. */
static void wr64(u8 *p, u64 v)
{
	wr32(p, (u32)v);
	wr32(p + 4, (u32)(v >> 32));
}

/* A bzImage like a 6.x x86_64 kernel: protocol 2.15, relocatable, 2 MiB
 * aligned, 16 MiB preferred address, init_size 32 MiB. */
static u8 *make_image(size_t *len)
{
	u8 *b = calloc(1, PM_OFF + PM_SIZE);

	b[0x1f1] = SECTS;
	wr32(b + 0x1f4, PM_SIZE / 16);       /* syssize */
	wr16(b + 0x1fc, 0x0801);             /* root_dev: a header field copied verbatim */
	wr16(b + 0x1fe, 0xAA55);
	b[0x200] = 0xeb;
	b[0x201] = 0x6a;                     /* header ends at 0x26c */
	memcpy(b + 0x202, "HdrS", 4);
	wr16(b + 0x206, 0x020f);
	b[0x211] = LOADED_HIGH;
	wr32(b + 0x22c, 0x7fffffff);         /* initrd_addr_max */
	wr32(b + 0x230, 0x200000);           /* kernel_alignment */
	b[0x234] = 1;                        /* relocatable */
	wr16(b + 0x236, XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G);
	wr32(b + 0x238, 2047);               /* cmdline_size */
	wr64(b + 0x258, 16 * MiB);           /* pref_address */
	wr32(b + 0x260, 32 * MiB);           /* init_size */
	wr32(b + 0x268, 0x1234);             /* kernel_info_offset */
	memset(b + 0x26c, 0xcc, 0x290 - 0x26c); /* past the header: must not be copied */
	for (size_t i = 0; i < PM_SIZE; i++)
		b[PM_OFF + i] = (u8)(i * 7 + 3);
	*len = PM_OFF + PM_SIZE;
	return b;
}

struct guest {
	struct mem_map mem;
	struct layout l;
	u8 *ram;
};

/* One RAM region at 0 covering low RAM, no listeners. */
static void guest_init(struct guest *g, u64 ram_size)
{
	struct mem_region r = { .name = "ram", .kind = MEM_RAM, .slot = -1 };

	layout_compute(&g->l, ram_size, 40, 0);
	g->ram = calloc(1, g->l.low_ram_size);
	r.hva = g->ram;
	r.size = g->l.low_ram_size;
	mem_init(&g->mem);
	mem_add(&g->mem, &r);
}

/* Release what guest_init() allocated. */
static void guest_free(struct guest *g)
{
	free(g->ram);
}

/* The zero page as the loader wrote it into guest RAM. */
static struct boot_params *zero_page(struct guest *g)
{
	return (struct boot_params *)(g->ram + LAYOUT_BOOT_PARAMS);
}

TEST(good_image_no_initrd)
{
	struct guest g;
	struct bzimage_boot out;
	struct boot_params *bp;
	struct e820_entry map[16];
	char err[256] = "";
	size_t len;
	u8 *img = make_image(&len);
	int n;

	guest_init(&g, RAM_SIZE);
	ASSERT_EQ(bzimage_check(img, len, err, sizeof(err)), 0);
	ASSERT_EQ(bzimage_load(&g.mem, &g.l, img, len, NULL, 0, "console=ttyS0", 0xe0000,
			       &out, err, sizeof(err)), 0);
	ASSERT_EQ(out.entry64, LAYOUT_KERNEL_BASE + 0x200);
	ASSERT_EQ(out.boot_params, LAYOUT_BOOT_PARAMS);
	ASSERT_EQ(out.cmdline, LAYOUT_BOOT_CMDLINE);
	ASSERT_EQ(out.kernel_load, LAYOUT_KERNEL_BASE);
	ASSERT_EQ(out.kernel_size, PM_SIZE);
	ASSERT_EQ(out.kernel_end, 48 * MiB); /* pref_address + init_size */
	ASSERT_EQ(out.initrd, 0);
	ASSERT_EQ(out.initrd_size, 0);
	ASSERT_EQ(out.protocol, 0x020f);
	/* the protected-mode kernel, byte for byte */
	ASSERT_EQ(memcmp(g.ram + LAYOUT_KERNEL_BASE, img + PM_OFF, PM_SIZE), 0);
	ASSERT_STR_EQ((char *)g.ram + LAYOUT_BOOT_CMDLINE, "console=ttyS0");

	bp = zero_page(&g);
	ASSERT_EQ(bp->hdr.root_dev, 0x0801);
	ASSERT_EQ(bp->hdr.header, 0x53726448);
	ASSERT_EQ(bp->hdr.init_size, 32 * MiB);
	ASSERT_EQ(bp->hdr.kernel_info_offset, 0x1234);
	ASSERT_EQ(((u8 *)bp)[0x26c], 0);     /* the header stops where 0x201 says */
	ASSERT_EQ(bp->hdr.type_of_loader, 0xff);
	ASSERT_EQ(bp->hdr.loadflags, LOADED_HIGH | CAN_USE_HEAP);
	ASSERT_NE(bp->hdr.heap_end_ptr, 0);
	ASSERT_EQ(bp->hdr.vid_mode, 0xffff);
	ASSERT_EQ(bp->hdr.cmd_line_ptr, LAYOUT_BOOT_CMDLINE);
	ASSERT_EQ(bp->hdr.ramdisk_image, 0);
	ASSERT_EQ(bp->hdr.ramdisk_size, 0);
	ASSERT_EQ(bp->acpi_rsdp_addr, 0xe0000);

	n = e820_build(&g.l, map, 16);
	ASSERT_EQ(bp->e820_entries, n);
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(bp->e820_table[i].addr, map[i].addr);
		ASSERT_EQ(bp->e820_table[i].size, map[i].size);
		ASSERT_EQ(bp->e820_table[i].type, map[i].type);
	}
	guest_free(&g);
	free(img);
}

TEST(shorter_header_copied_to_its_end)
{
	struct guest g;
	struct bzimage_boot out;
	char err[256];
	size_t len;
	u8 *img = make_image(&len);

	img[0x201] = 0x66; /* a 2.12-era header ends at 0x268 */
	guest_init(&g, RAM_SIZE);
	ASSERT_EQ(bzimage_load(&g.mem, &g.l, img, len, NULL, 0, NULL, 0, &out, err, sizeof(err)), 0);
	ASSERT_EQ(zero_page(&g)->hdr.init_size, 32 * MiB);
	ASSERT_EQ(zero_page(&g)->hdr.kernel_info_offset, 0);
	ASSERT_STR_EQ((char *)g.ram + LAYOUT_BOOT_CMDLINE, "");
	guest_free(&g);
	free(img);
}

TEST(not_a_bzimage)
{
	char err[256] = "";
	u8 junk[4096] = { 1, 2, 3 };
	size_t len;
	u8 *img = make_image(&len);

	ASSERT_EQ(bzimage_check(junk, sizeof(junk), err, sizeof(err)), -ENOEXEC);
	ASSERT_STR_EQ(err, "KERNEL is not a Linux bzImage (no HdrS header): "
		      "give a bzImage such as /boot/vmlinuz-*");
	err[0] = 0;
	ASSERT_EQ(bzimage_check(junk, 16, err, sizeof(err)), -ENOEXEC);
	ASSERT_STR_CONTAINS(err, "no HdrS header");
	memcpy(junk, "\x7f" "ELF", 4);
	ASSERT_EQ(bzimage_check(junk, sizeof(junk), err, sizeof(err)), -ENOEXEC);
	ASSERT_STR_CONTAINS(err, "ELF vmlinux, not a bzImage");
	img[0x1fe] = 0;
	ASSERT_EQ(bzimage_check(img, len, err, sizeof(err)), -ENOEXEC);
	ASSERT_STR_CONTAINS(err, "bad boot flag 0xaa00");
	free(img);
}

TEST(old_protocols_rejected)
{
	char err[256] = "";
	size_t len;
	u8 *img = make_image(&len);

	wr16(img + 0x206, 0x0206);
	ASSERT_EQ(bzimage_check(img, len, err, sizeof(err)), -ENOEXEC);
	ASSERT_STR_CONTAINS(err, "boot protocol 2.06, too old");
	wr16(img + 0x206, 0x020b);
	ASSERT_EQ(bzimage_check(img, len, err, sizeof(err)), -ENOEXEC);
	ASSERT_STR_CONTAINS(err, "2.11");
	wr16(img + 0x206, 0x020c);
	ASSERT_EQ(bzimage_check(img, len, err, sizeof(err)), 0);
	free(img);
}

TEST(needs_bzimage_and_64bit_entry)
{
	char err[256] = "";
	size_t len;
	u8 *img = make_image(&len);

	img[0x211] = 0;
	ASSERT_EQ(bzimage_check(img, len, err, sizeof(err)), -ENOEXEC);
	ASSERT_STR_CONTAINS(err, "zImage");
	img[0x211] = LOADED_HIGH;
	wr16(img + 0x236, 0);
	ASSERT_EQ(bzimage_check(img, len, err, sizeof(err)), -ENOEXEC);
	ASSERT_STR_CONTAINS(err, "no 64-bit entry point");
	free(img);
}

TEST(truncated_image)
{
	char err[256] = "";
	size_t len;
	u8 *img = make_image(&len), *short_img;

	/* the header promises PM_SIZE bytes of kernel */
	ASSERT_EQ(bzimage_check(img, len - 16, err, sizeof(err)), -ENOEXEC);
	ASSERT_STR_CONTAINS(err, "truncated");
	ASSERT_EQ(bzimage_check(img, 0x300, err, sizeof(err)), -ENOEXEC);
	ASSERT_STR_CONTAINS(err, "truncated");
	/* just past the magic: nothing after it may be read (ASan checks) */
	short_img = malloc(0x207);
	memcpy(short_img, img, 0x207);
	ASSERT_EQ(bzimage_check(short_img, 0x207, err, sizeof(err)), -ENOEXEC);
	ASSERT_STR_CONTAINS(err, "shorter than its setup header");
	free(short_img);
	free(img);
}

TEST(damaged_alignment_or_address)
{
	struct guest g;
	struct bzimage_boot out;
	char err[256] = "";
	size_t len;
	u8 *img = make_image(&len);

	guest_init(&g, RAM_SIZE);
	wr32(img + 0x230, 0x300000); /* not a power of two */
	ASSERT_EQ(bzimage_load(&g.mem, &g.l, img, len, NULL, 0, "", 0, &out, err, sizeof(err)),
		  -ENOEXEC);
	ASSERT_STR_CONTAINS(err, "bad kernel_alignment (0x300000)");
	wr32(img + 0x230, 0x200000);
	wr64(img + 0x258, ~0ULL);    /* start + init_size would wrap */
	ASSERT_EQ(bzimage_load(&g.mem, &g.l, img, len, NULL, 0, "", 0, &out, err, sizeof(err)),
		  -ENOEXEC);
	ASSERT_STR_CONTAINS(err, "pref_address (0xffffffffffffffff)");
	/* a kernel that is not relocatable runs at pref_address */
	img[0x234] = 0;
	wr64(img + 0x258, 8 * MiB);
	ASSERT_EQ(bzimage_load(&g.mem, &g.l, img, len, NULL, 0, "", 0, &out, err, sizeof(err)), 0);
	ASSERT_EQ(out.kernel_end, 8 * MiB + 32 * MiB);
	guest_free(&g);
	free(img);
}

TEST(kernel_too_big_for_ram)
{
	struct guest g;
	struct bzimage_boot out;
	char err[256] = "";
	size_t len;
	u8 *img = make_image(&len);
	static const u8 zeros[4096];

	wr32(img + 0x260, 60 * MiB); /* 16 MiB + 60 MiB > 64 MiB */
	guest_init(&g, RAM_SIZE);
	ASSERT_EQ(bzimage_load(&g.mem, &g.l, img, len, NULL, 0, "x", 0, &out, err, sizeof(err)),
		  -ENOMEM);
	ASSERT_STR_CONTAINS(err, "KERNEL needs 76 MiB");
	ASSERT_STR_CONTAINS(err, "give --memory 76M or more");
	/* nothing was written before the check failed */
	ASSERT_EQ(memcmp(g.ram + LAYOUT_BOOT_PARAMS, zeros, sizeof(zeros)), 0);
	ASSERT_EQ(memcmp(g.ram + LAYOUT_KERNEL_BASE, zeros, sizeof(zeros)), 0);
	guest_free(&g);
	free(img);
}

TEST(initrd_at_top_of_low_ram)
{
	struct guest g;
	struct bzimage_boot out;
	char err[256] = "";
	size_t len, ilen = 1 * MiB + 100;
	u8 *img = make_image(&len), *rd = malloc(ilen);

	for (size_t i = 0; i < ilen; i++)
		rd[i] = (u8)(i * 13);
	guest_init(&g, RAM_SIZE);
	ASSERT_EQ(bzimage_load(&g.mem, &g.l, img, len, rd, ilen, "", 0, &out, err, sizeof(err)), 0);
	ASSERT_EQ(out.initrd, RAM_SIZE - 1 * MiB - 4096);
	ASSERT_EQ(out.initrd_size, ilen);
	ASSERT_EQ(memcmp(g.ram + out.initrd, rd, ilen), 0);
	ASSERT_EQ(zero_page(&g)->hdr.ramdisk_image, out.initrd);
	ASSERT_EQ(zero_page(&g)->hdr.ramdisk_size, ilen);
	ASSERT_EQ(zero_page(&g)->ext_ramdisk_image, 0);
	ASSERT_EQ(zero_page(&g)->ext_ramdisk_size, 0);
	guest_free(&g);
	free(img);
	free(rd);
}

TEST(initrd_below_initrd_addr_max)
{
	struct guest g;
	struct bzimage_boot out;
	char err[256] = "";
	size_t len, ilen = 1 * MiB + 100;
	u8 *img = make_image(&len), *rd = calloc(1, ilen);

	wr32(img + 0x260, 16 * MiB);         /* kernel needs up to 32 MiB */
	wr32(img + 0x22c, 56 * MiB - 1);     /* highest byte the initrd may use */
	guest_init(&g, RAM_SIZE);
	ASSERT_EQ(bzimage_load(&g.mem, &g.l, img, len, rd, ilen, "", 0, &out, err, sizeof(err)), 0);
	ASSERT_EQ(out.kernel_end, 32 * MiB);
	ASSERT_TRUE(IS_ALIGNED(out.initrd, 4096));
	ASSERT_TRUE(out.initrd + ilen <= 56 * MiB);
	ASSERT_EQ(out.initrd, 56 * MiB - 1 * MiB - 4096);
	ASSERT_TRUE(out.initrd >= out.kernel_end);
	guest_free(&g);
	free(img);
	free(rd);
}

TEST(initrd_does_not_fit)
{
	struct guest g;
	struct bzimage_boot out;
	char err[256] = "";
	size_t len, ilen = 20 * MiB;
	u8 *img = make_image(&len), *rd = calloc(1, ilen);

	guest_init(&g, RAM_SIZE);
	/* the kernel needs up to 48 MiB, 20 MiB more do not fit in 64 MiB */
	ASSERT_EQ(bzimage_load(&g.mem, &g.l, img, len, rd, ilen, "", 0, &out, err, sizeof(err)),
		  -ENOMEM);
	ASSERT_STR_CONTAINS(err, "INITRD (20 MiB) does not fit");
	ASSERT_STR_CONTAINS(err, "--memory 68M");
	/* initrd_addr_max below the kernel's end is as bad as too little RAM */
	wr32(img + 0x22c, 40 * MiB - 1);
	ASSERT_EQ(bzimage_load(&g.mem, &g.l, img, len, rd, 1 * MiB, "", 0, &out, err, sizeof(err)),
		  -ENOMEM);
	ASSERT_STR_CONTAINS(err, "INITRD (1 MiB) does not fit between the end of KERNEL (48 MiB) "
			    "and its initrd limit (40 MiB): use a smaller initrd");
	guest_free(&g);
	free(img);
	free(rd);
}

TEST(cmdline_too_long)
{
	struct guest g;
	struct bzimage_boot out;
	char err[256] = "", line[300];
	size_t len;
	u8 *img = make_image(&len);

	wr32(img + 0x238, 255);
	memset(line, 'a', sizeof(line));
	line[256] = 0;
	guest_init(&g, RAM_SIZE);
	ASSERT_EQ(bzimage_load(&g.mem, &g.l, img, len, NULL, 0, line, 0, &out, err, sizeof(err)),
		  -E2BIG);
	ASSERT_STR_CONTAINS(err, "--cmdline is 256 bytes, but KERNEL accepts at most 255");
	line[255] = 0;
	ASSERT_EQ(bzimage_load(&g.mem, &g.l, img, len, NULL, 0, line, 0, &out, err, sizeof(err)), 0);
	ASSERT_EQ(strlen((char *)g.ram + LAYOUT_BOOT_CMDLINE), 255);
	guest_free(&g);
	free(img);
}

TEST(rsdp_only_for_new_protocols)
{
	struct guest g;
	struct bzimage_boot out;
	char err[256] = "";
	size_t len;
	u8 *img = make_image(&len);

	wr16(img + 0x206, 0x020d);
	guest_init(&g, RAM_SIZE);
	ASSERT_EQ(bzimage_load(&g.mem, &g.l, img, len, NULL, 0, "", 0xe0000, &out, err, sizeof(err)), 0);
	ASSERT_EQ(zero_page(&g)->acpi_rsdp_addr, 0);
	ASSERT_EQ(out.protocol, 0x020d);
	guest_free(&g);
	free(img);
}

TEST(missing_guest_ram)
{
	struct mem_map m;
	struct layout l;
	struct bzimage_boot out;
	char err[256] = "";
	size_t len;
	u8 *img = make_image(&len);

	mem_init(&m);
	layout_compute(&l, RAM_SIZE, 40, 0);
	ASSERT_EQ(bzimage_load(&m, &l, img, len, NULL, 0, "", 0, &out, err, sizeof(err)), -EFAULT);
	ASSERT_STR_CONTAINS(err, "guest RAM");
	free(img);
}

/* Write len bytes to a new temporary file; its path goes to path[64]. */
static int write_tmp(char path[64], const void *data, size_t len)
{
	int fd;

	strcpy(path, "/tmp/ptvm-test-bzimage-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (len && write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

TEST(load_files)
{
	struct guest g;
	struct bzimage_boot out;
	char err[512] = "", kpath[64], ipath[64], bad[64], empty[64];
	size_t len;
	u8 *img = make_image(&len);
	static const char rd[] = "initrd contents";

	guest_init(&g, RAM_SIZE);
	ASSERT_EQ(write_tmp(kpath, img, len), 0);
	ASSERT_EQ(write_tmp(ipath, rd, sizeof(rd)), 0);
	ASSERT_EQ(write_tmp(bad, rd, sizeof(rd)), 0);
	ASSERT_EQ(write_tmp(empty, rd, 0), 0);

	ASSERT_EQ(bzimage_load_files(&g.mem, &g.l, kpath, ipath, "quiet", 0, &out, err, sizeof(err)), 0);
	ASSERT_EQ(memcmp(g.ram + LAYOUT_KERNEL_BASE, img + PM_OFF, PM_SIZE), 0);
	ASSERT_EQ(out.initrd_size, sizeof(rd));
	ASSERT_STR_EQ((char *)g.ram + out.initrd, rd);
	ASSERT_EQ(bzimage_load_files(&g.mem, &g.l, kpath, NULL, "", 0, &out, err, sizeof(err)), 0);
	ASSERT_EQ(out.initrd, 0);

	ASSERT_EQ(bzimage_load_files(&g.mem, &g.l, "/nonexistent/vmlinuz", NULL, "", 0, &out,
				     err, sizeof(err)), -ENOENT);
	ASSERT_STR_EQ(err, "--kernel /nonexistent/vmlinuz: No such file or directory: check the path");
	ASSERT_EQ(bzimage_load_files(&g.mem, &g.l, kpath, "/nonexistent/initrd", "", 0, &out,
				     err, sizeof(err)), -ENOENT);
	ASSERT_STR_CONTAINS(err, "--initrd /nonexistent/initrd: No such file or directory");
	ASSERT_EQ(bzimage_load_files(&g.mem, &g.l, "/tmp", NULL, "", 0, &out, err, sizeof(err)), -EINVAL);
	ASSERT_STR_CONTAINS(err, "--kernel /tmp: not a regular file");
	ASSERT_EQ(bzimage_load_files(&g.mem, &g.l, kpath, empty, "", 0, &out, err, sizeof(err)), -EINVAL);
	ASSERT_STR_CONTAINS(err, "the file is empty");
	/* messages about the image name the file */
	ASSERT_EQ(bzimage_load_files(&g.mem, &g.l, bad, NULL, "", 0, &out, err, sizeof(err)), -ENOEXEC);
	ASSERT_TRUE(!strncmp(err, bad, strlen(bad)));
	ASSERT_STR_CONTAINS(err, "is not a Linux bzImage (no HdrS header)");

	unlink(kpath);
	unlink(ipath);
	unlink(bad);
	unlink(empty);
	guest_free(&g);
	free(img);
}

int main(void)
{
	RUN(good_image_no_initrd);
	RUN(shorter_header_copied_to_its_end);
	RUN(not_a_bzimage);
	RUN(old_protocols_rejected);
	RUN(needs_bzimage_and_64bit_entry);
	RUN(truncated_image);
	RUN(damaged_alignment_or_address);
	RUN(kernel_too_big_for_ram);
	RUN(initrd_at_top_of_low_ram);
	RUN(initrd_below_initrd_addr_max);
	RUN(initrd_does_not_fit);
	RUN(cmdline_too_long);
	RUN(rsdp_only_for_new_protocols);
	RUN(missing_guest_ram);
	RUN(load_files);
	return test_done();
}
