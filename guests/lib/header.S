/*
 * The real-mode part of a guest bzImage: the boot sector area, the Linux
 * setup header (Documentation/arch/x86/boot.rst, protocol 2.15) and a small
 * 16-bit stub for loaders that start the kernel in real mode (QEMU -kernel,
 * SeaBIOS via fw_cfg). ptvm uses the 64-bit entry instead and never runs
 * this code; it only reads the header.
 *
 * Linked at address 0 (the start of the setup segment); the linker script
 * puts it at file offset 0 and pads it to whole 512-byte sectors.
 */
#include "bootparam.h"

	.section ".setup", "ax"
	.code16
	.globl	setup_start
setup_start:
	/* Boot sector: unused, a loader only reads the header below. */
	.fill	BP_HDR, 1, 0

	/* 0x1f1: the setup header proper. */
hdr:
	.byte	setup_sects		/* 0x1f1 setup_sects (from the linker script) */
	.word	0			/* 0x1f2 root_flags */
	.long	syssize			/* 0x1f4 syssize, 16-byte units */
	.word	0			/* 0x1f8 ram_size (obsolete) */
	.word	0xffff			/* 0x1fa vid_mode: normal */
	.word	0			/* 0x1fc root_dev */
	.word	0xaa55			/* 0x1fe boot_flag */
	/* 0x200: real-mode entry point for 16-bit loaders: a 2-byte short jump */
	.byte	0xeb
	.byte	setup16 - 1f
1:	.ascii	"HdrS"			/* 0x202 header magic */
	.word	0x020f			/* 0x206 protocol version 2.15 */
	.long	0			/* 0x208 realmode_swtch */
	.word	0			/* 0x20c start_sys_seg (obsolete) */
	.word	version_str - 0x200	/* 0x20e kernel_version */
	.byte	0			/* 0x210 type_of_loader (the loader fills it) */
	.byte	LOADED_HIGH		/* 0x211 loadflags */
	.word	0			/* 0x212 setup_move_size */
	.long	GUEST_LOAD_ADDR		/* 0x214 code32_start */
	.long	0			/* 0x218 ramdisk_image */
	.long	0			/* 0x21c ramdisk_size */
	.long	0			/* 0x220 bootsect_kludge */
	.word	0			/* 0x224 heap_end_ptr */
	.byte	0			/* 0x226 ext_loader_ver */
	.byte	0			/* 0x227 ext_loader_type */
	.long	0			/* 0x228 cmd_line_ptr (the loader fills it) */
	.long	0x7fffffff		/* 0x22c initrd_addr_max */
	.long	GUEST_LOAD_ADDR		/* 0x230 kernel_alignment */
	.byte	0			/* 0x234 relocatable_kernel: no */
	.byte	0			/* 0x235 min_alignment */
	.word	XLF_KERNEL_64		/* 0x236 xloadflags */
	.long	GUEST_CMDLINE_MAX - 1	/* 0x238 cmdline_size */
	.long	0			/* 0x23c hardware_subarch: PC */
	.quad	0			/* 0x240 hardware_subarch_data */
	.long	0			/* 0x248 payload_offset */
	.long	0			/* 0x24c payload_length */
	.quad	0			/* 0x250 setup_data */
	.quad	GUEST_LOAD_ADDR		/* 0x258 pref_address */
	.long	init_size		/* 0x260 init_size (from the linker script) */
	.long	0			/* 0x264 handover_offset: no EFI handover */
	.long	0			/* 0x268 kernel_info_offset: none */
hdr_end:

version_str:
	.asciz	"ptvm-guest"

/*
 * Real-mode entry (CS = setup segment + 0x20, IP = 0). Builds boot_params at
 * BOOT_PARAMS_16 the way Linux's setup code would (header copy + BIOS e820),
 * then enters 32-bit protected mode at code32_start with ESI = boot_params,
 * following the 32-bit boot protocol. Only relative jumps are used until the
 * segments are known.
 */
setup16:
	cli
	cld
	movw	%cs, %ax
	subw	$0x20, %ax		/* DS = ES = SS = start of the setup area */
	movw	%ax, %ds
	movw	%ax, %ss
	movw	$0x2000, %sp		/* 8 KiB into the setup area: clear of the
					 * EBDA when loaded at 0x90000 and of the
					 * command line at 0x20000 when at 0x10000 */

	/* zero boot_params */
	movw	$(BOOT_PARAMS_16 >> 4), %ax
	movw	%ax, %es
	xorw	%di, %di
	xorw	%ax, %ax
	movw	$(BP_SIZE / 2), %cx
	rep stosw

	/* copy the setup header, which the loader has filled (cmd_line_ptr...) */
	movw	$BP_HDR, %si
	movw	$BP_HDR, %di
	movw	$(hdr_end - hdr), %cx
	rep movsb

	/* e820 through INT 15h AX=E820h, straight into boot_params.e820_table */
	xorl	%ebx, %ebx
	movw	$BP_E820_TABLE, %di
	xorw	%bp, %bp		/* entry count */
2:	movl	$0xe820, %eax
	movl	$0x534d4150, %edx	/* "SMAP" */
	movl	$20, %ecx
	int	$0x15
	jc	3f
	cmpl	$0x534d4150, %eax
	jne	3f
	incw	%bp
	addw	$20, %di
	cmpw	$E820_MAX_ENTRIES, %bp
	jae	3f
	testl	%ebx, %ebx
	jnz	2b
3:	movw	%bp, %ax
	movb	%al, %es:BP_E820_ENTRIES
	cli

	/* A20 through the fast gate (port 0x92) */
	inb	$0x92, %al
	orb	$2, %al
	andb	$0xfe, %al
	outb	%al, $0x92

	/* the GDT descriptor needs a linear base: setup segment * 16 + offset */
	xorl	%eax, %eax
	movw	%ds, %ax
	shll	$4, %eax
	addl	$setup_gdt, %eax
	movl	%eax, setup_gdt_desc + 2
	lgdtl	setup_gdt_desc

	movl	$BOOT_PARAMS_16, %esi
	movl	%cr0, %eax
	orl	$1, %eax
	movl	%eax, %cr0
	ljmpl	$BOOT_CS, $GUEST_LOAD_ADDR	/* code32_start */

	.balign	8
setup_gdt:
	.quad	0
	.quad	0
	.quad	0x00cf9a000000ffff	/* 0x10 __BOOT_CS: flat 32-bit code */
	.quad	0x00cf92000000ffff	/* 0x18 __BOOT_DS: flat data */
setup_gdt_end:
setup_gdt_desc:
	.word	setup_gdt_end - setup_gdt - 1
	.long	0			/* base, patched above */
