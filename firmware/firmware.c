/*
 * The firmware boot path (see firmware.h). Order: resolve the files, map the
 * firmware, fill fw_cfg, add the LPC bridge; firmware_boot() then only sets
 * the boot vCPU. Everything here runs before the vCPUs start.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/pci/lpc.h"
#include "devices/pflash.h"
#include "firmware/acpi.h"
#include "firmware/acpi/loader.h"
#include "firmware/e820.h"
#include "firmware/firmware.h"
#include "firmware/fw-cfg.h"
#include "firmware/fw-kernel.h"
#include "firmware/smbios.h"
#include "vmm/log.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

/* KVM's identity-map page and TSS (vmm/vm.c puts them there): reserved. */
#define KVM_PRIVATE_GPA 0xfeffc000ULL
#define KVM_PRIVATE_SIZE 0x4000ULL
#define ACPI_BUF_SIZE (128 * KiB)

struct firmware {
	struct vm *vm;
	struct firmware_paths paths;
	struct fw_cfg cfg;
	bool cfg_ready;
	struct pci_lpc lpc;
	struct pci_bus *pci;
	bool lpc_registered;
	/* BIOS image: a private copy mapped as ROM */
	u8 *rom;
	u64 rom_size, rom_gpa;
	/* OVMF: code (private, read-only) and vars (the file, shared) flashes */
	u8 *code, *vars;
	u64 code_size, vars_size;
	int vars_fd;
	struct pflash code_flash, vars_flash;
	bool code_flash_up, vars_flash_up;
};

// Copy a path into a PATH_MAX buffer; false if it does not fit.
static bool set_path(char *dst, const char *src)
{
	size_t n = strlen(src);

	if (n >= PATH_MAX)
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

// The vars template beside a code file: its name with CODE replaced by VARS, if that exists.
static void template_beside(const char *code, char *out)
{
	const char *base = strrchr(code, '/');
	const char *hit = strstr(base ? base : code, "CODE");

	out[0] = 0;
	if (!hit || strlen(code) >= PATH_MAX)
		return;
	strcpy(out, code);
	memcpy(out + (hit - code), "VARS", 4);
	if (access(out, R_OK))
		out[0] = 0;
}

// Map --firmware NAME|PATH[,vars=PATH] to files.
int firmware_resolve(const char *firmware, const char *vars, struct firmware_paths *out, char *err,
		     size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!strcmp(firmware, "seabios")) {
		out->kind = FIRMWARE_BIOS;
		set_path(out->code, FIRMWARE_SEABIOS);
		return 0;
	}
	if (!strcmp(firmware, "ovmf")) {
		out->kind = FIRMWARE_OVMF;
		set_path(out->code, FIRMWARE_OVMF_CODE);
		set_path(out->vars_template, FIRMWARE_OVMF_VARS);
	} else if (vars) {
		out->kind = FIRMWARE_OVMF;
		if (!set_path(out->code, firmware))
			goto too_long;
		template_beside(firmware, out->vars_template);
	} else {
		out->kind = FIRMWARE_BIOS;
		if (!set_path(out->code, firmware))
			goto too_long;
		return 0;
	}
	if (!set_path(out->vars, vars ? vars : FIRMWARE_OVMF_VARS_DEFAULT))
		goto too_long;
	return 0;
too_long:
	snprintf(err, errlen, "--firmware: a path is longer than %d bytes", PATH_MAX - 1);
	return -EINVAL;
}

// Check the firmware image can be read before anything is set up.
int firmware_check(const struct firmware_paths *p, char *err, size_t errlen)
{
	const char *pkg = !strcmp(p->code, FIRMWARE_SEABIOS) ? " (Debian package seabios)" :
			  !strcmp(p->code, FIRMWARE_OVMF_CODE) ? " (Debian package ovmf)" : "";

	if (!access(p->code, R_OK))
		return 0;
	snprintf(err, errlen, "firmware image %s: %s: install it%s or give its path with --firmware PATH",
		 p->code, strerror(errno), pkg);
	return -ENOENT;
}

