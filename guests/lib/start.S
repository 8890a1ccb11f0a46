/*
 * The protected-mode image of a guest, linked at GUEST_LOAD_ADDR:
 *   +0x000  32-bit entry (32-bit boot protocol, and our real-mode stub):
 *           builds identity page tables for 4 GiB and enters long mode
 *   +0x200  64-bit entry (64-bit boot protocol, used by ptvm): RSI = boot_params
 * Both end in guest_start(boot_params) (libguest.c), which never returns.
 * Also here: the exception entry stubs and the AP trampoline.
 */
#include "bootparam.h"

#define BSP_STACK_SIZE 16384
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define CR0_PE 0x1
#define CR0_PG 0x80000000
#define CR4_PAE 0x20

	.section ".head.text", "ax"
	.code32
	.globl	startup_32
startup_32:
	cli
	cld
	movl	$BOOT_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%esi, %ebp		/* boot_params */

	/* page tables: PML4 -> one PDPT -> four PDs of 2 MiB pages (4 GiB) */
	movl	$boot_pgt, %edi
	xorl	%eax, %eax
	movl	$(6 * 4096 / 4), %ecx
	rep stosl
	movl	$boot_pgt, %edi
	leal	0x1003(%edi), %eax
	movl	%eax, (%edi)		/* PML4[0] = PDPT | P | W */
	leal	0x2003(%edi), %eax
	xorl	%ecx, %ecx
1:	movl	%eax, 0x1000(%edi, %ecx, 8)	/* PDPT[i] = PD i | P | W */
	addl	$0x1000, %eax
	incl	%ecx
	cmpl	$4, %ecx
	jb	1b
	movl	$0x83, %eax		/* P | W | PS */
	xorl	%ecx, %ecx
2:	movl	%eax, 0x2000(%edi, %ecx, 8)
	addl	$0x200000, %eax
	incl	%ecx
	cmpl	$2048, %ecx
	jb	2b

	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	%edi, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$(CR0_PG | CR0_PE), %eax
	movl	%eax, %cr0
	lgdt	gdt_desc		/* reads limit + low 32 bits of the base */
	movl	%ebp, %esi
	ljmpl	$BOOT_CS, $startup_64

	/* the 64-bit entry must sit at +0x200 */
	.org	0x200, 0xcc
	.code64
	.globl	startup_64
startup_64:
	cli
	cld
	lgdt	gdt_desc(%rip)
	movl	$BOOT_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs
	/* the 64-bit protocol gives no stack: take ours before the first push */
	leaq	bsp_stack + BSP_STACK_SIZE(%rip), %rsp
	pushq	$BOOT_CS
	leaq	1f(%rip), %rax
	pushq	%rax
	lretq
1:	movq	%rsi, %r15		/* boot_params */

	/* zero .bss (the loader may have left other data there) */
	leaq	__bss_start(%rip), %rdi
	leaq	__bss_end(%rip), %rcx
	subq	%rdi, %rcx
	shrq	$3, %rcx
	xorl	%eax, %eax
	rep stosq	/* includes the (empty) stack */

	movq	%r15, %rdi
	call	guest_start
2:	cli
	hlt
	jmp	2b

	.text
/*
 * Exception and interrupt entry: every stub leaves the same frame (vector,
 * error code, then what the CPU pushed) and jumps to trap_common, which
 * saves the general registers and calls trap_dispatch(frame). Exceptions
 * without a handler end the VM there; handled ones and interrupts return
 * here and leave through iretq.
 */
.macro	TRAP vec, has_err
	.balign	16
trap_stub_\vec:
	.if	\has_err == 0
	pushq	$0
	.endif
	pushq	$\vec
	jmp	trap_common
.endm

	.irp	v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
	TRAP	\v, 0
	.endr
	.irp	v, 8,10,11,12,13,14,17,21,29,30
	TRAP	\v, 1
	.endr
	.irp	v, IRQ_VECTORS
	TRAP	\v, 0
	.endr

