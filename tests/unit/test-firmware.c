/*
 * The firmware boot path's pure parts: --firmware resolution, the checks
 * that give one clear error (missing image, unwritable vars file, no
 * template), vars file creation from the template, and the kernel split
 * into fw_cfg items with the setup header patched as QEMU does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/firmware.h"
#include "firmware/fw-cfg.h"
#include "firmware/fw-kernel.h"
#include "tests/unit/harness.h"

static char dir[64];

// A file at dir/name holding len bytes of val; returns its path (static buffer per call site).
static const char *make_file(char *path, size_t cap, const char *name, u8 val, size_t len)
{
	u8 buf[8192];
	int fd;

	snprintf(path, cap, "%s/%s", dir, name);
	memset(buf, val, sizeof(buf));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	while (len) {
		size_t n = MIN(len, sizeof(buf));

		if (write(fd, buf, n) != (ssize_t)n)
			break;
		len -= n;
	}
	close(fd);
	return path;
}

TEST(resolve_names_and_paths)
{
	struct firmware_paths p;
	char err[256], code[128], vars[128];

	ASSERT_EQ(firmware_resolve("seabios", NULL, &p, err, sizeof(err)), 0);
	ASSERT_EQ(p.kind, FIRMWARE_BIOS);
	ASSERT_STR_EQ(p.code, FIRMWARE_SEABIOS);
	ASSERT_EQ(firmware_resolve("ovmf", NULL, &p, err, sizeof(err)), 0);
	ASSERT_EQ(p.kind, FIRMWARE_OVMF);
	ASSERT_STR_EQ(p.code, FIRMWARE_OVMF_CODE);
	ASSERT_STR_EQ(p.vars, FIRMWARE_OVMF_VARS_DEFAULT);
	ASSERT_STR_EQ(p.vars_template, FIRMWARE_OVMF_VARS);
	ASSERT_EQ(firmware_resolve("ovmf", "/x/my.fd", &p, err, sizeof(err)), 0);
	ASSERT_STR_EQ(p.vars, "/x/my.fd");
	/* a path alone is a BIOS image; with vars= it is OVMF code, template beside it */
	ASSERT_EQ(firmware_resolve("/some/bios.bin", NULL, &p, err, sizeof(err)), 0);
	ASSERT_EQ(p.kind, FIRMWARE_BIOS);
	ASSERT_STR_EQ(p.code, "/some/bios.bin");
	make_file(code, sizeof(code), "MY_CODE.fd", 0, 4096);
	make_file(vars, sizeof(vars), "MY_VARS.fd", 0, 4096);
	ASSERT_EQ(firmware_resolve(code, "/x/v.fd", &p, err, sizeof(err)), 0);
	ASSERT_EQ(p.kind, FIRMWARE_OVMF);
	ASSERT_STR_EQ(p.vars_template, vars);
	unlink(vars);
	ASSERT_EQ(firmware_resolve(code, "/x/v.fd", &p, err, sizeof(err)), 0);
	ASSERT_STR_EQ(p.vars_template, "");
	unlink(code);
}

TEST(missing_firmware_file_is_one_clear_error)
{
	struct firmware_paths p;
	char err[512];

	ASSERT_EQ(firmware_resolve("/nonexistent/bios.bin", NULL, &p, err, sizeof(err)), 0);
	ASSERT_EQ(firmware_check(&p, err, sizeof(err)), -ENOENT);
	ASSERT_STR_CONTAINS(err, "/nonexistent/bios.bin");
	ASSERT_STR_CONTAINS(err, "No such file");
	ASSERT_STR_CONTAINS(err, "--firmware PATH");
	ASSERT_TRUE(!strchr(err, '\n'));
	/* the packaged names say which Debian package has them */
	ASSERT_EQ(firmware_resolve("seabios", NULL, &p, err, sizeof(err)), 0);
	strcpy(p.code, "/nonexistent/seabios.bin");
	ASSERT_EQ(firmware_check(&p, err, sizeof(err)), -ENOENT);
}

TEST(vars_created_from_template_once)
{
	struct firmware_paths p;
	char err[512], tmpl[128];
	u8 b = 0;
	int fd;

	memset(&p, 0, sizeof(p));
	p.kind = FIRMWARE_OVMF;
	strcpy(p.vars_template, make_file(tmpl, sizeof(tmpl), "TEMPLATE_VARS.fd", 0x5a, 8192));
	snprintf(p.vars, sizeof(p.vars), "%s/vm-vars.fd", dir);
	unlink(p.vars);
	fd = firmware_open_vars(&p, err, sizeof(err));
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(lseek(fd, 0, SEEK_END), 8192);
	ASSERT_EQ(pread(fd, &b, 1, 4000), 1);
	ASSERT_EQ(b, 0x5a);
	/* the VM changes it; the next run keeps the change */
	ASSERT_EQ(pwrite(fd, "\x11", 1, 4000), 1);
	close(fd);
	fd = firmware_open_vars(&p, err, sizeof(err));
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(pread(fd, &b, 1, 4000), 1);
	ASSERT_EQ(b, 0x11);
	close(fd);
	unlink(p.vars);
	unlink(tmpl);
}

