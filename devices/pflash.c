/*
 * CFI flash (see pflash.h). The command state machine runs under vm->lock
 * (bus callback); slot changes happen there too, from the vCPU that wrote.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/pflash.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define CMD_READ_ARRAY 0xff
#define CMD_READ_ARRAY0 0x00
#define CMD_PROGRAM 0x10
#define CMD_PROGRAM_ALT 0x40
#define CMD_ERASE 0x20
#define CMD_ERASE_CONFIRM 0xd0
#define CMD_CLEAR_STATUS 0x50
#define CMD_READ_STATUS 0x70
#define CMD_READ_ID 0x90
#define CMD_CFI_QUERY 0x98

#define STATUS_READY 0x80
#define STATUS_ERASE_ERR 0x20
#define STATUS_PROGRAM_ERR 0x10

// Put the slot in or take it out so reads go to memory (array mode) or exit to us.
static void set_mapped(struct pflash *p, bool map)
{
	struct mem_region r = {
		.name = p->name, .gpa = p->gpa, .size = p->size, .hva = p->mem, .kind = MEM_ROM,
	};
	int ret = 0;

	if (map == p->mapped)
		return;
	ret = map ? mem_add(&p->vm->mem, &r) : mem_del(&p->vm->mem, p->gpa);
	if (ret) {
		pr_warn("%s: cannot %s the flash memory slot: %s", p->name, map ? "add" : "remove",
			strerror(-ret));
		return;
	}
	p->mapped = map;
}

// Write what changed back to the file.
static void sync_file(struct pflash *p)
{
	if (!p->dirty)
		return;
	if (msync(p->mem, p->size, MS_SYNC) < 0 || (p->fd >= 0 && fsync(p->fd) < 0))
		pr_warn("%s: cannot write the flash back to its file: %s", p->name, strerror(errno));
	p->dirty = false;
}

// Change mode; read-array puts the slot back and makes the writes durable.
static void set_mode(struct pflash *p, enum pflash_mode m)
{
	p->mode = m;
	p->pending = 0;
	if (m == PFLASH_ARRAY)
		sync_file(p);
	set_mapped(p, m == PFLASH_ARRAY);
}

// One byte of the CFI query structure (byte-wide device, offsets as in the spec).
static u8 cfi_byte(const struct pflash *p, u64 off)
{
	u32 blocks = (u32)(p->size / PFLASH_SECTOR_SIZE) - 1;
	u8 log2size = 0;

	while ((1ULL << log2size) < p->size)
		log2size++;
	switch (off & 0xff) {
	case 0x10: return 'Q';
	case 0x11: return 'R';
	case 0x12: return 'Y';
	case 0x13: return 0x01; /* primary command set: Intel/Sharp extended */
	case 0x15: return 0x31; /* primary extended table at 0x31 */
	case 0x1b: return 0x45; /* Vcc min 4.5 V */
	case 0x1c: return 0x55; /* Vcc max 5.5 V */
	case 0x1f: return 0x07; /* typical byte program: 2^7 us */
	case 0x21: return 0x0a; /* typical block erase: 2^10 ms */
	case 0x23: return 0x04;
	case 0x25: return 0x04;
	case 0x27: return log2size;
	case 0x28: return 0x00; /* interface: x8 */
	case 0x2c: return 0x01; /* one erase block region */
	case 0x2d: return (u8)blocks;
	case 0x2e: return (u8)(blocks >> 8);
	case 0x2f: return (u8)(PFLASH_SECTOR_SIZE >> 8);
	case 0x30: return (u8)(PFLASH_SECTOR_SIZE >> 16);
	case 0x31: return 'P';
	case 0x32: return 'R';
	case 0x33: return 'I';
	case 0x34: return '1';
	case 0x35: return '0';
	default: return 0;
	}
}

// What a read of the byte at off returns in the current mode.
static u8 read_byte(const struct pflash *p, u64 off)
{
	switch (p->mode) {
	case PFLASH_STATUS:
		return p->status;
	case PFLASH_ID:
		return (off & 1) ? 0x18 : 0x89; /* Intel, 28F128J3-like */
	case PFLASH_CFI:
		return cfi_byte(p, off);
	case PFLASH_ARRAY:
	default:
		return p->mem[off];
	}
}

// Second cycle of a program command: store len bytes. Real flash can only
// clear bits; QEMU stores the value as written and OVMF is tested against that.
static void program(struct pflash *p, u64 off, const u8 *data, u32 len)
{
	if (p->readonly || off + len > p->size) {
		p->status |= STATUS_PROGRAM_ERR;
		return;
	}
	memcpy(p->mem + off, data, len);
	p->dirty = true;
}

