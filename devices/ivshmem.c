/*
 * ivshmem-plain (see ivshmem.h). The config space is plain emulated storage
 * (devices/pci/config.c); after every guest write that touched the command
 * register or a BAR, bars_update() makes the two mappings match it again.
 * Invariant: regs_mapped / shm_mapped are true exactly when the bus region /
 * memory region is registered, at regs.base / shm_gpa.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/ivshmem.h"
#include "vmm/log.h"
#include "vmm/memory.h"
#include "vmm/vm.h"

// Open or create the shared file and give it the wanted size.
int ivshmem_open_file(const char *path, u64 size)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	int ret;

	if (fd < 0) {
		ret = -errno;
		pr_err("ivshmem: cannot open %s for reading and writing: %s: check the path and its "
		       "permissions", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		pr_err("ivshmem: cannot stat %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		pr_err("ivshmem: %s is not a regular file: give a file, e.g. /dev/shm/looking-glass",
		       path);
		goto out;
	}
	/* an empty file (new, or made by systemd-tmpfiles as Looking Glass suggests) is grown */
	if (st.st_size == 0 && ftruncate(fd, (off_t)size)) {
		ret = -errno;
		pr_err("ivshmem: cannot make %s %" PRIu64 " MiB: %s", path, (u64)(size / MiB), strerror(errno));
		goto out;
	}
	if (st.st_size != 0 && (u64)st.st_size != size) {
		ret = -EINVAL;
		pr_err("ivshmem: %s is %lld bytes, not size=%" PRIu64 "M: give its size or remove the "
		       "file", path, (long long)st.st_size, (u64)(size / MiB));
		goto out;
	}
	return fd;
out:
	close(fd);
	return ret;
}

// BAR0 as QEMU's: interrupt mask and status are storage (a read of the
// status clears it), IV position and doorbell read 0; 32-bit accesses only.
// There is no interrupt to raise: no pin, no MSI-X, no peers.
static void regs_access(void *opaque, struct bus_access *a)
{
	struct ivshmem *s = opaque;
	u32 val = 0;

	if (a->len != 4 || a->offset > IVSHMEM_REG_SIZE - 4 || (a->offset & 3)) {
		if (!a->is_write)
			memset(a->data, 0, a->len);
		return;
	}
	if (a->is_write) {
		memcpy(&val, a->data, 4);
		if (a->offset == IVSHMEM_REG_INTRMASK)
			s->intr_mask = val;
		else if (a->offset == IVSHMEM_REG_INTRSTATUS)
			s->intr_status = val;
		return;
	}
	if (a->offset == IVSHMEM_REG_INTRMASK) {
		val = s->intr_mask;
	} else if (a->offset == IVSHMEM_REG_INTRSTATUS) {
		val = s->intr_status;
		s->intr_status = 0;
	}
	memcpy(a->data, &val, 4);
}

// Make BAR0's bus region follow the config space.
static void regs_update(struct ivshmem *s)
{
	u64 addr;
	bool live = pci_cfg_bar_live(&s->cfg, IVSHMEM_REG_BAR, &addr);
	int ret;

	if (s->regs_mapped && live && s->regs.base == addr)
		return;
	if (s->regs_mapped) {
		bus_unregister(&s->vm->bus, &s->regs);
		s->regs_mapped = false;
	}
	if (!live)
		return;
	s->regs.base = addr;
	ret = bus_register(&s->vm->bus, &s->regs);
	if (ret)
		pr_debug("%s: BAR0 not mapped at 0x%" PRIx64 ": %s", s->name, addr, strerror(-ret));
	else
		s->regs_mapped = true;
}

// Make BAR2's memory region follow the config space.
static void shm_update(struct ivshmem *s)
{
	struct mem_map *mem = &s->vm->mem;
	u64 addr, limit = 1ULL << s->vm->layout.phys_bits;
	bool live = pci_cfg_bar_live(&s->cfg, IVSHMEM_SHM_BAR, &addr);
	int ret;

	/* a half-programmed or sizing 64-bit BAR may point past what the guest
	 * can address (all ones even wraps around: compare without adding) */
	if (live && (addr >= limit || s->size > limit - addr))
		live = false;
	if (s->shm_mapped && live && s->shm_gpa == addr)
		return;
	if (s->shm_mapped) {
		mem_del(mem, s->shm_gpa);
		s->shm_mapped = false;
	}
	if (!live)
		return;
	ret = mem_add(mem, &(struct mem_region){
		.name = s->name, .gpa = addr, .size = s->size, .hva = s->shm,
		.kind = MEM_DEVICE, .slot = -1,
	});
	if (ret) {
		pr_debug("%s: BAR2 not mapped at 0x%" PRIx64 ": %s", s->name, addr, strerror(-ret));
		return;
	}
	s->shm_gpa = addr;
	s->shm_mapped = true;
}

// Both BARs.
static void bars_update(struct ivshmem *s)
{
	regs_update(s);
	shm_update(s);
}

// Config read: plain storage.
static u32 ivshmem_cfg_read(struct pci_dev *d, u16 off, int len)
{
	struct ivshmem *s = d->opaque;

	return pci_cfg_read(&s->cfg, off, len);
}

// Config write: storage; a BAR or the decode bit changed means remapping.
static void ivshmem_cfg_write(struct pci_dev *d, u16 off, int len, u32 val)
{
	struct ivshmem *s = d->opaque;

	if (pci_cfg_write(&s->cfg, off, len, val))
		bars_update(s);
}

