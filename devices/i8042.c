/*
 * 8042 PS/2 controller without devices. Controller logic first (pure), then
 * the glue for ports 0x60/0x64, IRQs 1 and 12, and reset.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/i8042.h"
#include "vmm/log.h"
#include "vmm/vm.h"

/* Controller commands (port 0x64). */
#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE 0xa8
#define CMD_AUX_TEST 0xa9
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE 0xae
#define CMD_READ_INPUT 0xc0
#define CMD_READ_OUTP 0xd0
#define CMD_WRITE_OUTP 0xd1
#define CMD_KBD_LOOP 0xd2
#define CMD_AUX_LOOP 0xd3
#define CMD_AUX_SEND 0xd4
#define CMD_A20_OFF 0xdd
#define CMD_A20_ON 0xdf
#define CMD_PULSE 0xf0 /* 0xf0-0xff: pulse output port bits 0-3 that are 0 */

#define PS2_NO_DEVICE 0xfe

/* ---- controller logic ---- */

// Power-on state: both ports enabled with interrupts, A20 on, reset inactive.
void i8042_regs_init(struct i8042_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->ctr = I8042_CTR_KBDINT | I8042_CTR_AUXINT | I8042_CTR_SYS;
	r->outport = I8042_OUTP_RESET | I8042_OUTP_A20;
	r->status = I8042_STR_UNLOCKED | I8042_STR_SYS;
}

// Place a byte in the output buffer, from the keyboard or the aux port.
static void i8042_put(struct i8042_regs *r, u8 byte, bool aux, bool timeout)
{
	r->out = byte;
	r->status &= ~(I8042_STR_AUXDATA | I8042_STR_TIMEOUT);
	r->status |= I8042_STR_OBF;
	if (aux)
		r->status |= I8042_STR_AUXDATA;
	if (timeout)
		r->status |= I8042_STR_TIMEOUT;
}

// IRQ lines asserted: a full output buffer whose port has interrupts on.
unsigned int i8042_regs_irq(const struct i8042_regs *r)
{
	if (!(r->status & I8042_STR_OBF))
		return 0;
	if (r->status & I8042_STR_AUXDATA)
		return (r->ctr & I8042_CTR_AUXINT) ? I8042_IRQ_LINE_AUX : 0;
	return (r->ctr & I8042_CTR_KBDINT) ? I8042_IRQ_LINE_KBD : 0;
}

// Status (0x64) or output buffer (0x60); reading data empties the buffer.
u8 i8042_regs_read(struct i8042_regs *r, bool cmd_port)
{
	if (cmd_port)
		return r->status;
	/* an empty buffer reads its last byte again, as the chip does */
	r->status &= ~(I8042_STR_OBF | I8042_STR_AUXDATA | I8042_STR_TIMEOUT);
	return r->out;
}

// Data byte for a command that takes one.
static enum i8042_action i8042_data(struct i8042_regs *r, u8 cmd, u8 val)
{
	switch (cmd) {
	case CMD_WRITE_CTR:
		r->ctr = val;
		r->status = (r->status & ~I8042_STR_SYS) | (val & I8042_CTR_SYS);
		break;
	case CMD_WRITE_OUTP:
		r->outport = val;
		if (!(val & I8042_OUTP_RESET))
			return I8042_ACT_RESET;
		break;
	case CMD_KBD_LOOP:
		i8042_put(r, val, false, false);
		break;
	case CMD_AUX_LOOP:
		i8042_put(r, val, true, false);
		break;
	case CMD_AUX_SEND:
		i8042_put(r, PS2_NO_DEVICE, true, true); /* no mouse answers */
		break;
	default:
		break; /* 0x61-0x7f: internal RAM, not kept */
	}
	return I8042_ACT_NONE;
}