TEST(unwritable_vars_is_one_clear_error)
{
	struct firmware_paths p;
	char err[512], path[128];

	memset(&p, 0, sizeof(p));
	p.kind = FIRMWARE_OVMF;
	if (geteuid() == 0) {
		/* root ignores file modes; sysfs refuses root too */
		if (access("/sys/kernel/notes", F_OK)) {
			printf("# no /sys/kernel/notes to test with as root\n");
			return;
		}
		strcpy(p.vars, "/sys/kernel/notes");
	} else {
		make_file(path, sizeof(path), "ro-vars.fd", 0, 4096);
		chmod(path, 0444);
		strcpy(p.vars, path);
	}
	ASSERT_EQ(firmware_open_vars(&p, err, sizeof(err)), -EACCES);
	ASSERT_STR_CONTAINS(err, p.vars);
	ASSERT_STR_CONTAINS(err, "not writable");
	ASSERT_STR_CONTAINS(err, "vars=PATH");
	if (geteuid() != 0)
		unlink(path);
}

TEST(missing_vars_without_template)
{
	struct firmware_paths p;
	char err[512];

	memset(&p, 0, sizeof(p));
	p.kind = FIRMWARE_OVMF;
	strcpy(p.code, "/x/CUSTOM.fd");
	snprintf(p.vars, sizeof(p.vars), "%s/none.fd", dir);
	ASSERT_EQ(firmware_open_vars(&p, err, sizeof(err)), -ENOENT);
	ASSERT_STR_CONTAINS(err, "no template");
	/* a folder that does not exist cannot hold the new file */
	strcpy(p.vars_template, FIRMWARE_SEABIOS);
	strcpy(p.vars, "/nonexistent/dir/vars.fd");
	if (!access(FIRMWARE_SEABIOS, R_OK)) {
		ASSERT_EQ(firmware_open_vars(&p, err, sizeof(err)), -ENOENT);
		ASSERT_STR_CONTAINS(err, "cannot create");
	}
}

#define SECTS 3
#define PM_SIZE 0x3000

// A minimal bzImage: SECTS setup sectors after the boot sector, PM_SIZE bytes of kernel.
static u8 *make_kernel(size_t *len)
{
	size_t setup = (SECTS + 1) * 512;
	u8 *b = calloc(1, setup + PM_SIZE);

	b[0x1f1] = SECTS;
	b[0x1fe] = 0x55;
	b[0x1ff] = 0xaa;
	b[0x200] = 0xeb;
	b[0x201] = 0x6a;
	memcpy(b + 0x202, "HdrS", 4);
	b[0x206] = 0x0f;
	b[0x207] = 0x02;
	b[0x211] = 0x01;                     /* LOADED_HIGH */
	memcpy(b + 0x22c, "\xff\xff\xff\x7f", 4); /* initrd_addr_max */
	memcpy(b + 0x230, "\x00\x00\x20\x00", 4); /* kernel_alignment 2 MiB */
	b[0x234] = 1;
	b[0x236] = 0x03;                     /* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
	memcpy(b + 0x238, "\xff\x07\x00\x00", 4); /* cmdline_size 2047 */
	memcpy(b + 0x260, "\x00\x00\x00\x01", 4); /* init_size 16 MiB */
	for (size_t i = 0; i < PM_SIZE; i++)
		b[setup + i] = (u8)(i * 5 + 1);
	*len = setup + PM_SIZE;
	return b;
}

static u32 item_u32(struct fw_cfg *f, u16 key)
{
	const struct fw_cfg_item *it = fw_cfg_find(f, key);
	u32 v = 0;

	if (it && it->size == 4)
		memcpy(&v, it->data, 4);
	return v;
}

