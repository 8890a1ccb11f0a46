/*
 * `ptvm run` command line -> struct vm_config (see config.h). Only syntax
 * and values are checked here; files and devices are opened later.
 *
 * Every option accepts "--opt VALUE" and "--opt=VALUE". Values made of
 * comma-separated settings are checked whole without touching argv; once
 * a --device or --firmware value is valid, its commas are overwritten with
 * NULs, so the strings in the config (romfile=, vars=, the firmware name)
 * can point into argv as config.h promises. Parsing the same argv twice
 * therefore does not work; --memory values are only read.
 *
 * --device is parsed in config-device.c and the firmware options in
 * config-firmware.c; config-priv.h holds what the three files share.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/config-priv.h"
#include "vmm/layout.h"

#define CONFIG_DEFAULT_RAM (512 * MiB)
#define CONFIG_MIN_RAM (64 * MiB)
#define CONFIG_DEFAULT_CMDLINE "console=ttyS0"
#define STR_(x) #x
#define STR(x) STR_(x) /* for the limits in the help text */

/* One option of `ptvm run`; arg is NULL for flags. */
struct run_option {
	const char *name;
	const char *arg;
	int (*parse)(struct parse_ctx *p, const char *opt, char *val);
};

/* "on" or "off" for setting key of option opt. */
int config_parse_onoff(struct parse_ctx *p, const char *opt, const struct tok *key,
		       const struct tok *val, bool *out)
{
	if (tok_is(val, "on"))
		*out = true;
	else if (tok_is(val, "off"))
		*out = false;
	else
		return fail(p, "%s: bad value '%.*s=%.*s': give %.*s=on or %.*s=off", opt,
			    (int)key->len, key->s, (int)val->len, val->s,
			    (int)key->len, key->s, (int)key->len, key->s);
	return 0;
}

/* Parse a decimal or 0x-hex number (no sign, no octal); -EINVAL if not one. */
int config_parse_number(const char *s, u64 *out)
{
	int base = 10;
	u64 v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -EINVAL;
		if (v > (UINT64_MAX - (u64)d) / (u64)base)
			return -EINVAL;
		v = v * (u64)base + (u64)d;
	}
	*out = v;
	return 0;
}

