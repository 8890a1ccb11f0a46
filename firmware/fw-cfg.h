/*
 * QEMU's firmware configuration interface (fw_cfg), as SeaBIOS and OVMF read
 * it on a Q35 machine (docs/specs/fw_cfg.rst in QEMU):
 *
 *   0x510  selector (16 bits, write): picks an item, rewinds its offset
 *   0x511  data (8 bits): the next byte of the item, 0 past its end
 *   0x514  DMA address, big-endian 64 bits as two 32-bit halves; writing
 *          the low half (0x518) runs the request at that guest address:
 *          struct { be32 control; be32 length; be64 address; }
 *          control: ERROR 1, READ 2, SKIP 4, SELECT 8 (key in bits 31:16),
 *          WRITE 16; the device writes control back as 0 or ERROR.
 *
 * Items are numbered by key (FW_CFG_*); named files get keys from
 * FW_CFG_FILE_FIRST on and are listed in FW_CFG_FILE_DIR (big-endian count,
 * then 64-byte entries sorted by name). Integer items are little-endian.
 * Every guest address and length a DMA request names is checked against
 * guest RAM; a bad one sets ERROR, nothing else happens.
 */
#ifndef PTVM_FW_CFG_H
#define PTVM_FW_CFG_H

#include "vmm/bus.h"
#include "vmm/common.h"

struct vm;
struct mem_map;

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_UUID 0x02
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NOGRAPHIC 0x04
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MACHINE_ID 0x06
#define FW_CFG_KERNEL_ADDR 0x07
#define FW_CFG_KERNEL_SIZE 0x08
#define FW_CFG_KERNEL_CMDLINE 0x09
#define FW_CFG_INITRD_ADDR 0x0a
#define FW_CFG_INITRD_SIZE 0x0b
#define FW_CFG_BOOT_DEVICE 0x0c
#define FW_CFG_NUMA 0x0d
#define FW_CFG_BOOT_MENU 0x0e
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_KERNEL_ENTRY 0x10
#define FW_CFG_KERNEL_DATA 0x11
#define FW_CFG_INITRD_DATA 0x12
#define FW_CFG_CMDLINE_ADDR 0x13
#define FW_CFG_CMDLINE_SIZE 0x14
#define FW_CFG_CMDLINE_DATA 0x15
#define FW_CFG_SETUP_ADDR 0x16
#define FW_CFG_SETUP_SIZE 0x17
#define FW_CFG_SETUP_DATA 0x18
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_FILE_FIRST 0x20
#define FW_CFG_WRITE_CHANNEL 0x4000 /* selector bit: ignored, writes go through DMA */
#define FW_CFG_ARCH_LOCAL 0x8000
#define FW_CFG_E820_TABLE (FW_CFG_ARCH_LOCAL + 3)

#define FW_CFG_ID_TRADITIONAL 0x1
#define FW_CFG_ID_DMA 0x2

#define FW_CFG_DMA_ERROR 0x01
#define FW_CFG_DMA_READ 0x02
#define FW_CFG_DMA_SKIP 0x04
#define FW_CFG_DMA_SELECT 0x08
#define FW_CFG_DMA_WRITE 0x10

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_PORT_DMA_HI 0x514
#define FW_CFG_PORT_DMA_LO 0x518
#define FW_CFG_PORT_SIZE 12 /* 0x510 .. 0x51b */

#define FW_CFG_NAME_SIZE 56
#define FW_CFG_DIR_ENTRY_SIZE 64 /* be32 size, be16 select, be16 reserved, name */
#define FW_CFG_MAX_ITEMS 96
#define FW_CFG_DMA_SIGNATURE "QEMU CFG" /* what reads of 0x514..0x51b return */

struct fw_cfg_item {
	u16 key;
	char name[FW_CFG_NAME_SIZE]; /* "" for numbered items */
	u8 *data;                    /* malloc'd, owned by the item */
	u32 size;
	bool writable;               /* DMA WRITE may change it */
};

struct fw_cfg {
	struct mem_map *mem;  /* guest RAM, for DMA */
	struct bus *bus;      /* NULL until fw_cfg_register() */
	struct bus_region region;
	struct fw_cfg_item items[FW_CFG_MAX_ITEMS];
	int nr;
	u16 next_file_key;
	int cur;              /* index of the selected item, -1 if none */
	u32 offset;           /* read position in it */
	u32 dma_hi;           /* high half of the DMA address, until the low half comes */
	u8 *dir;              /* FW_CFG_FILE_DIR contents, rebuilt on every file added */
	u32 dir_size;
};

/* An empty device with the signature, ID (traditional + DMA) and an empty
 * file directory. mem is where DMA requests read and write. 0 or -ENOMEM. */
int fw_cfg_init(struct fw_cfg *f, struct mem_map *mem);
/* Free every item (and unregister if registered). */
void fw_cfg_destroy(struct fw_cfg *f);
/* Claim ports 0x510..0x51b on the VM's bus. */
int fw_cfg_register(struct fw_cfg *f, struct vm *vm);

/* Add (or replace) numbered item key with a copy of size bytes. 0, -ENOSPC, -ENOMEM. */
int fw_cfg_add_bytes(struct fw_cfg *f, u16 key, const void *data, u32 size);
int fw_cfg_add_u16(struct fw_cfg *f, u16 key, u16 v);
int fw_cfg_add_u32(struct fw_cfg *f, u16 key, u32 v);
int fw_cfg_add_u64(struct fw_cfg *f, u16 key, u64 v);
/* Add a named file (a copy of size bytes); its key is the next free one from
 * FW_CFG_FILE_FIRST. -EEXIST if the name is taken, -ENAMETOOLONG if it has
 * more than FW_CFG_NAME_SIZE - 1 characters. */
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, u32 size);
/* Mark a file writable by DMA WRITE (e.g. for the firmware to report back). */
int fw_cfg_set_writable(struct fw_cfg *f, const char *name);
/* The item with this key or file name, or NULL. */
const struct fw_cfg_item *fw_cfg_find(const struct fw_cfg *f, u16 key);
const struct fw_cfg_item *fw_cfg_find_file(const struct fw_cfg *f, const char *name);

/* The guest interface without the bus, for tests and the bus callback. */
void fw_cfg_select(struct fw_cfg *f, u16 selector);
u8 fw_cfg_read_byte(struct fw_cfg *f);
/* Run the DMA request whose control structure is at guest address gpa. */
void fw_cfg_dma(struct fw_cfg *f, u64 gpa);

#endif
