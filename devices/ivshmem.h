/*
 * ivshmem-plain: a PCI device whose BAR2 is a host file shared with the
 * guest (Looking Glass, guest/host ring buffers). It looks exactly like
 * QEMU's ivshmem-plain (1af4:1110, class 0x0500 RAM memory, revision 1,
 * subsystem 1af4:1100) so the guest drivers written for QEMU bind to it:
 *
 *   BAR0  256 bytes of registers, 32-bit, 32-bit accesses. As in QEMU the
 *         interrupt mask (0x0) and status (0x4, cleared by a read) are
 *         storage, IV position (0x8) and doorbell (0xC) read 0. No
 *         interrupt pin (QEMU 7.2's has none either), no capabilities
 *   BAR2  the file, 64-bit prefetchable, mapped straight into the guest with
 *         mem_add(MEM_DEVICE): guest accesses cause no exit
 *
 * Both BARs follow the guest's BAR programming and memory-decode bit. At
 * setup they are placed with pci_alloc_bar() and decode is on, so a
 * directly booted kernel (no firmware) finds them ready to use.
 */
#ifndef PTVM_IVSHMEM_H
#define PTVM_IVSHMEM_H

#include "devices/pci/config.h"
#include "devices/pci/pci.h"
#include "vmm/bus.h"
#include "vmm/common.h"
#include "vmm/config.h"

struct vm;

#define IVSHMEM_VENDOR 0x1af4
#define IVSHMEM_DEVICE 0x1110
#define IVSHMEM_CLASS 0x050000  /* memory controller, RAM */
#define IVSHMEM_REVISION 1
#define IVSHMEM_SUBSYS_VENDOR 0x1af4
#define IVSHMEM_SUBSYS_ID 0x1100 /* QEMU's default subsystem id */
#define IVSHMEM_REG_BAR 0
#define IVSHMEM_REG_SIZE 256    /* intr mask, intr status, IV position, doorbell, reserved */
#define IVSHMEM_SHM_BAR 2
#define IVSHMEM_REG_INTRMASK 0
#define IVSHMEM_REG_INTRSTATUS 4

struct ivshmem {
	struct vm *vm;
	struct pci_bus *bus;
	char name[48];          /* "ivshmem PATH" in log lines and region names */
	struct pci_dev dev;
	struct pci_cfg cfg;
	bool plugged;           /* pci_register() succeeded */
	struct bus_region regs; /* BAR0, registered while regs_mapped */
	bool regs_mapped;
	u32 intr_mask;          /* BAR0 registers that are storage only */
	u32 intr_status;
	int fd;
	void *shm;              /* mmap(MAP_SHARED) of the whole file */
	u64 size;
	bool shm_mapped;        /* BAR2 is a memory region at shm_gpa */
	u64 shm_gpa;
	u64 setup_addr[2];      /* pci_alloc_bar results for BAR0/BAR2, 0 = none */
};

/* All --device ivshmem devices of a VM. */
struct ivshmem_set {
	int nr;
	struct ivshmem *devs[CONFIG_MAX_SHM];
};

/*
 * Open (creating it 0660 if missing) the shared file path and make it size
 * bytes: an empty file is grown, a file of another size is refused. Returns
 * an fd or -errno; the one-line error is already printed.
 */
int ivshmem_open_file(const char *path, u64 size);
/* Create one device from c, plug it in and place its BARs. 0 or -errno
 * (printed); on error nothing is left behind. */
int ivshmem_create(struct vm *vm, struct pci_bus *bus, const struct shm_dev_config *c,
		   struct ivshmem **out);
/* Unmap the BARs, unplug, unmap and close the file. NULL is fine. */
void ivshmem_destroy(struct ivshmem *s);
/* Create every vm->cfg->shm[] device; *out is NULL when there are none. */
int ivshmem_init(struct vm *vm, struct pci_bus *bus, struct ivshmem_set **out);
/* Destroy what ivshmem_init made. NULL is fine. */
void ivshmem_fini(struct ivshmem_set *set);

#endif
