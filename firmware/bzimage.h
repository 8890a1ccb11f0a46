/*
 * Direct boot of a Linux x86_64 bzImage with the 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst): the protected-mode kernel is copied to
 * LAYOUT_KERNEL_BASE, the zero page to LAYOUT_BOOT_PARAMS, the command line
 * to LAYOUT_BOOT_CMDLINE and the initrd as high in low RAM as the kernel
 * allows. The caller enters at entry64 in long mode with RSI = boot_params,
 * paging identity-mapping at least [0, kernel_end) and the boot area.
 */
#ifndef PTVM_BZIMAGE_H
#define PTVM_BZIMAGE_H

#include "vmm/common.h"
#include "vmm/layout.h"
#include "vmm/memory.h"

/* Oldest boot protocol with xloadflags (XLF_KERNEL_64): Linux 3.8. */
#define BZIMAGE_MIN_PROTOCOL 0x020c

/* Where things went; all guest-physical addresses. */
struct bzimage_boot {
	u64 entry64;     /* LAYOUT_KERNEL_BASE + 0x200: RIP in 64-bit mode */
	u64 boot_params; /* LAYOUT_BOOT_PARAMS: RSI at entry */
	u64 cmdline;     /* LAYOUT_BOOT_CMDLINE, NUL-terminated */
	u64 kernel_load; /* LAYOUT_KERNEL_BASE: the protected-mode kernel */
	u64 kernel_size; /* bytes copied there */
	u64 kernel_end;  /* end of what the kernel uses before it reads e820:
			  * max(load + size, runtime start + init_size) */
	u64 initrd;      /* 0 if no initrd */
	u64 initrd_size;
	u16 protocol;    /* boot protocol version, e.g. 0x020f */
};

/*
 * Check that img is a bzImage ptvm can boot: "HdrS" at 0x202, 0xAA55 at
 * 0x1FE, protocol 2.12+, LOADED_HIGH, XLF_KERNEL_64, not truncated.
 * 0, or -ENOEXEC with one line in err.
 */
int bzimage_check(const void *img, size_t len, char *err, size_t errlen);

/*
 * Load kernel (and initrd if ilen > 0) into guest RAM and write boot_params
 * with the e820 map of l, cmdline (NULL = empty) and rsdp_gpa (0 = none).
 * Checks everything before writing anything. 0, or -errno with one line in
 * err: -ENOEXEC bad image, -E2BIG command line too long, -ENOMEM kernel or
 * initrd do not fit in low RAM, -EFAULT guest RAM missing.
 */
int bzimage_load(struct mem_map *mem, const struct layout *l,
		 const void *kernel, size_t klen, const void *initrd, size_t ilen,
		 const char *cmdline, u64 rsdp_gpa, struct bzimage_boot *out,
		 char *err, size_t errlen);

/* bzimage_load() from files (initrd_path may be NULL); errors name the file. */
int bzimage_load_files(struct mem_map *mem, const struct layout *l,
		       const char *kernel_path, const char *initrd_path,
		       const char *cmdline, u64 rsdp_gpa, struct bzimage_boot *out,
		       char *err, size_t errlen);

#endif
