/*
 * `ptvm run`: parse the command line, then create, boot and run the VM until
 * it powers off, writes the debug-exit port, faults or ptvm gets a signal.
 * A guest reboot re-creates the VM (--on-reboot restart) or ends it.
 *
 * Exit status: guest poweroff 0; debug-exit: the value written; a fault 1;
 * setup errors 1; a bad command line 2; SIGINT/SIGTERM/SIGHUP 128+signal.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "vmm/config.h"
#include "vmm/log.h"
#include "vmm/machine.h"
#include "vmm/run.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

/* What the signal thread needs to stop the VM that is running right now. */
struct run_state {
	pthread_mutex_t lock;
	struct vm *running; /* NULL while no VM can be stopped */
	int signal;         /* the first terminating signal seen */
	sigset_t sigs;
};

// Wait for SIGINT/SIGTERM/SIGHUP and stop the running VM.
static void *signal_thread(void *arg)
{
	struct run_state *rs = arg;
	int sig;

	for (;;) {
		if (sigwait(&rs->sigs, &sig))
			continue;
		pthread_mutex_lock(&rs->lock);
		if (!rs->signal)
			rs->signal = sig;
		if (rs->running)
			vm_stop(rs->running, VM_STOP_SIGNAL, 128 + sig);
		pthread_mutex_unlock(&rs->lock);
	}
	return NULL;
}

// Tell the signal thread which VM to stop (or none).
static void set_running(struct run_state *rs, struct vm *vm)
{
	pthread_mutex_lock(&rs->lock);
	rs->running = vm;
	if (vm && rs->signal)
		vm_stop(vm, VM_STOP_SIGNAL, 128 + rs->signal);
	pthread_mutex_unlock(&rs->lock);
}

// Create, boot and run one VM; returns why it stopped, with *status set.
static enum vm_stop_reason run_once(struct run_state *rs, const struct vm_config *cfg, int *status)
{
	struct vm vm;
	enum vm_stop_reason why = VM_STOP_FAULT;
	int ret;

	*status = 1;
	ret = vm_create(&vm, cfg);
	if (!ret)
		ret = vcpus_create(&vm);
	if (!ret)
		ret = machine_create(&vm);
	if (!ret)
		ret = machine_boot(&vm);
	if (!ret) {
		set_running(rs, &vm);
		ret = vcpus_start(&vm);
	}
	if (!ret) {
		why = vm_wait(&vm);
		*status = vm.exit_status;
	}
	vm_stop(&vm, VM_STOP_FAULT, 1); /* no-op if already stopped; kicks every vCPU */
	set_running(rs, NULL);
	vcpus_join(&vm);
	if (cfg->stats) {
		vcpus_print_stats(&vm);
		bus_print_stats(&vm.bus);
	}
	vcpus_destroy(&vm);
	machine_destroy(&vm);
	vm_destroy(&vm);
	return ret ? VM_STOP_FAULT : why;
}

// ptvm run ...
int cmd_run(int argc, char **argv)
{
	struct vm_config cfg;
	struct run_state rs = { .lock = PTHREAD_MUTEX_INITIALIZER };
	pthread_t sig_thread;
	char err[512];
	int ret, status;

	config_init(&cfg);
	ret = config_parse_run(&cfg, argc, argv, err, sizeof(err));
	if (ret < 0) {
		pr_err("%s", err);
		return 2;
	}
	if (ret > 0)
		return 0; /* --help */

	/* Every thread inherits this mask; only the signal thread takes them. */
	sigemptyset(&rs.sigs);
	sigaddset(&rs.sigs, SIGINT);
	sigaddset(&rs.sigs, SIGTERM);
	sigaddset(&rs.sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &rs.sigs, NULL);
	ret = pthread_create(&sig_thread, NULL, signal_thread, &rs);
	if (ret) {
		pr_err("cannot start the signal thread: %s", strerror(ret));
		return 1;
	}
	pthread_detach(sig_thread);

	for (;;) {
		enum vm_stop_reason why = run_once(&rs, &cfg, &status);

		if (why == VM_STOP_RESET && cfg.on_reboot == ON_REBOOT_RESTART) {
			pr_info("guest rebooted: restarting");
			continue;
		}
		switch (why) {
		case VM_STOP_POWEROFF:
			pr_info("guest powered off");
			return 0;
		case VM_STOP_RESET:
			pr_info("guest rebooted: exiting (--on-reboot exit)");
			return 0;
		case VM_STOP_EXIT:
			pr_info("guest wrote %d to the debug-exit port", status);
			return status;
		case VM_STOP_SIGNAL:
			return status;
		default:
			return status ? status : 1;
		}
	}
}