// A controller command written to port 0x64.
static enum i8042_action i8042_command(struct i8042_regs *r, u8 cmd)
{
	if (cmd >= CMD_PULSE)
		return (cmd & I8042_OUTP_RESET) ? I8042_ACT_NONE : I8042_ACT_RESET;
	if ((cmd >= CMD_WRITE_CTR && cmd < 0x80) || cmd == CMD_WRITE_OUTP ||
	    cmd == CMD_KBD_LOOP || cmd == CMD_AUX_LOOP || cmd == CMD_AUX_SEND) {
		r->pending = cmd;
		return I8042_ACT_NONE;
	}
	switch (cmd) {
	case CMD_READ_CTR:
		i8042_put(r, r->ctr, false, false);
		break;
	case CMD_AUX_DISABLE:
		r->ctr |= I8042_CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		r->ctr &= ~I8042_CTR_AUXDIS;
		break;
	case CMD_AUX_TEST:
	case CMD_KBD_TEST:
		i8042_put(r, 0x00, false, false); /* interface OK */
		break;
	case CMD_SELF_TEST:
		r->status |= I8042_STR_SYS;
		i8042_put(r, 0x55, false, false);
		break;
	case CMD_KBD_DISABLE:
		r->ctr |= I8042_CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		r->ctr &= ~I8042_CTR_KBDDIS;
		break;
	case CMD_READ_INPUT:
		i8042_put(r, 0x00, false, false);
		break;
	case CMD_READ_OUTP:
		i8042_put(r, r->outport, false, false);
		break;
	case CMD_A20_OFF:
		r->outport &= ~I8042_OUTP_A20;
		break;
	case CMD_A20_ON:
		r->outport |= I8042_OUTP_A20;
		break;
	default:
		if (cmd > CMD_READ_CTR && cmd < CMD_WRITE_CTR)
			i8042_put(r, 0x00, false, false); /* internal RAM reads as 0 */
		break;
	}
	return I8042_ACT_NONE;
}

// A command (0x64) or data byte (0x60); returns I8042_ACT_RESET for a reset.
enum i8042_action i8042_regs_write(struct i8042_regs *r, bool cmd_port, u8 val)
{
	u8 cmd = r->pending;

	r->pending = 0;
	if (cmd_port) {
		r->status |= I8042_STR_CMD;
		return i8042_command(r, val);
	}
	r->status &= ~I8042_STR_CMD;
	if (cmd)
		return i8042_data(r, cmd, val);
	/* a byte for the keyboard: nobody answers */
	i8042_put(r, PS2_NO_DEVICE, false, true);
	return I8042_ACT_NONE;
}

/* ---- glue ---- */

struct i8042 {
	struct vm *vm;
	struct bus_region data, cmd;
	struct i8042_regs regs;
	unsigned int lines; /* I8042_IRQ_LINE_* currently raised */
};

// Bring IRQ 1 and IRQ 12 to the controller's levels. vm->lock held.
static void i8042_update_irq(struct i8042 *k)
{
	unsigned int now = i8042_regs_irq(&k->regs), diff = now ^ k->lines;

	if (diff & I8042_IRQ_LINE_KBD)
		irq_line(k->vm, IRQ_KBD, !!(now & I8042_IRQ_LINE_KBD));
	if (diff & I8042_IRQ_LINE_AUX)
		irq_line(k->vm, I8042_IRQ_AUX, !!(now & I8042_IRQ_LINE_AUX));
	k->lines = now;
}

// Bus callback for both ports (each region is one byte; only data[0] counts).
static void i8042_access(void *opaque, struct bus_access *a)
{
	struct i8042 *k = opaque;
	bool cmd_port = a->addr == PORT_I8042_CMD;

	if (a->is_write) {
		if (i8042_regs_write(&k->regs, cmd_port, a->data[0]) == I8042_ACT_RESET) {
			pr_info("i8042: guest reset through the keyboard controller");
			vm_stop(k->vm, VM_STOP_RESET, 0);
		}
	} else {
		a->data[0] = i8042_regs_read(&k->regs, cmd_port);
		memset(a->data + 1, 0xff, a->len - 1);
	}
	i8042_update_irq(k);
}

// Register ports 0x60 and 0x64.
struct i8042 *i8042_create(struct vm *vm)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	int ret;

	if (!k) {
		pr_err("i8042: out of memory");
		return NULL;
	}
	k->vm = vm;
	i8042_regs_init(&k->regs);
	k->data = (struct bus_region){
		.name = "i8042-data", .space = BUS_PIO, .base = PORT_I8042_DATA, .size = 1,
		.access = i8042_access, .opaque = k,
	};
	k->cmd = k->data;
	k->cmd.name = "i8042-cmd";
	k->cmd.base = PORT_I8042_CMD;
	ret = bus_register_all(&vm->bus, (struct bus_region *[]){ &k->data, &k->cmd }, 2);
	if (!ret)
		return k;
	pr_err("i8042: ports 0x60/0x64 are taken (%s)", strerror(-ret));
	free(k);
	return NULL;
}

// Unregister both ports.
void i8042_destroy(struct i8042 *k)
{
	if (!k)
		return;
	bus_unregister_all(&k->vm->bus, (struct bus_region *[]){ &k->data, &k->cmd }, 2);
	free(k);
}
