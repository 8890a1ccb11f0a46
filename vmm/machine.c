/*
 * The q35-like machine: the legacy devices at their PC addresses, the PCI
 * Express root complex with passed-through devices, the ACPI tables that
 * describe them, and direct Linux boot. This file only wires; each device's
 * behaviour lives in its own file under devices/, passthrough/, firmware/.
 *
 *   COM1 16550A   0x3f8, IRQ 4        CMOS/RTC      0x70, IRQ 8
 *   i8042         0x60/0x64 (reset)   ACPI PM       0x600, reset 0xcf9
 *   debug-exit    0xf4 (--debug-exit-port)          debugcon 0x402
 *   PCI           0xcf8/0xcfc + ECAM 0xb0000000     in-kernel PIC/IOAPIC/PIT
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/debug-exit.h"
#include "devices/debugcon.h"
#include "devices/i8042.h"
#include "devices/ivshmem.h"
#include "devices/pci/pci.h"
#include "devices/pm.h"
#include "devices/port-sinks.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "firmware/acpi.h"
#include "firmware/bzimage.h"
#include "passthrough/vfio-pci.h"
#include "firmware/firmware.h"
#include "vmm/log.h"
#include "vmm/machine.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

struct machine {
	struct serial *serial;
	struct rtc *rtc;
	struct i8042 *i8042;
	struct pm *pm;
	struct port_sinks *sinks;
	struct debug_exit *debug_exit;
	struct debugcon *debugcon;
	struct pci_bus *pci;
	struct passthrough *pt; /* NULL without --device */
	struct ivshmem_set *shm; /* --device ivshmem; NULL without */
	struct firmware *fw; /* --firmware: its images, fw_cfg and LPC bridge */
	int serial_out, serial_in; /* fds we opened or duplicated, -1 if none */
	int debugcon_fd;
};

// Open the serial console's output and input as --serial says.
static int open_serial(struct vm *vm, struct machine *m)
{
	const struct vm_config *c = vm->cfg;

	switch (c->serial) {
	case SERIAL_STDIO:
		m->serial_out = dup(STDOUT_FILENO);
		/* the guest reads the keyboard only from a terminal (raw mode, restored at exit) */
		m->serial_in = isatty(STDIN_FILENO) ? dup(STDIN_FILENO) : -1;
		break;
	case SERIAL_FILE:
		m->serial_out = open(c->serial_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (m->serial_out < 0) {
			pr_err("cannot open serial output file %s: %s: check the path and its permissions",
			       c->serial_path, strerror(errno));
			return -errno;
		}
		break;
	case SERIAL_NONE:
		break;
	}
	return 0;
}

// Open the firmware debug console file (--debugcon file:PATH).
static int open_debugcon(struct vm *vm, struct machine *m)
{
	const char *path = vm->cfg->debugcon;

	if (!path)
		return 0;
	m->debugcon_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (m->debugcon_fd < 0) {
		pr_err("cannot open debugcon file %s: %s: check the path and its permissions", path,
		       strerror(errno));
		return -errno;
	}
	return 0;
}

// Create every device of the machine.
int machine_create(struct vm *vm)
{
	const struct vm_config *c = vm->cfg;
	struct machine *m = calloc(1, sizeof(*m));
	int ret;

	if (!m)
		return -ENOMEM;
	m->serial_out = m->serial_in = m->debugcon_fd = -1;
	vm->machine = m;
	ret = open_serial(vm, m);
	if (!ret)
		ret = open_debugcon(vm, m);
	if (ret)
		return ret;

	m->serial = serial_create(vm, PORT_COM1, IRQ_COM1, m->serial_out, m->serial_in);
	m->rtc = rtc_create(vm, &vm->layout, c->cpus, c->rtc_localtime);
	m->i8042 = i8042_create(vm);
	m->pm = pm_create(vm);
	m->sinks = port_sinks_create(vm);
	if (!m->serial || !m->rtc || !m->i8042 || !m->pm || !m->sinks)
		return -ENOMEM;
	if (c->debug_exit_port >= 0) {
		m->debug_exit = debug_exit_create(vm, (u16)c->debug_exit_port);
		if (!m->debug_exit)
			return -EBUSY;
	}
	if (m->debugcon_fd >= 0) {
		m->debugcon = debugcon_create(vm, PORT_DEBUGCON, m->debugcon_fd);
		if (!m->debugcon)
			return -EBUSY;
	}
	m->pci = pci_bus_create(vm);
	if (!m->pci)
		return -ENOMEM;
	/* after the bus (slots, BAR windows), before the vCPUs start */
	ret = passthrough_init(vm, m->pci, &m->pt);
	if (ret)
		return ret;
	/* ivshmem after passthrough: passed-through devices keep their addr= slots */
	ret = ivshmem_init(vm, m->pci, &m->shm);
	if (ret)
		return ret;
	if (c->firmware)
		return firmware_create(vm, m->pci, &m->fw);
	return 0;
}

// Direct Linux boot: ACPI tables at 0xE0000, kernel, initrd and boot_params, boot vCPU.
int machine_boot(struct vm *vm)
{
	const struct vm_config *c = vm->cfg;
	struct acpi_params ap = { .nr_cpus = vm->nr_vcpus, .layout = &vm->layout };
	struct acpi_build_result ar;
	struct bzimage_boot bz;
	struct vcpu_boot vb;
	char err[512];
	u8 *acpi = mem_gpa_to_hva(&vm->mem, LAYOUT_ACPI_BASE, LAYOUT_ACPI_SIZE);
	int ret;

	if (c->firmware) /* the firmware loads ACPI and the kernel through fw_cfg */
		return firmware_boot(vm, vm->machine->fw);
	if (!acpi)
		return -EFAULT;
	ret = acpi_build(&ap, LAYOUT_ACPI_BASE, acpi, LAYOUT_ACPI_SIZE, &ar);
	if (ret < 0) {
		pr_err("cannot build the ACPI tables: %s", strerror(-ret));
		return ret;
	}
	ret = bzimage_load_files(&vm->mem, &vm->layout, c->kernel, c->initrd, c->cmdline ? c->cmdline : "",
				 ar.rsdp_gpa, &bz, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		return ret;
	}
	vb.entry = bz.entry64;
	vb.boot_params = bz.boot_params;
	return vcpu_setup_boot(vm, &vb);
}

// Destroy the devices in reverse order and close what we opened.
void machine_destroy(struct vm *vm)
{
	struct machine *m = vm->machine;

	if (!m)
		return;
	firmware_destroy(m->fw);
	/* devices reset and closed, guest RAM out of the IOMMU, before the bus goes */
	passthrough_destroy(m->pt);
	ivshmem_fini(m->shm); /* its BAR2 leaves the memory map before the bus goes */
	if (m->pci)
		pci_bus_destroy(m->pci);
	if (m->debugcon)
		debugcon_destroy(m->debugcon);
	if (m->debug_exit)
		debug_exit_destroy(m->debug_exit);
	if (m->sinks)
		port_sinks_destroy(m->sinks);
	if (m->pm)
		pm_destroy(m->pm);
	if (m->i8042)
		i8042_destroy(m->i8042);
	if (m->rtc)
		rtc_destroy(m->rtc);
	if (m->serial)
		serial_destroy(m->serial);
	if (m->serial_out >= 0)
		close(m->serial_out);
	if (m->serial_in >= 0)
		close(m->serial_in);
	if (m->debugcon_fd >= 0)
		close(m->debugcon_fd);
	free(m);
	vm->machine = NULL;
}
