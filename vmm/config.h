/*
 * The VM's configuration: the command line parsed into a plain struct.
 * Parsing validates syntax and values only; files are opened later.
 */
#ifndef PTVM_CONFIG_H
#define PTVM_CONFIG_H

#include "vmm/common.h"

#define CONFIG_MAX_DEVICES 16
#define CONFIG_MAX_CPUS 64
#define CONFIG_DEFAULT_DEBUG_EXIT_PORT 0xf4

enum serial_mode { SERIAL_STDIO, SERIAL_FILE, SERIAL_NONE };
enum on_reboot { ON_REBOOT_RESTART, ON_REBOOT_EXIT };

/* --device vfio,host=DDDD:BB:DD.F[,addr=SLOT[.FN]][,rombar=on|off][,romfile=PATH]
 *              [,multifunction=on][,x-vga=on][,managed=on] */
struct vfio_dev_config {
	char host[16];     /* normalised "dddd:bb:dd.f" */
	int slot, fn;      /* guest slot/function, -1 = first free */
	bool rombar;       /* default true */
	const char *romfile;
	bool multifunction;
	bool x_vga;
	bool managed;
};

/* --device ivshmem,path=FILE,size=SIZE[,addr=SLOT[.FN]]: an ivshmem-plain
 * device sharing FILE (created if missing) with the host, e.g. Looking Glass */
#define CONFIG_MAX_SHM 4
#define CONFIG_MIN_SHM_SIZE MiB
struct shm_dev_config {
	const char *path;
	u64 size;          /* a power of two, at least CONFIG_MIN_SHM_SIZE */
	int slot, fn;      /* guest slot/function, -1 = first free */
};

struct vm_config {
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	u64 ram_size;           /* --memory SIZE[,hugepages=on][,prefault=on], default 512M */
	bool hugepages;
	bool prefault;
	int cpus;               /* --cpus N, default 1 */
	int cpu_affinity[CONFIG_MAX_CPUS]; /* --cpu-affinity: host CPU of vCPU i */
	int nr_cpu_affinity;    /* 0: vCPUs float */
	enum serial_mode serial; /* --serial stdio|file:PATH|none */
	const char *serial_path;
	int debug_exit_port;    /* --debug-exit-port PORT|off, default 0xf4; -1 = off */
	enum on_reboot on_reboot;
	bool trace_unhandled;
	bool stats;            /* --stats: exit counts at the end */
	struct vfio_dev_config devices[CONFIG_MAX_DEVICES];
	int nr_devices;
	struct shm_dev_config shm[CONFIG_MAX_SHM]; /* --device ivshmem,... */
	int nr_shm;
	/* firmware boot (issue 5): NULL = direct kernel boot */
	const char *firmware;   /* --firmware seabios|ovmf|PATH */
	const char *vars;       /* --firmware ovmf,vars=PATH */
	const char *debugcon;   /* --debugcon file:PATH (port 0x402) */
	/* --boot [order=kernel|disk][,menu=on|off][,menu-timeout=MS][,reboot-timeout=MS] */
	enum boot_order { BOOT_ORDER_DEFAULT, BOOT_ORDER_KERNEL, BOOT_ORDER_DISK } boot_order;
	bool boot_menu;
	int boot_menu_timeout;  /* ms, -1 = the firmware's default */
	int reboot_timeout;     /* ms after a failed boot, -1 = wait forever */
	/* --cpu [hide-kvm][,hyperv][,hv-vendor-id=STR] */
	bool cpu_hide_kvm;
	bool cpu_hyperv;
	const char *hv_vendor_id; /* 1-12 characters, NULL = "Microsoft Hv" */
	bool rtc_localtime;     /* --rtc base=utc|localtime */
	/* --smbios type=0|1,KEY=VALUE,... (NULL = ptvm's default) */
	struct config_smbios {
		const char *bios_vendor, *bios_version, *bios_date;
		const char *manufacturer, *product, *version, *serial, *sku, *family;
		u8 uuid[16];
		bool uuid_set;
	} smbios;
};

/* Defaults for every field. */
void config_init(struct vm_config *c);
/*
 * Parse the arguments of `ptvm run` (argv[0] is "run"). On error returns -1
 * with one line in err naming the problem and how to fix it. Returns 1 if
 * --help was printed (to stdout), 0 otherwise. Strings point into argv.
 */
int config_parse_run(struct vm_config *c, int argc, char **argv, char *err, size_t errlen);
/* "512M", "4G", "1024K", "65536" (bytes) -> bytes; -EINVAL on bad syntax or overflow */
int config_parse_size(const char *s, u64 *out);
/* "0000:03:00.0" or "03:00.0" -> "0000:03:00.0"; -EINVAL if malformed */
int config_parse_bdf(const char *s, char out[16]);
void config_print_run_help(void);

#endif
