/*
 * KVM interrupt routing. KVM_SET_GSI_ROUTING replaces the whole table, so
 * this file owns it: it begins with the routes KVM_CREATE_IRQCHIP installs
 * (GSI n -> IOAPIC pin n for n < 24, and -> the PIC for n < 16 except 2),
 * MSI routes are staged on top, and irq_commit() hands the table to KVM.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/irq.h"
#include "vmm/log.h"
#include "vmm/vm.h"

// Append one routing entry.
static int add_entry(struct irq_table *t, const struct kvm_irq_routing_entry *e)
{
	if (t->nr == t->cap) {
		int cap = t->cap ? t->cap * 2 : 64;
		struct kvm_irq_routing_entry *n = realloc(t->entries, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->entries = n;
		t->cap = cap;
	}
	t->entries[t->nr++] = *e;
	return 0;
}

// Stage a route from gsi to an irqchip pin.
static int route_pin(struct irq_table *t, u32 gsi, u32 chip, u32 pin)
{
	struct kvm_irq_routing_entry e = {
		.gsi = gsi,
		.type = KVM_IRQ_ROUTING_IRQCHIP,
		.u.irqchip = { .irqchip = chip, .pin = pin },
	};

	return add_entry(t, &e);
}

// Build the default table and learn how many GSIs KVM has.
int irq_init(struct vm *vm)
{
	struct irq_table *t = &vm->irq;
	int ret = 0;

	memset(t, 0, sizeof(*t));
	t->max_gsi = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING);
	if (t->max_gsi <= IRQ_IOAPIC_PINS)
		t->max_gsi = 1024;
	t->gsi_used = calloc((t->max_gsi + 7) / 8, 1);
	if (!t->gsi_used)
		return -ENOMEM;
	for (u32 gsi = 0; gsi < IRQ_IOAPIC_PINS && !ret; gsi++) {
		if (gsi < 16 && gsi != 2)
			ret = route_pin(t, gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
					gsi % 8);
		if (!ret)
			ret = route_pin(t, gsi, KVM_IRQCHIP_IOAPIC, gsi);
	}
	return ret;
}

// Free the table.
void irq_destroy(struct vm *vm)
{
	free(vm->irq.entries);
	free(vm->irq.gsi_used);
	memset(&vm->irq, 0, sizeof(vm->irq));
}

// Allocate a GSI above the IOAPIC pins for an MSI route.
int irq_gsi_alloc(struct vm *vm)
{
	struct irq_table *t = &vm->irq;

	for (int gsi = IRQ_IOAPIC_PINS; gsi < t->max_gsi; gsi++) {
		if (!(t->gsi_used[gsi / 8] & (1u << (gsi % 8)))) {
			t->gsi_used[gsi / 8] |= 1u << (gsi % 8);
			return gsi;
		}
	}
	return -ENOSPC;
}

// Give a GSI back, dropping its staged route.
void irq_gsi_free(struct vm *vm, int gsi)
{
	struct irq_table *t = &vm->irq;

	if (gsi < IRQ_IOAPIC_PINS || gsi >= t->max_gsi)
		return;
	irq_route_del(vm, gsi);
	t->gsi_used[gsi / 8] &= ~(1u << (gsi % 8));
}

// Stage an MSI route for gsi (replacing any earlier one).
int irq_route_msi(struct vm *vm, int gsi, u64 addr, u32 data)
{
	struct kvm_irq_routing_entry e = {
		.gsi = (u32)gsi,
		.type = KVM_IRQ_ROUTING_MSI,
		.u.msi = { .address_lo = (u32)addr, .address_hi = (u32)(addr >> 32), .data = data },
	};

	if (gsi < IRQ_IOAPIC_PINS)
		return -EINVAL;
	irq_route_del(vm, gsi);
	return add_entry(&vm->irq, &e);
}

// Stage removal of gsi's MSI route.
void irq_route_del(struct vm *vm, int gsi)
{
	struct irq_table *t = &vm->irq;

	if (gsi < IRQ_IOAPIC_PINS)
		return; /* the IOAPIC/PIC routes are permanent */
	for (int i = 0; i < t->nr; i++) {
		if (t->entries[i].gsi == (u32)gsi) {
			t->entries[i] = t->entries[--t->nr];
			i--;
		}
	}
}

// Hand the whole table to KVM.
int irq_commit(struct vm *vm)
{
	struct irq_table *t = &vm->irq;
	struct kvm_irq_routing *r;
	int ret;

	r = calloc(1, sizeof(*r) + t->nr * sizeof(r->entries[0]));
	if (!r)
		return -ENOMEM;
	r->nr = t->nr;
	memcpy(r->entries, t->entries, t->nr * sizeof(r->entries[0]));
	ret = ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, r);
	free(r);
	if (ret < 0) {
		ret = -errno;
		pr_err("KVM_SET_GSI_ROUTING: %s", strerror(errno));
	}
	return ret;
}

// Connect an eventfd to a GSI inside KVM.
int irq_irqfd_add(struct vm *vm, int gsi, int trigger_fd, int resample_fd)
{
	struct kvm_irqfd f = { .fd = (u32)trigger_fd, .gsi = (u32)gsi };

	if (resample_fd >= 0) {
		f.flags = KVM_IRQFD_FLAG_RESAMPLE;
		f.resamplefd = (u32)resample_fd;
	}
	if (ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0) {
		pr_err("KVM_IRQFD gsi %d: %s", gsi, strerror(errno));
		return -errno;
	}
	return 0;
}

// Disconnect an eventfd from its GSI.
int irq_irqfd_del(struct vm *vm, int gsi, int trigger_fd)
{
	struct kvm_irqfd f = { .fd = (u32)trigger_fd, .gsi = (u32)gsi, .flags = KVM_IRQFD_FLAG_DEASSIGN };

	if (ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0)
		return -errno;
	return 0;
}

// Set an interrupt line to level.
void irq_line(struct vm *vm, int gsi, int level)
{
	struct kvm_irq_level l = { .irq = (u32)gsi, .level = (u32)level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		pr_debug("KVM_IRQ_LINE %d: %s", gsi, strerror(errno));
}

// Raise and lower an edge-triggered line.
void irq_pulse(struct vm *vm, int gsi)
{
	irq_line(vm, gsi, 1);
	irq_line(vm, gsi, 0);
}
