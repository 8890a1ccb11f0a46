/*
 * Firmware debug console (QEMU isa-debugcon): every write to the port sends
 * its low byte to an fd (SeaBIOS and OVMF debug logs; --debugcon file:PATH).
 * Reads return 0xE9, the value firmware probes for. Output is buffered per
 * line and flushed at newline, when the buffer fills and on destroy.
 */
#ifndef PTVM_DEBUGCON_H
#define PTVM_DEBUGCON_H

#include "vmm/common.h"

struct vm;
struct debugcon;

#define DEBUGCON_READBACK 0xe9

/* Claim port; fd -1 drops the bytes. The fd stays the caller's. NULL on error. */
struct debugcon *debugcon_create(struct vm *vm, u16 port, int fd);
/* Flush and unregister. NULL is fine. */
void debugcon_destroy(struct debugcon *d);

#endif
