/*
 * The -kernel items for firmware boot (see fw-kernel.h), laid out as QEMU
 * lays them out for a protocol 2.02+ kernel loaded high: setup at 0x10000,
 * command line at 0x20000, kernel at 1 MiB, initrd page-aligned at the top
 * of what the kernel and the firmware's reserve allow.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/bzimage.h"
#include "firmware/fw-cfg.h"
#include "firmware/fw-kernel.h"

#define HDR_SETUP_SECTS 0x1f1
#define HDR_PROTOCOL 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_CMDLINE_SIZE 0x238
#define HDR_INIT_SIZE 0x260
#define LOADER_TYPE_UNDEFINED 0xff /* no registered loader ID: "other" */
#define LOADFLAGS_CAN_USE_HEAP 0x80
#define CMDLINE_MAX (64 * KiB)

// The n-byte little-endian integer at p.
static u32 get_le(const u8 *p, int n)
{
	u32 v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

// Store v as an n-byte little-endian integer at p.
static void put_le(u8 *p, u32 v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (u8)(v >> (8 * i));
}

// Where the initrd goes, or 0 with err filled if it cannot fit.
static u64 initrd_place(const struct fw_kernel *k, const u8 *hdr, u64 kernel_end, char *err,
			size_t errlen)
{
	u64 max = get_le(hdr + HDR_INITRD_ADDR_MAX, 4);
	u64 top = k->low_ram_size - FW_KERNEL_FIRMWARE_RESERVE - 1;
	u64 addr;

	if (max > top)
		max = top;
	addr = max + 1 >= k->initrd_len ? ALIGN_DOWN(max + 1 - k->initrd_len, 4096) : 0;
	if (addr < kernel_end) {
		snprintf(err, errlen,
			 "initrd of %zu MiB does not fit between the kernel (ends at %llu MiB) and %llu MiB: give more --memory or a smaller initrd",
			 k->initrd_len >> 20, (unsigned long long)(kernel_end >> 20),
			 (unsigned long long)((max + 1) >> 20));
		return 0;
	}
	return addr;
}

// Split the bzImage into fw_cfg items and patch the setup header copy.
int fw_kernel_add(struct fw_cfg *f, const struct fw_kernel *k, char *err, size_t errlen)
{
	const char *cmdline = k->cmdline ? k->cmdline : "";
	size_t cmdlen = strlen(cmdline) + 1, setup_size, prot_size;
	u64 kernel_end, initrd_addr = 0;
	u32 cmdline_max;
	u8 *setup;
	int ret;

	ret = bzimage_check(k->kernel, k->kernel_len, err, errlen);
	if (ret)
		return ret;
	setup_size = ((size_t)(k->kernel[HDR_SETUP_SECTS] ? k->kernel[HDR_SETUP_SECTS] : 4) + 1) * 512;
	if (setup_size >= k->kernel_len) {
		snprintf(err, errlen, "kernel image is truncated: its setup alone is %zu bytes", setup_size);
		return -ENOEXEC;
	}
	prot_size = k->kernel_len - setup_size;
	cmdline_max = get_le(k->kernel + HDR_CMDLINE_SIZE, 4);
	if (cmdlen - 1 > cmdline_max || cmdlen > CMDLINE_MAX) {
		snprintf(err, errlen, "kernel command line of %zu bytes is longer than the kernel's limit of %u: shorten --cmdline",
			 cmdlen - 1, cmdline_max);
		return -E2BIG;
	}
	kernel_end = FW_KERNEL_PROT_ADDR + MAX((u64)prot_size, (u64)get_le(k->kernel + HDR_INIT_SIZE, 4));
	if (k->initrd) {
		initrd_addr = initrd_place(k, k->kernel, kernel_end, err, errlen);
		if (!initrd_addr)
			return -ENOMEM;
	}

	setup = malloc(setup_size);
	if (!setup)
		return -ENOMEM;
	memcpy(setup, k->kernel, setup_size);
	setup[HDR_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
	setup[HDR_LOADFLAGS] |= LOADFLAGS_CAN_USE_HEAP;
	put_le(setup + HDR_HEAP_END_PTR, (u32)(FW_KERNEL_CMDLINE_ADDR - FW_KERNEL_SETUP_ADDR - 0x200), 2);
	put_le(setup + HDR_CMD_LINE_PTR, (u32)FW_KERNEL_CMDLINE_ADDR, 4);
	put_le(setup + HDR_RAMDISK_IMAGE, (u32)initrd_addr, 4);
	put_le(setup + HDR_RAMDISK_SIZE, k->initrd ? (u32)k->initrd_len : 0, 4);

	ret = fw_cfg_add_u32(f, FW_CFG_SETUP_ADDR, (u32)FW_KERNEL_SETUP_ADDR);
	ret = ret ?: fw_cfg_add_u32(f, FW_CFG_SETUP_SIZE, (u32)setup_size);
	ret = ret ?: fw_cfg_add_bytes(f, FW_CFG_SETUP_DATA, setup, (u32)setup_size);
	ret = ret ?: fw_cfg_add_u32(f, FW_CFG_KERNEL_ADDR, (u32)FW_KERNEL_PROT_ADDR);
	ret = ret ?: fw_cfg_add_u32(f, FW_CFG_KERNEL_SIZE, (u32)prot_size);
	ret = ret ?: fw_cfg_add_bytes(f, FW_CFG_KERNEL_DATA, k->kernel + setup_size, (u32)prot_size);
	ret = ret ?: fw_cfg_add_u32(f, FW_CFG_CMDLINE_ADDR, (u32)FW_KERNEL_CMDLINE_ADDR);
	ret = ret ?: fw_cfg_add_u32(f, FW_CFG_CMDLINE_SIZE, (u32)cmdlen);
	ret = ret ?: fw_cfg_add_bytes(f, FW_CFG_CMDLINE_DATA, cmdline, (u32)cmdlen);
	if (!ret && k->initrd) {
		ret = fw_cfg_add_u32(f, FW_CFG_INITRD_ADDR, (u32)initrd_addr);
		ret = ret ?: fw_cfg_add_u32(f, FW_CFG_INITRD_SIZE, (u32)k->initrd_len);
		ret = ret ?: fw_cfg_add_bytes(f, FW_CFG_INITRD_DATA, k->initrd, (u32)k->initrd_len);
	}
	free(setup);
	if (ret)
		snprintf(err, errlen, "cannot add the kernel to fw_cfg: %s", strerror(-ret));
	return ret;
}
