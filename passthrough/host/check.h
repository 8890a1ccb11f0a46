/*
 * `ptvm check`: facts gathered from the host (through the sysfs root), then
 * pure verdicts on them. Each problem comes with the one command that fixes it.
 */
#ifndef PTVM_HOST_CHECK_H
#define PTVM_HOST_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "passthrough/host/groups.h"
#include "passthrough/host/output.h"
#include "passthrough/host/sysfs.h"

#define CHECK_UNLIMITED UINT64_MAX
/* libvirt's rule for VFIO guests: guest RAM plus 1 GiB for the VMM's own pins */
#define CHECK_MEMLOCK_SLACK (1ULL << 30)

struct host_facts {
	bool dmar, ivrs;            /* ACPI tables: Intel VT-d, AMD-Vi */
	int nr_iommus;              /* /sys/class/iommu entries */
	int nr_groups;              /* /sys/kernel/iommu_groups entries */
	char cmdline[2048];         /* /proc/cmdline */
	int ir;                     /* interrupt remapping: 1, 0, -1 = unknown */
	bool unsafe_interrupts;     /* vfio_iommu_type1 allow_unsafe_interrupts=Y */
	bool mod_vfio, mod_vfio_pci, mod_type1, mod_iommufd;
	int kvm_access;             /* access(/dev/kvm, R|W): 0 or -errno */
	int vfio_access;            /* /dev/vfio/vfio */
	int iommufd_access;         /* /dev/iommu */
	uint64_t memlock;           /* RLIMIT_MEMLOCK soft limit, CHECK_UNLIMITED */
	bool cap_ipc_lock;          /* then VFIO pins without limit */
	uint64_t hugepages_free;    /* bytes free in all hugepage pools */
	uint64_t memory;            /* --memory, 0 = not given */
};

struct host_dev_facts {
	bool exists;
	struct host_dev dev;
	struct host_group group;    /* members (empty when no group) */
	bool has_reset_method;      /* the reset_method file exists (Linux 5.15+) */
	char reset_method[128];     /* its content, "" = no method */
	bool has_reset;             /* the older "reset" file exists */
	long rom_size;              /* the rom file's size, -1 = none */
	bool rom_readable;
	int rebar;                  /* resizable BAR capability: 1, 0, -1 = config not readable */
	int group_dev_access;       /* access(/dev/vfio/N, R|W) */
	char inuse[512];            /* why the host needs it (a mounted disk), "" = not */
	char net_up[256];           /* its network interfaces that are up, "" = none */
	bool has_state;             /* /run/ptvm/BDF exists: ptvm bound it */
	char bound_from[64];        /* the driver recorded there, "" = none */
};

enum check_topic { TOPIC_SYSTEM, TOPIC_DEVICE };

struct check_item {
	enum out_mark mark;
	char bdf[16];               /* "" for system checks */
	char name[24];              /* short key: "iommu", "driver", ... */
	char msg[256];
	char fix[320];              /* "" when nothing needs doing */
};

#define CHECK_MAX_ITEMS 128

struct check_report {
	int n, fails;
	struct check_item items[CHECK_MAX_ITEMS];
};

int host_facts_read(const struct sysfs *s, uint64_t memory, struct host_facts *f);
int host_dev_facts_read(const struct sysfs *s, const char *bdf, struct host_dev_facts *d);
void host_dev_facts_free(struct host_dev_facts *d);

/* Pure verdicts: they append items; a FAIL item means "cannot pass through now". */
void check_system(const struct host_facts *f, bool devices_given, struct check_report *r);
void check_device(const struct host_facts *f, const struct host_dev_facts *d,
		  struct check_report *r);

/* Offset of PCIe extended capability id in a config space image, -ENOENT if absent. */
int check_find_ext_cap(const uint8_t *cfg, size_t len, unsigned int id);
/* Does the cmdline contain the word (e.g. "iommu=pt")? */
bool check_cmdline_has(const char *cmdline, const char *word);

#endif
