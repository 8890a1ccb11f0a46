/*
 * An isa-debug-exit style port for test guests: a 1, 2 or 4-byte write of V
 * stops the VM with vm_stop(vm, VM_STOP_EXIT, V & 0xff), so ptvm exits with
 * status V & 0xff (the value itself, not QEMU's (V << 1) | 1). Reads return 0.
 * The port is --debug-exit-port (default 0xf4); the region is that one byte
 * (wider accesses start there, so they reach it whole).
 */
#ifndef PTVM_DEBUG_EXIT_H
#define PTVM_DEBUG_EXIT_H

#include "vmm/common.h"

struct vm;
struct debug_exit;

/* Exit status for a write of len bytes (little-endian) at data. */
int debug_exit_status(const u8 *data, u32 len);

/* Claim port. NULL on error (logged). */
struct debug_exit *debug_exit_create(struct vm *vm, u16 port);
void debug_exit_destroy(struct debug_exit *d);

#endif