// Copy the template to a new vars file (exclusive create, so a racing run cannot clobber it).
static int create_vars(const struct firmware_paths *p, char *err, size_t errlen)
{
	char buf[64 * 1024];
	int in, out, ret = 0;
	ssize_t n;

	if (!p->vars_template[0]) {
		snprintf(err, errlen,
			 "UEFI vars file %s does not exist and no template is known for %s: copy the OVMF_VARS.fd that matches the code there",
			 p->vars, p->code);
		return -ENOENT;
	}
	in = open(p->vars_template, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		snprintf(err, errlen, "cannot read the UEFI vars template %s: %s: install the ovmf package",
			 p->vars_template, strerror(errno));
		return -errno;
	}
	out = open(p->vars, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot create the UEFI vars file %s: %s: check the folder exists and is writable",
			 p->vars, strerror(errno));
		close(in);
		return ret;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	if (n < 0 || fsync(out) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot write the UEFI vars file %s: %s", p->vars, strerror(errno));
		unlink(p->vars);
	}
	close(in);
	close(out);
	if (!ret)
		pr_info("created UEFI vars file %s from %s", p->vars, p->vars_template);
	return ret;
}

// Open (creating if needed) the vars file for reading and writing.
int firmware_open_vars(const struct firmware_paths *p, char *err, size_t errlen)
{
	int fd, ret;

	if (access(p->vars, F_OK) && errno == ENOENT) {
		ret = create_vars(p, err, errlen);
		if (ret)
			return ret;
	}
	fd = open(p->vars, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (errno == EACCES || errno == EROFS || errno == EPERM)
			snprintf(err, errlen,
				 "UEFI vars file %s is not writable (%s): UEFI variables are stored there; fix its permissions or give another file with vars=PATH",
				 p->vars, strerror(errno));
		else
			snprintf(err, errlen, "cannot open the UEFI vars file %s: %s", p->vars, strerror(errno));
		return ret;
	}
	return fd;
}

// Read a whole file into malloc'd memory; errors name the file and what it is for.
static int read_file(const char *path, const char *what, u8 **data, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t done = 0;

	if (fd < 0) {
		pr_err("cannot open %s %s: %s: check the path%s", what, path, strerror(errno),
		       errno == ENOENT ? " (or install the package that has it)" : "");
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		pr_err("%s %s is not a regular file", what, path);
		close(fd);
		return -EINVAL;
	}
	*len = (size_t)st.st_size;
	*data = malloc(*len ? *len : 1);
	if (!*data) {
		close(fd);
		return -ENOMEM;
	}
	while (done < *len) {
		ssize_t n = read(fd, *data + done, *len - done);

		if (n <= 0) {
			pr_err("cannot read %s %s: %s", what, path, n ? strerror(errno) : "file shrank");
			free(*data);
			close(fd);
			return -EIO;
		}
		done += (size_t)n;
	}
	close(fd);
	return 0;
}

// Check a firmware image size: whole pages, at most FIRMWARE_BIOS_MAX.
static int check_image_size(const char *path, u64 size, u64 max)
{
	if (!size || size > max || size % 4096) {
		pr_err("firmware image %s is %llu bytes: it must be a whole number of 4 KiB pages and at most %llu MiB",
		       path, (unsigned long long)size, (unsigned long long)(max >> 20));
		return -EINVAL;
	}
	return 0;
}

// A private anonymous copy of data (KVM slots need page-aligned host memory).
static u8 *page_copy(const u8 *data, size_t len)
{
	u8 *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memcpy(p, data, len);
	return p;
}

// BIOS image: ROM below 4 GiB and its last 128 KiB in RAM below 1 MiB.
static int map_bios(struct firmware *fw)
{
	struct vm *vm = fw->vm;
	u8 *data;
	size_t len;
	u64 alias;
	struct mem_region r;
	int ret = read_file(fw->paths.code, "firmware image", &data, &len);

	if (ret)
		return ret;
	ret = check_image_size(fw->paths.code, len, FIRMWARE_BIOS_MAX);
	if (!ret && !(fw->rom = page_copy(data, len)))
		ret = -ENOMEM;
	if (ret) {
		free(data);
		return ret;
	}
	fw->rom_size = len;
	fw->rom_gpa = 4 * GiB - len;
	alias = MIN((u64)len, FIRMWARE_BIOS_ALIAS);
	ret = mem_write(&vm->mem, 1 * MiB - alias, data + len - alias, alias);
	free(data);
	if (ret) {
		pr_err("firmware: guest RAM does not cover the BIOS area below 1 MiB");
		return ret;
	}
	r = (struct mem_region){
		.name = "bios", .gpa = fw->rom_gpa, .size = len, .hva = fw->rom, .kind = MEM_ROM,
	};
	ret = mem_add(&vm->mem, &r);
	if (ret)
		pr_err("firmware: cannot map %s at 0x%llx: %s", fw->paths.code,
		       (unsigned long long)fw->rom_gpa, strerror(-ret));
	return ret;
}