// Sizes: decimal digits, then K, M, G or T (any case, powers of 1024), then
// optional "iB" or "B". A bare number is bytes.
int config_parse_size(const char *s, u64 *out)
{
	u64 v = 0;
	int shift = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (u64)(*p - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (u64)(*p - '0');
	}
	switch (*p) {
	case 'k': case 'K': shift = 10; p++; break;
	case 'm': case 'M': shift = 20; p++; break;
	case 'g': case 'G': shift = 30; p++; break;
	case 't': case 'T': shift = 40; p++; break;
	}
	if (shift && (p[0] == 'i' || p[0] == 'I') && (p[1] == 'B' || p[1] == 'b'))
		p += 2;
	else if (*p == 'B' || *p == 'b')
		p++;
	if (*p)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

/* Parse 1..maxdigits hex digits of s up to stop; value or -1. */
long config_parse_hex(const char *s, const char *stop, int maxdigits)
{
	long v = 0;

	if (stop <= s || stop - s > maxdigits)
		return -1;
	for (; s < stop; s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* --kernel FILE: any non-empty path (opened later). */
static int opt_kernel(struct parse_ctx *p, const char *opt, char *val)
{
	if (!*val)
		return fail(p, "%s: empty file name: give the path of the bzImage", opt);
	p->c->kernel = val;
	return 0;
}

/* --initrd FILE: any non-empty path (opened later). */
static int opt_initrd(struct parse_ctx *p, const char *opt, char *val)
{
	if (!*val)
		return fail(p, "%s: empty file name: give the path of the initrd", opt);
	p->c->initrd = val;
	return 0;
}

/* --cmdline: passed to the kernel as is; the length is checked at load. */
static int opt_cmdline(struct parse_ctx *p, const char *opt, char *val)
{
	p->c->cmdline = val;
	p->cmdline_given = true;
	return 0;
}

/* --memory SIZE[,hugepages=on|off][,prefault=on|off] */
static int opt_memory(struct parse_ctx *p, const char *opt, char *val)
{
	const char *rest = val;
	struct tok t, key, v;
	char buf[32];
	u64 size;
	bool huge = false, prefault = false;

	t = tok_first(&rest);
	if (!tok_copy(&t, buf, sizeof(buf)) || config_parse_size(buf, &size))
		return fail(p, "%s: bad size '%.*s': give a number with an optional K, M, G or T "
			    "suffix, e.g. 512M or 4G", opt, (int)t.len, t.s);
	if (size < CONFIG_MIN_RAM)
		return fail(p, "%s: %s is too small: give at least 64M", opt, buf);
	if (!IS_ALIGNED(size, MiB))
		return fail(p, "%s: %s is not a whole number of MiB: give e.g. 512M", opt, buf);
	while (tok_next(&rest, &t)) {
		if (!tok_kv(&t, &key, &v) ||
		    !(tok_is(&key, "hugepages") || tok_is(&key, "prefault")))
			return fail(p, "%s: unknown setting '%.*s': accepted are hugepages=on|off and "
				    "prefault=on|off", opt, (int)t.len, t.s);
		if (config_parse_onoff(p, opt, &key, &v, tok_is(&key, "hugepages") ? &huge : &prefault))
			return -1;
	}
	if (huge && !IS_ALIGNED(size, 2 * MiB))
		return fail(p, "%s: %s with hugepages=on must be a multiple of 2M", opt, buf);
	p->c->ram_size = size;
	p->c->hugepages = huge;
	p->c->prefault = prefault;
	return 0;
}

/* --cpus N, 1..CONFIG_MAX_CPUS */
static int opt_cpus(struct parse_ctx *p, const char *opt, char *val)
{
	u64 n;

	if (strspn(val, "0123456789") != strlen(val) || config_parse_number(val, &n) ||
	    n < 1 || n > CONFIG_MAX_CPUS)
		return fail(p, "%s: bad number of vCPUs '%s': give 1 to %d", opt, val, CONFIG_MAX_CPUS);
	p->c->cpus = (int)n;
	return 0;
}

/* --cpu-affinity LIST: host CPUs for vCPU 0, 1, ... ("2,3" or "2-5") */
static int opt_cpu_affinity(struct parse_ctx *p, const char *opt, char *val)
{
	struct vm_config *c = p->c;
	char *s = val;

	c->nr_cpu_affinity = 0;
	while (*s) {
		char *end;
		unsigned long a = strtoul(s, &end, 10), b = a;

		if (end == s || a >= CPU_SETSIZE)
			goto bad;
		if (*end == '-') {
			s = end + 1;
			b = strtoul(s, &end, 10);
			if (end == s || b < a || b >= CPU_SETSIZE)
				goto bad;
		}
		for (unsigned long cpu = a; cpu <= b; cpu++) {
			if (c->nr_cpu_affinity == CONFIG_MAX_CPUS)
				return fail(p, "%s: '%s' names more than %d CPUs", opt, val, CONFIG_MAX_CPUS);
			c->cpu_affinity[c->nr_cpu_affinity++] = (int)cpu;
		}
		if (*end == ',' && end[1])
			end++;
		else if (*end)
			goto bad;
		s = end;
	}
	if (c->nr_cpu_affinity)
		return 0;
bad:
	return fail(p, "%s: bad CPU list '%s': give host CPU numbers for vCPU 0, 1, ... "
		    "like 2,3 or 2-5", opt, val);
}

/* --serial stdio|file:PATH|none */
static int opt_serial(struct parse_ctx *p, const char *opt, char *val)
{
	if (!strcmp(val, "stdio")) {
		p->c->serial = SERIAL_STDIO;
	} else if (!strcmp(val, "none")) {
		p->c->serial = SERIAL_NONE;
	} else if (!strncmp(val, "file:", 5) && val[5]) {
		p->c->serial = SERIAL_FILE;
		p->c->serial_path = val + 5;
		return 0;
	} else {
		return fail(p, "%s: bad value '%s': give stdio, file:PATH or none", opt, val);
	}
	p->c->serial_path = NULL;
	return 0;
}

/* I/O ports the machine already uses; a debug-exit port there would never fire. */
static const struct {
	u16 first, last;
	const char *user;
} fixed_ports[] = {
	{ 0x20, 0x21, "the PIC" },
	{ 0x40, 0x43, "the PIT" },
	{ 0x61, 0x61, "the PIT" },
	{ PORT_I8042_DATA, PORT_I8042_DATA, "the i8042" },
	{ PORT_I8042_CMD, PORT_I8042_CMD, "the i8042" },
	{ PORT_CMOS, PORT_CMOS + 1, "the RTC" },
	{ 0xa0, 0xa1, "the PIC" },
	{ 0x3f8, 0x3ff, "COM1" },
	{ PORT_DEBUGCON, PORT_DEBUGCON, "the debug console" },
	{ PORT_FW_CFG, PORT_FW_CFG + 11, "fw_cfg" },
	{ PORT_PM_BASE, PORT_GPE0 + PORT_GPE0_LEN - 1, "ACPI power management" },
	{ 0xcf8, 0xcff, "PCI configuration" },
	{ LAYOUT_PIO_PCI_BASE, LAYOUT_PIO_PCI_END - 1, "PCI I/O BARs" },
};

/* --debug-exit-port PORT|off: decimal or 0x hex, 1..0xffff, not a port in use */
static int opt_debug_exit(struct parse_ctx *p, const char *opt, char *val)
{
	u64 port;

	if (!strcmp(val, "off")) {
		p->c->debug_exit_port = -1;
		return 0;
	}
	if (config_parse_number(val, &port) || port < 1 || port > 0xffff)
		return fail(p, "%s: bad port '%s': give a port 1-0xffff (decimal or 0x hex) or off",
			    opt, val);
	for (size_t i = 0; i < ARRAY_SIZE(fixed_ports); i++)
		if (port >= fixed_ports[i].first && port <= fixed_ports[i].last)
			return fail(p, "%s: port 0x%llx is used by %s: give a free port such as 0xf4, "
				    "or off", opt, (unsigned long long)port, fixed_ports[i].user);
	p->c->debug_exit_port = (int)port;
	return 0;
}

/* --on-reboot restart|exit */
static int opt_on_reboot(struct parse_ctx *p, const char *opt, char *val)
{
	if (!strcmp(val, "restart"))
		p->c->on_reboot = ON_REBOOT_RESTART;
	else if (!strcmp(val, "exit"))
		p->c->on_reboot = ON_REBOOT_EXIT;
	else
		return fail(p, "%s: bad value '%s': give restart or exit", opt, val);
	return 0;
}

/* --trace-unhandled (a flag) */
static int opt_trace(struct parse_ctx *p, const char *opt, char *val)
{
	p->c->trace_unhandled = true;
	return 0;
}

/* --stats (a flag) */
static int opt_stats(struct parse_ctx *p, const char *opt, char *val)
{
	p->c->stats = true;
	return 0;
}

/* --debugcon file:PATH */
static int opt_debugcon(struct parse_ctx *p, const char *opt, char *val)
{
	if (strncmp(val, "file:", 5) || !val[5])
		return fail(p, "%s: bad value '%s': give file:PATH", opt, val);
	p->c->debugcon = val + 5;
	return 0;
}

/* Every option; config_print_run_help() describes exactly these. */
static const struct run_option run_options[] = {
	{ "--kernel", "FILE", opt_kernel },
	{ "--initrd", "FILE", opt_initrd },
	{ "--cmdline", "STR", opt_cmdline },
	{ "--firmware", "seabios|ovmf|PATH[,vars=PATH]", config_opt_firmware },
	{ "--memory", "SIZE[,hugepages=on|off][,prefault=on|off]", opt_memory },
	{ "--cpus", "N", opt_cpus },
	{ "--cpu-affinity", "LIST", opt_cpu_affinity },
	{ "--device", "vfio,host=BDF[,...]|ivshmem,path=FILE,size=SIZE", config_opt_device },
	{ "--serial", "stdio|file:PATH|none", opt_serial },
	{ "--debugcon", "file:PATH", opt_debugcon },
	{ "--boot", "[order=kernel|disk][,menu=on|off][,menu-timeout=MS][,reboot-timeout=MS]", config_opt_boot },
	{ "--cpu", "[hide-kvm][,hyperv][,hv-vendor-id=STR]", config_opt_cpu },
	{ "--rtc", "base=utc|localtime", config_opt_rtc },
	{ "--smbios", "type=0|1,KEY=VALUE[,...]", config_opt_smbios },
	{ "--debug-exit-port", "PORT|off", opt_debug_exit },
	{ "--on-reboot", "restart|exit", opt_on_reboot },
	{ "--trace-unhandled", NULL, opt_trace },
	{ "--stats", NULL, opt_stats },
};

// Defaults: 512M, 1 vCPU, serial on stdio, debug exit at 0xf4, reboot restarts.
void config_init(struct vm_config *c)
{
	memset(c, 0, sizeof(*c));
	c->cmdline = CONFIG_DEFAULT_CMDLINE;
	c->ram_size = CONFIG_DEFAULT_RAM;
	c->cpus = 1;
	c->serial = SERIAL_STDIO;
	c->debug_exit_port = CONFIG_DEFAULT_DEBUG_EXIT_PORT;
	c->on_reboot = ON_REBOOT_RESTART;
	c->boot_menu_timeout = -1;
	c->reboot_timeout = -1;
}

/* The option named by arg ("--name" or "--name=value"), or NULL. */
static const struct run_option *find_option(const char *arg)
{
	size_t len = strcspn(arg, "=");

	for (size_t i = 0; i < ARRAY_SIZE(run_options); i++)
		if (strlen(run_options[i].name) == len && !strncmp(arg, run_options[i].name, len))
			return &run_options[i];
	return NULL;
}

/* Checks that involve more than one option. */
static int check_combination(struct parse_ctx *p)
{
	const struct vm_config *c = p->c;

	if (!c->kernel && !c->firmware)
		return fail(p, "nothing to boot: give --kernel FILE (a bzImage) or --firmware "
			    "seabios|ovmf|PATH");
	if (c->initrd && !c->kernel)
		return fail(p, "--initrd %s needs --kernel: add --kernel FILE", c->initrd);
	if (p->cmdline_given && !c->kernel)
		return fail(p, "--cmdline needs --kernel: add --kernel FILE");
	if (c->nr_cpu_affinity > c->cpus)
		return fail(p, "--cpu-affinity names %d host CPUs for %d vCPUs: give one per vCPU "
			    "(or raise --cpus)", c->nr_cpu_affinity, c->cpus);
	if (c->boot_order == BOOT_ORDER_DISK && !c->firmware)
		return fail(p, "--boot order=disk needs --firmware: direct boot only boots --kernel");
	if ((c->boot_menu || c->boot_menu_timeout >= 0 || c->reboot_timeout >= 0) && !c->firmware)
		return fail(p, "--boot menu/menu-timeout/reboot-timeout need --firmware seabios|ovmf|PATH");
	if (c->smbios.bios_vendor || c->smbios.manufacturer || c->smbios.product ||
	    c->smbios.serial || c->smbios.uuid_set || c->smbios.bios_version ||
	    c->smbios.bios_date || c->smbios.version || c->smbios.sku || c->smbios.family)
		if (!c->firmware)
			return fail(p, "--smbios needs --firmware: the tables are handed over by firmware");
	return 0;
}

// Walk argv once; options may repeat (the last wins, --device adds).
int config_parse_run(struct vm_config *c, int argc, char **argv, char *err, size_t errlen)
{
	struct parse_ctx p = { .c = c, .err = err, .errlen = errlen };

	if (errlen)
		err[0] = 0;
	for (int i = 1; i < argc; i++) {
		char *arg = argv[i], *val = NULL, *eq = strchr(arg, '=');
		const struct run_option *o;

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			config_print_run_help();
			return 1;
		}
		if (arg[0] != '-')
			return fail(&p, "unexpected argument '%s': ptvm run takes only options "
				    "(see ptvm run --help)", arg);
		o = find_option(arg);
		if (!o)
			return fail(&p, "unknown option '%.*s': see ptvm run --help",
				    (int)strcspn(arg, "="), arg);
		if (!o->arg) {
			if (eq)
				return fail(&p, "%s takes no value (got '%s')", o->name, eq + 1);
		} else if (eq) {
			val = eq + 1;
		} else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2)) {
			val = argv[++i];
		} else {
			return fail(&p, "%s needs a value: %s %s", o->name, o->name, o->arg);
		}
		if (o->parse(&p, o->name, val))
			return -1;
	}
	return check_combination(&p);
}