// The header and BARs as QEMU's ivshmem-plain shows them.
static int cfg_build(struct ivshmem *s)
{
	static const struct pci_cfg_id id = {
		.vendor = IVSHMEM_VENDOR,
		.device = IVSHMEM_DEVICE,
		.class_code = IVSHMEM_CLASS,
		.revision = IVSHMEM_REVISION,
		.header_type = PCI_HEADER_TYPE_NORMAL,
		.subsys_vendor = IVSHMEM_SUBSYS_VENDOR,
		.subsys_id = IVSHMEM_SUBSYS_ID,
	};
	int ret;

	pci_cfg_init(&s->cfg, &id);
	ret = pci_cfg_add_bar(&s->cfg, IVSHMEM_REG_BAR, PCI_BAR_MEM32, IVSHMEM_REG_SIZE, false);
	if (!ret)
		ret = pci_cfg_add_bar(&s->cfg, IVSHMEM_SHM_BAR, PCI_BAR_MEM64, s->size, true);
	return ret;
}

// Place both BARs as firmware would and turn memory decode on.
static int bars_place(struct ivshmem *s)
{
	static const struct { int bar; enum pci_bar_kind kind; } b[2] = {
		{ IVSHMEM_REG_BAR, PCI_BAR_MEM32 }, { IVSHMEM_SHM_BAR, PCI_BAR_MEM64 },
	};

	for (int i = 0; i < 2; i++) {
		u64 size = i ? s->size : IVSHMEM_REG_SIZE;
		int ret = pci_alloc_bar(s->bus, b[i].kind, size, &s->setup_addr[i]);

		if (ret) {
			pr_err("%s: no room for BAR%d (%" PRIu64 " KiB) in the guest's PCI window: "
			       "give a smaller size=", s->name, b[i].bar, (u64)(size / KiB));
			return ret;
		}
		pci_cfg_set_bar_addr(&s->cfg, b[i].bar, s->setup_addr[i]);
	}
	pci_cfg_set(&s->cfg, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	bars_update(s);
	return 0;
}

// Create one device: file, config space, slot, BARs.
int ivshmem_create(struct vm *vm, struct pci_bus *bus, const struct shm_dev_config *c,
		   struct ivshmem **out)
{
	struct ivshmem *s = calloc(1, sizeof(*s));
	int ret;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->vm = vm;
	s->bus = bus;
	s->size = c->size;
	s->fd = -1;
	s->shm = MAP_FAILED;
	snprintf(s->name, sizeof(s->name), "ivshmem %s", c->path);
	s->regs = (struct bus_region){
		.name = s->name, .space = BUS_MMIO, .size = IVSHMEM_REG_SIZE,
		.access = regs_access, .opaque = s,
	};
	s->dev = (struct pci_dev){
		.name = s->name, .cfg_read = ivshmem_cfg_read, .cfg_write = ivshmem_cfg_write,
		.opaque = s,
	};
	ret = s->fd = ivshmem_open_file(c->path, c->size);
	if (ret < 0)
		goto fail;
	s->shm = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (s->shm == MAP_FAILED) {
		ret = -errno;
		pr_err("%s: cannot map %" PRIu64 " MiB: %s", s->name, (u64)(s->size / MiB), strerror(errno));
		goto fail;
	}
	ret = cfg_build(s);
	if (ret)
		goto fail;
	ret = pci_register(bus, &s->dev, c->slot, c->slot < 0 ? 0 : c->fn);
	if (ret) {
		if (c->slot < 0)
			pr_err("%s: no free PCI slot left: %s", s->name, strerror(-ret));
		else
			pr_err("%s: cannot use addr=%02x.%x: %s: give another addr=", s->name, c->slot,
			       c->fn, strerror(-ret));
		goto fail;
	}
	s->plugged = true;
	ret = bars_place(s);
	if (ret)
		goto fail;
	pr_debug("%s: %02x.%x, BAR0 0x%" PRIx64 ", BAR2 0x%" PRIx64 " (%" PRIu64 " MiB)", s->name,
		 s->dev.slot, s->dev.fn, s->setup_addr[0], s->setup_addr[1], (u64)(s->size / MiB));
	*out = s;
	return 0;
fail:
	ivshmem_destroy(s);
	return ret;
}

// Undo ivshmem_create in reverse order.
void ivshmem_destroy(struct ivshmem *s)
{
	if (!s)
		return;
	if (s->regs_mapped)
		bus_unregister(&s->vm->bus, &s->regs);
	if (s->shm_mapped)
		mem_del(&s->vm->mem, s->shm_gpa);
	if (s->setup_addr[0])
		pci_free_bar(s->bus, PCI_BAR_MEM32, s->setup_addr[0]);
	if (s->setup_addr[1])
		pci_free_bar(s->bus, PCI_BAR_MEM64, s->setup_addr[1]);
	if (s->plugged)
		pci_unregister(s->bus, &s->dev);
	if (s->shm != MAP_FAILED)
		munmap(s->shm, s->size);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

// Every --device ivshmem, after the passthrough devices took their slots.
int ivshmem_init(struct vm *vm, struct pci_bus *bus, struct ivshmem_set **out)
{
	const struct vm_config *c = vm->cfg;
	struct ivshmem_set *set;
	int ret;

	*out = NULL;
	if (!c->nr_shm)
		return 0;
	set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	for (int i = 0; i < c->nr_shm; i++) {
		ret = ivshmem_create(vm, bus, &c->shm[i], &set->devs[set->nr]);
		if (ret) {
			ivshmem_fini(set);
			return ret;
		}
		set->nr++;
	}
	*out = set;
	return 0;
}

// Destroy the devices, last first.
void ivshmem_fini(struct ivshmem_set *set)
{
	if (!set)
		return;
	while (set->nr > 0)
		ivshmem_destroy(set->devs[--set->nr]);
	free(set);
}
