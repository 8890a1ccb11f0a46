/*
 * The machine: which devices a ptvm VM has and where they sit. The only
 * place that wires devices to ports, IRQs and PCI slots.
 */
#ifndef PTVM_MACHINE_H
#define PTVM_MACHINE_H

struct vm;

/* Create every device of the machine for vm->cfg. The error was printed. */
int machine_create(struct vm *vm);
/* Load the kernel, write the ACPI tables and set the boot vCPU (direct boot). */
int machine_boot(struct vm *vm);
/* Destroy the devices (flushes the serial output, restores the terminal). */
void machine_destroy(struct vm *vm);

#endif