// OVMF: the code flash at the top of 4 GiB, the vars flash (the file itself) below it.
static int map_ovmf(struct firmware *fw)
{
	struct vm *vm = fw->vm;
	char err[512];
	struct stat st;
	u8 *data;
	size_t len;
	int ret = read_file(fw->paths.code, "OVMF code image", &data, &len);

	if (ret)
		return ret;
	ret = check_image_size(fw->paths.code, len, FIRMWARE_BIOS_MAX);
	if (!ret && !(fw->code = page_copy(data, len)))
		ret = -ENOMEM;
	free(data);
	if (ret)
		return ret;
	fw->code_size = len;
	fw->vars_fd = firmware_open_vars(&fw->paths, err, sizeof(err));
	if (fw->vars_fd < 0) {
		pr_err("%s", err);
		return fw->vars_fd;
	}
	if (fstat(fw->vars_fd, &st) < 0)
		return -errno;
	ret = check_image_size(fw->paths.vars, (u64)st.st_size, FIRMWARE_BIOS_MAX - fw->code_size);
	if (ret)
		return ret;
	fw->vars_size = (u64)st.st_size;
	fw->vars = mmap(NULL, fw->vars_size, PROT_READ | PROT_WRITE, MAP_SHARED, fw->vars_fd, 0);
	if (fw->vars == MAP_FAILED) {
		fw->vars = NULL;
		pr_err("cannot map the UEFI vars file %s: %s", fw->paths.vars, strerror(errno));
		return -errno;
	}
	ret = pflash_init(&fw->code_flash, vm, "ovmf-code", 4 * GiB - fw->code_size, fw->code,
			  fw->code_size, -1, true);
	if (ret)
		return ret;
	fw->code_flash_up = true;
	ret = pflash_init(&fw->vars_flash, vm, "ovmf-vars", 4 * GiB - fw->code_size - fw->vars_size,
			  fw->vars, fw->vars_size, fw->vars_fd, false);
	if (ret)
		return ret;
	fw->vars_flash_up = true;
	return 0;
}

// etc/e820 as QEMU gives it: RAM ranges and the reserved ECAM and KVM pages.
int firmware_add_e820(struct fw_cfg *f, const struct layout *l)
{
	struct e820_entry e[4];
	int n = 0;

	e[n++] = (struct e820_entry){ .addr = 0, .size = l->low_ram_size, .type = E820_RAM };
	e[n++] = (struct e820_entry){ .addr = LAYOUT_ECAM_BASE, .size = LAYOUT_ECAM_SIZE, .type = E820_RESERVED };
	e[n++] = (struct e820_entry){ .addr = KVM_PRIVATE_GPA, .size = KVM_PRIVATE_SIZE, .type = E820_RESERVED };
	if (l->high_ram_size)
		e[n++] = (struct e820_entry){ .addr = LAYOUT_HIGH_RAM_BASE, .size = l->high_ram_size,
					      .type = E820_RAM };
	return fw_cfg_add_file(f, "etc/e820", e, (u32)(n * sizeof(e[0])));
}

// The ACPI tables direct boot uses, as table-loader files.
int firmware_add_acpi(struct fw_cfg *f, const struct layout *l, int nr_cpus)
{
	struct acpi_params ap = { .nr_cpus = nr_cpus, .layout = l };
	struct acpi_build_result ar;
	struct acpi_loader ld;
	u8 *buf = calloc(1, ACPI_BUF_SIZE);
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = acpi_build(&ap, 0, buf, ACPI_BUF_SIZE, &ar);
	if (!ret)
		ret = acpi_loader_build(buf, &ar, &ld);
	free(buf);
	if (ret) {
		pr_err("cannot build the ACPI tables for the firmware: %s", strerror(-ret));
		return ret;
	}
	ret = fw_cfg_add_file(f, ACPI_LOADER_FILE_RSDP, ld.rsdp, (u32)ld.rsdp_len);
	ret = ret ?: fw_cfg_add_file(f, ACPI_LOADER_FILE_TABLES, ld.tables, (u32)ld.tables_len);
	ret = ret ?: fw_cfg_add_file(f, ACPI_LOADER_FILE_CMDS, ld.cmds, (u32)ld.cmds_len);
	acpi_loader_free(&ld);
	return ret;
}