TEST(kernel_split_for_firmware)
{
	struct fw_cfg f;
	struct fw_kernel k = { .cmdline = "console=ttyS0", .low_ram_size = 512 * MiB };
	u8 initrd[5000];
	char err[256];
	const struct fw_cfg_item *setup, *kern, *cmd;
	u32 initrd_addr;

	memset(initrd, 0x77, sizeof(initrd));
	k.kernel = make_kernel(&k.kernel_len);
	k.initrd = initrd;
	k.initrd_len = sizeof(initrd);
	ASSERT_EQ(fw_cfg_init(&f, NULL), 0);
	ASSERT_EQ(fw_kernel_add(&f, &k, err, sizeof(err)), 0);
	ASSERT_EQ(item_u32(&f, FW_CFG_SETUP_ADDR), FW_KERNEL_SETUP_ADDR);
	ASSERT_EQ(item_u32(&f, FW_CFG_SETUP_SIZE), (SECTS + 1) * 512);
	ASSERT_EQ(item_u32(&f, FW_CFG_KERNEL_ADDR), FW_KERNEL_PROT_ADDR);
	ASSERT_EQ(item_u32(&f, FW_CFG_KERNEL_SIZE), PM_SIZE);
	ASSERT_EQ(item_u32(&f, FW_CFG_CMDLINE_ADDR), FW_KERNEL_CMDLINE_ADDR);
	ASSERT_EQ(item_u32(&f, FW_CFG_CMDLINE_SIZE), strlen("console=ttyS0") + 1);
	ASSERT_EQ(item_u32(&f, FW_CFG_INITRD_SIZE), sizeof(initrd));
	setup = fw_cfg_find(&f, FW_CFG_SETUP_DATA);
	kern = fw_cfg_find(&f, FW_CFG_KERNEL_DATA);
	cmd = fw_cfg_find(&f, FW_CFG_CMDLINE_DATA);
	ASSERT_TRUE(setup && kern && cmd && fw_cfg_find(&f, FW_CFG_INITRD_DATA));
	ASSERT_TRUE(!memcmp(kern->data, k.kernel + (SECTS + 1) * 512, PM_SIZE));
	ASSERT_STR_EQ((const char *)cmd->data, "console=ttyS0");
	/* the setup copy is patched: loader type, heap, command line, initrd */
	ASSERT_EQ(setup->data[0x210], 0xff);
	ASSERT_EQ(setup->data[0x211], 0x81);
	ASSERT_EQ(setup->data[0x224] | setup->data[0x225] << 8, 0xfe00);
	ASSERT_EQ(setup->data[0x228] | setup->data[0x229] << 8 | setup->data[0x22a] << 16, 0x20000);
	memcpy(&initrd_addr, setup->data + 0x218, 4);
	ASSERT_EQ(initrd_addr, item_u32(&f, FW_CFG_INITRD_ADDR));
	ASSERT_EQ(initrd_addr % 4096, 0);
	ASSERT_TRUE(initrd_addr + sizeof(initrd) <= 512 * MiB - FW_KERNEL_FIRMWARE_RESERVE);
	ASSERT_TRUE(initrd_addr >= FW_KERNEL_PROT_ADDR + 16 * MiB);
	/* the caller's image is not changed */
	ASSERT_EQ(k.kernel[0x210], 0);
	fw_cfg_destroy(&f);
	free((void *)k.kernel);
}

TEST(kernel_errors)
{
	struct fw_cfg f;
	struct fw_kernel k = { .low_ram_size = 32 * MiB };
	static u8 big_initrd[20 * 1024 * 1024];
	char err[256], longcmd[3000];

	k.kernel = make_kernel(&k.kernel_len);
	ASSERT_EQ(fw_cfg_init(&f, NULL), 0);
	/* the initrd does not fit between the kernel's init_size and the reserve */
	k.initrd = big_initrd;
	k.initrd_len = sizeof(big_initrd);
	ASSERT_EQ(fw_kernel_add(&f, &k, err, sizeof(err)), -ENOMEM);
	ASSERT_STR_CONTAINS(err, "--memory");
	k.initrd = NULL;
	memset(longcmd, 'a', sizeof(longcmd) - 1);
	longcmd[sizeof(longcmd) - 1] = 0;
	k.cmdline = longcmd;
	ASSERT_EQ(fw_kernel_add(&f, &k, err, sizeof(err)), -E2BIG);
	k.cmdline = NULL;
	((u8 *)k.kernel)[0x202] = 'X';
	ASSERT_EQ(fw_kernel_add(&f, &k, err, sizeof(err)), -ENOEXEC);
	ASSERT_FALSE(fw_cfg_find(&f, FW_CFG_KERNEL_DATA));
	fw_cfg_destroy(&f);
	free((void *)k.kernel);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test-firmware-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	RUN(resolve_names_and_paths);
	RUN(missing_firmware_file_is_one_clear_error);
	RUN(vars_created_from_template_once);
	RUN(unwritable_vars_is_one_clear_error);
	RUN(missing_vars_without_template);
	RUN(kernel_split_for_firmware);
	RUN(kernel_errors);
	rmdir(dir);
	return test_done();
}