trap_common:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, %rdi
	movq	%rsp, %rbx		/* callee-saved: the frame survives the call */
	andq	$-16, %rsp
	call	trap_dispatch
	movq	%rbx, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$16, %rsp		/* vector and error code */
	iretq

	.section ".rodata"
	.balign	8
	.globl	trap_stubs
trap_stubs:
	.irp	v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad	trap_stub_\v
	.endr
	.irp	v, IRQ_VECTORS
	.quad	trap_stub_\v
	.endr

/* Our GDT: 0x08 32-bit code, 0x10 64-bit code, 0x18 data (flat). */
	.balign	16
gdt:
	.quad	0
	.quad	0x00cf9b000000ffff	/* CODE32_SEL */
	.quad	0x00af9b000000ffff	/* BOOT_CS */
	.quad	0x00cf93000000ffff	/* BOOT_DS */
gdt_end:
	.balign	8
	.globl	gdt_desc
gdt_desc:
	.word	gdt_end - gdt - 1
	.quad	gdt

/*
 * AP trampoline: copied to AP_TRAMPOLINE (a 4 KiB aligned address below
 * 1 MiB, also the SIPI vector << 12) by smp_start_ap(), which fills in the
 * CR3, CR4 and EFER of the BSP first. Real mode -> 32-bit protected mode ->
 * long mode with the BSP's page tables, then ap_entry64. Code before the
 * copy is position dependent only through AP_TRAMPOLINE.
 */
#define TR(sym) (AP_TRAMPOLINE + (sym) - ap_tramp_start)
	.section ".rodata"
	.balign	16
	.code16
	.globl	ap_tramp_start, ap_tramp_end, ap_tramp_cr3, ap_tramp_cr4, ap_tramp_efer
ap_tramp_start:
	cli
	cld
	movw	%cs, %ax
	movw	%ax, %ds
	lgdtl	ap_tramp_gdt_desc - ap_tramp_start
	movl	%cr0, %eax
	orl	$CR0_PE, %eax
	movl	%eax, %cr0
	ljmpl	$CODE32_SEL, $TR(ap_tramp_32)
	.code32
ap_tramp_32:
	movl	$BOOT_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	TR(ap_tramp_cr4), %eax
	movl	%eax, %cr4
	movl	TR(ap_tramp_cr3), %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	movl	TR(ap_tramp_efer), %eax
	xorl	%edx, %edx
	wrmsr
	movl	%cr0, %eax
	orl	$(CR0_PG | CR0_PE), %eax
	movl	%eax, %cr0
	ljmpl	$BOOT_CS, $ap_entry64
	.balign	8
ap_tramp_gdt_desc:
	.word	gdt_end - gdt - 1
	.long	gdt
ap_tramp_cr3:
	.long	0
ap_tramp_cr4:
	.long	0
ap_tramp_efer:
	.long	0
ap_tramp_end:
	.code64

	.text
/* An AP in long mode: take the next AP stack and call ap_start(slot). */
ap_entry64:
	movl	$BOOT_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	$1, %eax
	lock xaddl %eax, ap_next_slot(%rip)
	movl	%eax, %edi
	incl	%eax
	shlq	$AP_STACK_SHIFT, %rax
	leaq	ap_stacks(%rip), %rsp
	addq	%rax, %rsp
	call	ap_start
4:	cli
	hlt
	jmp	4b

	.bss
	.balign	4096
bsp_stack:
	.skip	BSP_STACK_SIZE
	.globl	ap_stacks
ap_stacks:
	.skip	(AP_MAX << AP_STACK_SHIFT)
	.balign	4
ap_next_slot:
	.long	0

/* The page tables of startup_32: outside .bss, which startup_64 zeroes. */
	.section ".pgt", "aw", @nobits
	.balign	4096
boot_pgt:
	.skip	6 * 4096
