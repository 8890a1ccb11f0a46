/*
 * Interrupts: KVM GSI routing, irqfds and KVM_IRQ_LINE.
 *
 * irq.c owns the whole routing table because KVM_SET_GSI_ROUTING replaces it:
 * it starts with the default ISA/IOAPIC routes (GSI n -> IOAPIC pin n, and the
 * PIC for n < 16), callers stage changes and then commit once.
 * GSIs 0..23 are the IOAPIC pins; MSI routes get GSIs from 24 up.
 */
#ifndef PTVM_IRQ_H
#define PTVM_IRQ_H

#include "vmm/common.h"

struct vm;
struct kvm_irq_routing_entry;

#define IRQ_IOAPIC_PINS 24

struct irq_table {
	struct kvm_irq_routing_entry *entries;
	int nr, cap;
	u8 *gsi_used; /* bitmap of allocated GSIs >= IRQ_IOAPIC_PINS */
	int max_gsi;  /* KVM_CAP_IRQ_ROUTING */
};

int irq_init(struct vm *vm);
void irq_destroy(struct vm *vm);
int irq_gsi_alloc(struct vm *vm);           /* >= 24, or -ENOSPC */
void irq_gsi_free(struct vm *vm, int gsi);  /* also drops its staged route */
int irq_route_msi(struct vm *vm, int gsi, u64 addr, u32 data); /* stage */
void irq_route_del(struct vm *vm, int gsi); /* stage */
int irq_commit(struct vm *vm);              /* one KVM_SET_GSI_ROUTING */
/* resample_fd < 0: edge-triggered irqfd. With resample_fd, level-triggered
 * (INTx): KVM lowers the line on EOI and signals resample_fd. */
int irq_irqfd_add(struct vm *vm, int gsi, int trigger_fd, int resample_fd);
int irq_irqfd_del(struct vm *vm, int gsi, int trigger_fd);
/* Drive an IOAPIC/PIC line from an emulated device (KVM_IRQ_LINE). */
void irq_line(struct vm *vm, int gsi, int level);
/* Pulse an edge-triggered ISA line (raise then lower). */
void irq_pulse(struct vm *vm, int gsi);

#endif
