/*
 * Ports that guests write for delay or progress and nobody needs to hear:
 * 0x80 (POST codes; Linux's io_delay) and 0xED (alternative io_delay).
 * Claiming them keeps --trace-unhandled quiet about harmless traffic.
 * Writes are dropped; reads return 0xFF, like an empty ISA bus.
 */
#ifndef PTVM_PORT_SINKS_H
#define PTVM_PORT_SINKS_H

struct vm;
struct port_sinks;

#define PORT_POST_CODE 0x80
#define PORT_IO_DELAY_ALT 0xed

/* NULL on error (logged). */
struct port_sinks *port_sinks_create(struct vm *vm);
void port_sinks_destroy(struct port_sinks *p);

#endif
