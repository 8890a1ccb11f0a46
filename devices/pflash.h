/*
 * A CFI parallel flash (Intel command set, 8 bits wide) as OVMF drives it
 * through QemuFlashFvbServicesRuntimeDxe: read array (0xff/0x00), read
 * status (0x70), clear status (0x50), program byte (0x10/0x40 then the
 * byte), block erase (0x20 then 0xd0), read ID (0x90) and CFI query (0x98).
 *
 * The contents are a host mapping (the vars file, MAP_SHARED) put in the
 * guest as a KVM read-only memory slot while the flash is in read-array mode,
 * so reads need no exit and writes exit to this device. Any command that
 * changes what reads return (status, ID, CFI) removes the slot until the
 * guest returns to read-array mode, so those reads exit too. Programmed and
 * erased bytes go to the mapping and are synced to the file when the guest
 * returns to read-array mode and on destroy.
 *
 * A read-only flash (the OVMF code) keeps its slot and ignores commands.
 */
#ifndef PTVM_PFLASH_H
#define PTVM_PFLASH_H

#include "vmm/bus.h"
#include "vmm/common.h"

struct vm;

#define PFLASH_SECTOR_SIZE 4096 /* erase block, as QEMU's PC flash */

enum pflash_mode { PFLASH_ARRAY, PFLASH_STATUS, PFLASH_ID, PFLASH_CFI };

struct pflash {
	struct vm *vm;
	const char *name;
	u64 gpa, size;
	u8 *mem;          /* size bytes, the caller's mapping */
	int fd;           /* file to fsync after writes, -1 if none */
	bool readonly;
	enum pflash_mode mode;
	u8 pending;       /* 0x10/0x40 (program) or 0x20 (erase) awaiting its 2nd cycle, else 0 */
	u8 status;        /* bit 7 ready, bit 5 erase error, bit 4 program error */
	bool mapped;      /* the KVM slot is present */
	bool dirty;       /* written since the last sync */
	struct bus_region region;
};

/* Map mem (size: a multiple of PFLASH_SECTOR_SIZE and of the page size) at
 * gpa as a read-only memory slot and claim the same range for writes. 0 or
 * -errno (logged). fd is kept for syncing, not closed. */
int pflash_init(struct pflash *p, struct vm *vm, const char *name, u64 gpa, u8 *mem, u64 size,
		int fd, bool readonly);
/* Sync, unmap the slot and unregister. */
void pflash_destroy(struct pflash *p);

#endif