// The help text: one entry per run_options[] row, same order, same spelling.
void config_print_run_help(void)
{
	fputs(
"usage: ptvm run --kernel FILE [--initrd FILE] [--cmdline STR] [OPTIONS]\n"
"       ptvm run --firmware seabios|ovmf|PATH[,vars=PATH] [OPTIONS]\n"
"\n"
"Boot a virtual machine. Every option takes its value as \"--opt VALUE\" or\n"
"\"--opt=VALUE\"; given twice, the last one wins (--device adds a device).\n"
"\n"
"Boot:\n"
"  --kernel FILE        Linux x86_64 bzImage to boot directly, such as\n"
"                       /boot/vmlinuz-*; required unless --firmware is given\n"
"  --initrd FILE        initramfs or initrd for --kernel\n"
"  --cmdline STR        kernel command line (default \"" CONFIG_DEFAULT_CMDLINE "\")\n"
"  --firmware seabios|ovmf|PATH[,vars=PATH]\n"
"                       boot through firmware instead: the installed SeaBIOS or\n"
"                       OVMF, or a firmware image; vars= is a writable copy of\n"
"                       OVMF_VARS.fd\n"
"\n"
"Machine:\n"
"  --memory SIZE[,hugepages=on|off][,prefault=on|off]\n"
"                       guest RAM (default 512M), at least 64M, whole MiB. SIZE\n"
"                       is bytes, or a number with K, M, G or T (powers of 1024,\n"
"                       \"iB\" or \"B\" may follow). hugepages=on backs RAM with\n"
"                       huge pages (SIZE a multiple of 2M); prefault=on touches\n"
"                       it all at start (both default off)\n"
"  --cpus N             number of vCPUs, 1 to " STR(CONFIG_MAX_CPUS) " (default 1)\n"
"  --cpu-affinity LIST  pin vCPU 0, 1, ... to these host CPUs, e.g. 2,3 or 2-5\n"
"                       (vCPUs beyond the list float; default: all float)\n"
"\n"
"Devices:\n"
"  --device vfio,host=BDF[,addr=SLOT[.FN]][,rombar=on|off][,romfile=PATH]\n"
"               [,multifunction=on|off][,x-vga=on|off][,managed=on|off]\n"
"                       pass a host PCI device through with VFIO; repeatable, up\n"
"                       to " STR(CONFIG_MAX_DEVICES) " devices (\"vfio-pci\" is accepted for \"vfio\"):\n"
"      host=BDF              the host device, [DDDD:]BB:DD.F as lspci -D shows it\n"
"      addr=SLOT[.FN]        guest slot 1-1f and function 0-7 in hex, as in QEMU\n"
"                            (addr=5, addr=05.1); default: the next free slot\n"
"      rombar=on|off         show the option ROM to the guest (default on)\n"
"      romfile=PATH          show this ROM image instead of the device's\n"
"      multifunction=on|off  set the multifunction bit (default off)\n"
"      x-vga=on|off          also pass the legacy VGA ranges (default off)\n"
"      managed=on|off        bind the device to vfio-pci before boot and give it\n"
"                            back to its driver at exit (default off)\n"
"  --device ivshmem,path=FILE,size=SIZE[,addr=SLOT[.FN]]\n"
"                       an ivshmem-plain device (1af4:1110, as QEMU's) whose BAR2\n"
"                       is FILE shared with the host, e.g. for Looking Glass:\n"
"                       path=/dev/shm/looking-glass,size=32M. FILE is created if\n"
"                       missing (an empty one is grown); SIZE is a power of two,\n"
"                       at least 1M; up to " STR(CONFIG_MAX_SHM) " (\"ivshmem-plain\" is accepted)\n"
"  --serial stdio|file:PATH|none\n"
"                       where COM1 goes (default stdio)\n"
"  --debugcon file:PATH firmware debug console (port 0x402) into a file\n"
"  --boot [order=kernel|disk][,menu=on|off][,menu-timeout=MS][,reboot-timeout=MS]\n"
"                       firmware boot: boot --kernel (default with --kernel) or\n"
"                       the disks first; the firmware's boot menu (on the serial\n"
"                       console); retry after a failed boot (default: wait)\n"
"  --cpu [hide-kvm][,hyperv][,hv-vendor-id=STR]\n"
"                       hide-kvm: no KVM CPUID signature; hyperv: the Hyper-V\n"
"                       enlightenments Windows uses; hv-vendor-id: their vendor\n"
"                       string (1-12 characters, default \"Microsoft Hv\")\n"
"  --rtc base=utc|localtime\n"
"                       the RTC shows UTC (default) or the host's local time\n"
"  --smbios type=0,vendor=S,version=S,date=S\n"
"  --smbios type=1,manufacturer=S,product=S,version=S,serial=S,uuid=U,sku=S,family=S\n"
"                       SMBIOS BIOS and system strings (with --firmware)\n"
"  --debug-exit-port PORT|off\n"
"                       a guest write of V to this I/O port ends ptvm with exit\n"
"                       status V & 0xff; PORT is 1-0xffff, decimal or 0x hex\n"
"                       (default 0xf4)\n"
"  --on-reboot restart|exit\n"
"                       what a guest reboot does (default restart)\n"
"  --trace-unhandled    log guest accesses to unclaimed ports and MMIO\n"
"  --stats              at exit, print how often the guest exited to ptvm, per\n"
"                       vCPU and per device region\n"
"  -h, --help           this text\n"
"\n"
"Exit status: 0 when the guest powers off (or reboots with --on-reboot exit);\n"
"the value written to the debug-exit port; 1 on a guest fault or a setup error;\n"
"2 on a bad command line; 128+N when ptvm is ended by signal N.\n"
"See docs/ptvm-run.md.\n", stdout);
}