// Second cycle of an erase command: the sector holding off becomes all ones.
static void erase(struct pflash *p, u64 off)
{
	u64 start = ALIGN_DOWN(off, PFLASH_SECTOR_SIZE);

	memset(p->mem + start, 0xff, PFLASH_SECTOR_SIZE);
	p->dirty = true;
}

// A command byte (first bus cycle).
static void command(struct pflash *p, u8 cmd)
{
	switch (cmd) {
	case CMD_READ_ARRAY:
	case CMD_READ_ARRAY0:
		set_mode(p, PFLASH_ARRAY);
		break;
	case CMD_PROGRAM:
	case CMD_PROGRAM_ALT:
	case CMD_ERASE:
		set_mode(p, PFLASH_STATUS);
		p->pending = cmd;
		break;
	case CMD_CLEAR_STATUS:
		p->status = 0;
		set_mode(p, PFLASH_ARRAY);
		break;
	case CMD_READ_STATUS:
		set_mode(p, PFLASH_STATUS);
		break;
	case CMD_READ_ID:
		set_mode(p, PFLASH_ID);
		break;
	case CMD_CFI_QUERY:
		set_mode(p, PFLASH_CFI);
		break;
	default:
		pr_debug("%s: unknown command 0x%02x", p->name, cmd);
		set_mode(p, PFLASH_ARRAY);
	}
}

// Bus callback: reads in non-array modes, and every write.
static void pflash_access(void *opaque, struct bus_access *a)
{
	struct pflash *p = opaque;
	u8 pending = p->pending;

	if (a->offset >= p->size || a->len > p->size - a->offset) {
		if (!a->is_write)
			memset(a->data, 0xff, a->len);
		return;
	}
	if (!a->is_write) {
		for (u32 i = 0; i < a->len; i++)
			a->data[i] = read_byte(p, a->offset + i);
		return;
	}
	if (p->readonly)
		return;
	if (pending == CMD_PROGRAM || pending == CMD_PROGRAM_ALT) {
		program(p, a->offset, a->data, a->len);
		p->pending = 0;
		p->status |= STATUS_READY;
		return; /* stays in status mode until the guest asks for the array */
	}
	if (pending == CMD_ERASE) {
		p->pending = 0;
		if (a->data[0] == CMD_ERASE_CONFIRM)
			erase(p, a->offset);
		else
			p->status |= STATUS_ERASE_ERR | STATUS_PROGRAM_ERR;
		p->status |= STATUS_READY;
		return;
	}
	command(p, a->data[0]);
}

// Map the flash and claim its range.
int pflash_init(struct pflash *p, struct vm *vm, const char *name, u64 gpa, u8 *mem, u64 size,
		int fd, bool readonly)
{
	int ret;

	memset(p, 0, sizeof(*p));
	p->vm = vm;
	p->name = name;
	p->gpa = gpa;
	p->size = size;
	p->mem = mem;
	p->fd = fd;
	p->readonly = readonly;
	p->status = STATUS_READY;
	p->mode = PFLASH_ARRAY;
	if (!size || size % PFLASH_SECTOR_SIZE || size % (u64)sysconf(_SC_PAGESIZE)) {
		pr_err("%s: flash size %llu is not a multiple of %d bytes: use an unmodified firmware file",
		       name, (unsigned long long)size, PFLASH_SECTOR_SIZE);
		p->vm = NULL;
		return -EINVAL;
	}
	p->region = (struct bus_region){
		.name = name, .space = BUS_MMIO, .base = gpa, .size = size,
		.access = pflash_access, .opaque = p,
	};
	ret = bus_register(&vm->bus, &p->region);
	if (ret) {
		pr_err("%s: 0x%llx+0x%llx overlaps another device", name, (unsigned long long)gpa,
		       (unsigned long long)size);
		p->vm = NULL;
		return ret;
	}
	set_mapped(p, true);
	if (!p->mapped) {
		bus_unregister(&vm->bus, &p->region);
		p->vm = NULL;
		return -EIO;
	}
	return 0;
}

// Make writes durable, unmap and unregister.
void pflash_destroy(struct pflash *p)
{
	if (!p->vm)
		return;
	sync_file(p);
	set_mapped(p, false);
	bus_unregister(&p->vm->bus, &p->region);
	p->vm = NULL;
}
