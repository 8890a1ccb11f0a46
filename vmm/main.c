/*
 * ptvm's entry point: picks the subcommand and hands over to it.
 * No device logic lives here.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "passthrough/host/host-tools.h"
#include "vmm/log.h"
#include "vmm/run.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "run", cmd_run, "boot a virtual machine (see ptvm run --help)" },
	{ "check", cmd_check, "can these PCI devices be passed through now? (fixes included)" },
	{ "groups", cmd_groups, "list IOMMU groups, their devices and whether each is usable" },
	{ "bind", cmd_bind, "give PCI devices to vfio-pci (--group: the whole group)" },
	{ "unbind", cmd_unbind, "give devices back to the host drivers they had" },
	{ "sriov", cmd_sriov, "create, remove and list SR-IOV virtual functions" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ptvm [-v|-vv|-q] COMMAND [ARGS...]\n\n"
		   "A small KVM hypervisor for PCI device passthrough.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\noptions:\n  -v, -vv  more messages (progress, details)\n"
		   "  -q       errors only\n  -h, --help  this text\n");
}

int main(int argc, char **argv)
{
	int i = 1;

	/* a console reader that goes away must not kill ptvm (and leave the terminal raw) */
	signal(SIGPIPE, SIG_IGN);

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v"))
			log_set_level(LOG_INFO);
		else if (!strcmp(argv[i], "-vv"))
			log_set_level(LOG_DEBUG);
		else if (!strcmp(argv[i], "-q"))
			log_set_level(LOG_ERR);
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			pr_err("unknown option '%s': see ptvm --help", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].fn(argc - i, argv + i);
	pr_err("unknown command '%s': see ptvm --help", argv[i]);
	return 2;
}