// SMBIOS tables and entry point.
int firmware_add_smbios(struct fw_cfg *f, const struct layout *l, int nr_cpus,
			const struct config_smbios *user)
{
	struct smbios_params sp = {
		.nr_cpus = nr_cpus,
		.low_ram_size = l->low_ram_size,
		.high_ram_size = l->high_ram_size,
	};
	struct smbios_result sr;
	int ret;

	if (user) {
		sp.str = (struct smbios_strings){
			.bios_vendor = user->bios_vendor, .bios_version = user->bios_version,
			.bios_date = user->bios_date, .sys_manufacturer = user->manufacturer,
			.sys_product = user->product, .sys_version = user->version,
			.sys_serial = user->serial, .sys_sku = user->sku, .sys_family = user->family,
		};
		if (user->uuid_set)
			memcpy(sp.uuid, user->uuid, sizeof(sp.uuid));
	}
	ret = smbios_build(&sp, &sr);

	if (ret) {
		pr_err("cannot build the SMBIOS tables: %s", strerror(-ret));
		return ret;
	}
	ret = fw_cfg_add_file(f, SMBIOS_FILE_TABLES, sr.tables, (u32)sr.len);
	ret = ret ?: fw_cfg_add_file(f, SMBIOS_FILE_ANCHOR, sr.anchor, sizeof(sr.anchor));
	smbios_free(&sr);
	return ret;
}

// --kernel through the firmware: the split kernel, and for a BIOS the option ROM that boots it.
static int add_kernel(struct firmware *fw)
{
	const struct vm_config *c = fw->vm->cfg;
	struct fw_kernel k = { .cmdline = c->cmdline, .low_ram_size = fw->vm->layout.low_ram_size };
	u8 *kernel = NULL, *initrd = NULL, *rom = NULL;
	size_t rom_len = 0;
	char err[512];
	int ret;

	ret = read_file(c->kernel, "kernel", &kernel, &k.kernel_len);
	if (!ret && c->initrd)
		ret = read_file(c->initrd, "initrd", &initrd, &k.initrd_len);
	if (!ret && fw->paths.kind == FIRMWARE_BIOS) {
		ret = read_file(FIRMWARE_LINUXBOOT, "option ROM for --kernel under a BIOS (Debian package qemu-system-data)",
				&rom, &rom_len);
		ret = ret ?: fw_cfg_add_file(&fw->cfg, "genroms/linuxboot_dma.bin", rom, (u32)rom_len);
		/* first in the boot order, unless the disks go first (SeaBIOS then
		 * ranks the ROM after hard disks by default) */
		if (c->boot_order != BOOT_ORDER_DISK)
			ret = ret ?: fw_cfg_add_file(&fw->cfg, "bootorder", "/rom@genroms/linuxboot_dma.bin\n",
						     sizeof("/rom@genroms/linuxboot_dma.bin\n") - 1);
	}
	if (!ret) {
		k.kernel = kernel;
		k.initrd = initrd;
		ret = fw_kernel_add(&fw->cfg, &k, err, sizeof(err));
		if (ret)
			pr_err("%s: %s", c->kernel, err);
	}
	free(kernel);
	free(initrd);
	free(rom);
	return ret;
}

