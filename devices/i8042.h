/*
 * The PS/2 (8042) keyboard controller at 0x60 (data) and 0x64 (status and
 * command), with no keyboard or mouse behind it. It does what firmware and
 * Linux's i8042 driver ask of the controller itself: self-test (0xAA ->
 * 0x55), port tests, the command byte (0x20/0x60), port enables, the output
 * port (0xD0/0xD1), echo commands (0xD2/0xD3), and CPU reset (0xFE, or 0xD1
 * with bit 0 clear). Bytes sent to the keyboard or mouse come back as 0xFE
 * with the timeout bit set (no device answered), so driver probes fail
 * quickly. Output-buffer interrupts go to IRQ 1 (keyboard) and IRQ 12 (aux)
 * when the command byte enables them.
 *
 * struct i8042_regs is the pure controller; the glue maps actions to
 * vm_stop() and the IRQ lines.
 */
#ifndef PTVM_I8042_H
#define PTVM_I8042_H

#include "vmm/common.h"

struct vm;
struct i8042;

#define I8042_IRQ_AUX 12

#define I8042_STR_OBF 0x01
#define I8042_STR_IBF 0x02
#define I8042_STR_SYS 0x04
#define I8042_STR_CMD 0x08 /* last write went to the command port */
#define I8042_STR_UNLOCKED 0x10
#define I8042_STR_AUXDATA 0x20
#define I8042_STR_TIMEOUT 0x40

#define I8042_CTR_KBDINT 0x01
#define I8042_CTR_AUXINT 0x02
#define I8042_CTR_SYS 0x04
#define I8042_CTR_KBDDIS 0x10
#define I8042_CTR_AUXDIS 0x20
#define I8042_CTR_XLATE 0x40

#define I8042_OUTP_RESET 0x01 /* active low: clearing it resets the CPU */
#define I8042_OUTP_A20 0x02

#define I8042_IRQ_LINE_KBD 0x01 /* i8042_regs_irq() bits */
#define I8042_IRQ_LINE_AUX 0x02

struct i8042_regs {
	u8 ctr;     /* controller command byte */
	u8 outport;
	u8 out;     /* output buffer, valid while status has OBF */
	u8 status;
	u8 pending; /* command waiting for its data byte, 0 if none */
};

enum i8042_action { I8042_ACT_NONE, I8042_ACT_RESET };

void i8042_regs_init(struct i8042_regs *r);
/* cmd_port: 0x64 rather than 0x60. */
u8 i8042_regs_read(struct i8042_regs *r, bool cmd_port);
enum i8042_action i8042_regs_write(struct i8042_regs *r, bool cmd_port, u8 val);
/* Which IRQ lines are asserted (I8042_IRQ_LINE_* bits). */
unsigned int i8042_regs_irq(const struct i8042_regs *r);

/* Claim 0x60 and 0x64. NULL on error (logged). */
struct i8042 *i8042_create(struct vm *vm);
void i8042_destroy(struct i8042 *k);

#endif