// Fill fw_cfg and claim its ports.
static int fill_fw_cfg(struct firmware *fw)
{
	struct vm *vm = fw->vm;
	const struct vm_config *c = vm->cfg;
	struct fw_cfg *f = &fw->cfg;
	u32 fail_wait = c->reboot_timeout < 0 ? 0xffffffffu : (u32)c->reboot_timeout;
	u8 le_wait[4] = { (u8)fail_wait, (u8)(fail_wait >> 8), (u8)(fail_wait >> 16), (u8)(fail_wait >> 24) };
	int ret = fw_cfg_init(f, &vm->mem);

	if (ret)
		return ret;
	fw->cfg_ready = true;
	ret = fw_cfg_add_u64(f, FW_CFG_RAM_SIZE, vm->cfg->ram_size);
	ret = ret ?: fw_cfg_add_u16(f, FW_CFG_NB_CPUS, (u16)vm->nr_vcpus);
	ret = ret ?: fw_cfg_add_u16(f, FW_CFG_MAX_CPUS, (u16)vm->nr_vcpus);
	ret = ret ?: fw_cfg_add_bytes(f, FW_CFG_UUID, c->smbios.uuid, sizeof(c->smbios.uuid));
	ret = ret ?: fw_cfg_add_u16(f, FW_CFG_NOGRAPHIC, 1);
	ret = ret ?: fw_cfg_add_u16(f, FW_CFG_BOOT_MENU, c->boot_menu);
	if (c->boot_menu_timeout >= 0)
		ret = ret ?: fw_cfg_add_file(f, "etc/boot-menu-wait",
					     (u8[2]){ (u8)c->boot_menu_timeout, (u8)(c->boot_menu_timeout >> 8) }, 2);
	/* -1 (the default): after a failed boot, wait instead of rebooting, as QEMU */
	ret = ret ?: fw_cfg_add_file(f, "etc/boot-fail-wait", le_wait, sizeof(le_wait));
	ret = ret ?: firmware_add_e820(f, &vm->layout);
	ret = ret ?: firmware_add_acpi(f, &vm->layout, vm->nr_vcpus);
	ret = ret ?: firmware_add_smbios(f, &vm->layout, vm->nr_vcpus, &c->smbios);
	if (ret) {
		pr_err("cannot fill fw_cfg: %s", strerror(-ret));
		return ret;
	}
	/* OVMF boots an fw_cfg kernel before any disk: order=disk leaves it out */
	if (c->kernel && !(fw->paths.kind == FIRMWARE_OVMF && c->boot_order == BOOT_ORDER_DISK)) {
		ret = add_kernel(fw);
		if (ret)
			return ret;
	}
	return fw_cfg_register(f, vm);
}

// Load the firmware and everything it reads.
int firmware_create(struct vm *vm, struct pci_bus *pci, struct firmware **out)
{
	struct firmware *fw = calloc(1, sizeof(*fw));
	char err[512];
	int ret;

	*out = fw;
	if (!fw)
		return -ENOMEM;
	fw->vm = vm;
	fw->vars_fd = -1;
	ret = firmware_resolve(vm->cfg->firmware, vm->cfg->vars, &fw->paths, err, sizeof(err));
	if (!ret)
		ret = firmware_check(&fw->paths, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		return ret;
	}
	ret = fw->paths.kind == FIRMWARE_BIOS ? map_bios(fw) : map_ovmf(fw);
	if (ret)
		return ret;
	ret = fill_fw_cfg(fw);
	if (ret)
		return ret;
	pci_lpc_init(&fw->lpc);
	ret = pci_register(pci, &fw->lpc.dev, PCI_LPC_SLOT, 0);
	if (ret) {
		pr_err("firmware: cannot put the LPC bridge at 00:%02x.0: %s (is a device there?)",
		       PCI_LPC_SLOT, strerror(-ret));
		return ret;
	}
	fw->pci = pci;
	fw->lpc_registered = true;
	pr_info("firmware: %s%s%s", fw->paths.code, fw->paths.kind == FIRMWARE_OVMF ? ", vars " : "",
		fw->paths.kind == FIRMWARE_OVMF ? fw->paths.vars : "");
	return 0;
}

// The boot vCPU starts where a PC's does.
int firmware_boot(struct vm *vm, struct firmware *fw)
{
	(void)fw;
	return vcpu_setup_reset(vm);
}

// Undo firmware_create (also after a partial one).
void firmware_destroy(struct firmware *fw)
{
	if (!fw)
		return;
	if (fw->lpc_registered)
		pci_unregister(fw->pci, &fw->lpc.dev);
	if (fw->cfg_ready)
		fw_cfg_destroy(&fw->cfg);
	if (fw->vars_flash_up)
		pflash_destroy(&fw->vars_flash);
	if (fw->code_flash_up)
		pflash_destroy(&fw->code_flash);
	if (fw->rom) {
		mem_del(&fw->vm->mem, fw->rom_gpa);
		munmap(fw->rom, fw->rom_size);
	}
	if (fw->code)
		munmap(fw->code, fw->code_size);
	if (fw->vars)
		munmap(fw->vars, fw->vars_size);
	if (fw->vars_fd >= 0)
		close(fw->vars_fd);
	free(fw);
}
