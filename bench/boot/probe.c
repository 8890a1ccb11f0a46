/*
 * probe: run a VMM, timestamp its console lines as they arrive, and watch its
 * memory. Used by bench/boot/run inside the lab; see bench/README.md.
 *
 *   probe [-m MARKER] [-o CONSOLE] [-t SECONDS] [-g GUEST_KIB] -- COMMAND [ARGS...]
 *
 * COMMAND's stdout (the guest console) is read through a pipe; each line is
 * copied to CONSOLE prefixed with the milliseconds since just before fork().
 * The first line containing MARKER (default "PTVM-L3: init reached") gives
 * marker_ms. Every 10 ms /proc/PID/status is read; every 250 ms (and at the
 * marker) also /proc/PID/smaps, where every mapping of at least GUEST_KIB is
 * taken to be guest RAM (a memfd for ptvm, anonymous memory for QEMU; nothing
 * else in either is that large). One line of key=value results goes to
 * stdout when COMMAND ends (all sizes in KiB):
 *   marker_ms exit_ms status   (status: exit status, 128+signal, or "timeout")
 *   maxrss      ru_maxrss from wait4(): the peak resident set
 *   hwm         VmHWM, last value read before exit
 *   rss anon file shmem        VmRSS RssAnon RssFile RssShmem at the sample
 *                              with the highest VmRSS
 *   guest_ram   the most guest RAM seen resident (-1 without -g)
 *   beyond      the most seen of: all Rss in smaps minus guest RAM's, i.e.
 *               the VMM's own memory (binary, libraries, heap, stacks);
 *               without -g, all of it
 *   beyond_init the same at the moment the marker arrived (steady state;
 *               -1 if the marker never came)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What the status and smaps samples found so far. */
struct mem_sample {
	long hwm, rss, anon, file, shmem; /* status values at the max-VmRSS sample */
	long last_hwm;
	long guest_ram, beyond;           /* maxima over the smaps samples */
	long beyond_init;                 /* beyond at the marker, -1 if not seen */
	bool have_status, have_smaps;
};

/* Milliseconds of CLOCK_MONOTONIC since *t0. */
static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Value in KiB of "Key:   123 kB" line `key` of a status-like buffer, or -1. */
static long field_kb(const char *buf, const char *key)
{
	size_t n = strlen(key);
	const char *p = buf;

	while (p && *p) {
		if (!strncmp(p, key, n) && p[n] == ':')
			return strtol(p + n + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

/* Read a whole /proc file into a malloc'd, NUL-terminated buffer, or NULL. */
static char *read_proc(pid_t pid, const char *name)
{
	char path[64], *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (!nb)
				break;
			buf = nb;
			cap += 65536;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r <= 0)
			break;
		len += r;
	}
	close(fd);
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* Sample /proc/PID/status; keep the breakdown of the highest VmRSS seen. */
static void sample_status(pid_t pid, struct mem_sample *s)
{
	char *buf = read_proc(pid, "status");
	long rss, hwm;

	if (!buf)
		return;
	rss = field_kb(buf, "VmRSS");
	hwm = field_kb(buf, "VmHWM");
	/* a zombie has no Vm lines: keep what was read while it lived */
	if (rss >= 0 && hwm >= 0) {
		s->last_hwm = hwm;
		if (!s->have_status || rss > s->rss) {
			s->rss = rss;
			s->hwm = hwm;
			s->anon = field_kb(buf, "RssAnon");
			s->file = field_kb(buf, "RssFile");
			s->shmem = field_kb(buf, "RssShmem");
			s->have_status = true;
		}
	}
	free(buf);
}

/*
 * Sample /proc/PID/smaps: Rss of guest RAM (mappings >= guest_kib) and the
 * rest; at_marker also records the rest as beyond_init.
 */
static void sample_smaps(pid_t pid, long guest_kib, bool at_marker, struct mem_sample *s)
{
	char *buf = read_proc(pid, "smaps"), *line, *save = NULL;
	unsigned long start, end, cur_size = 0;
	long total = 0, ram = 0;

	if (!buf)
		return;
	/* A mapping is a header "start-end perms ..." followed by "Key: value" lines. */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* a "Key:" line never parses as two hex numbers joined by '-' */
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			cur_size = end - start;
			continue;
		}
		if (!strncmp(line, "Rss:", 4)) {
			long cur_rss = strtol(line + 4, NULL, 10);

			total += cur_rss;
			if (guest_kib > 0 && cur_size / 1024 >= (unsigned long)guest_kib)
				ram += cur_rss;
		}
	}
	free(buf);
	if (total <= 0)
		return; /* the process is gone */
	if (at_marker)
		s->beyond_init = total - ram;
	if (!s->have_smaps || total - ram > s->beyond)
		s->beyond = total - ram;
	if (!s->have_smaps || ram > s->guest_ram)
		s->guest_ram = ram;
	s->have_smaps = true;
}

/* Kill the child when it outlives the timeout; its pipe then reaches EOF. */
static void kill_child(pid_t pid)
{
	kill(pid, SIGKILL);
}

/* Fork and exec argv with stdout on a pipe; returns the pid, *fd = read end. */
static pid_t spawn(char **argv, int *fd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, STDIN_FILENO);
		dup2(p[1], STDOUT_FILENO);
		execvp(argv[0], argv);
		fprintf(stderr, "probe: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	*fd = p[0];
	return pid;
}

int main(int argc, char **argv)
{
	const char *marker = "PTVM-L3: init reached", *console = NULL;
	double timeout_s = 300, marker_ms = -1, exit_ms;
	long guest_kib = 0;
	struct mem_sample s = { .beyond_init = -1 };
	struct timespec t0, next_smaps = { 0 };
	char line[4096];
	size_t line_len = 0;
	FILE *con = NULL;
	struct rusage ru;
	bool timed_out = false, eof = false;
	int opt, fd, wstatus = 0;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+m:o:t:g:")) != -1) {
		switch (opt) {
		case 'm': marker = optarg; break;
		case 'o': console = optarg; break;
		case 't': timeout_s = atof(optarg); break;
		case 'g': guest_kib = atol(optarg); break;
		default:
			fprintf(stderr, "usage: probe [-m MARKER] [-o CONSOLE] [-t SECONDS] [-g GUEST_KIB] -- COMMAND [ARGS...]\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "probe: no COMMAND given\n");
		return 2;
	}
	if (console) {
		con = fopen(console, "w");
		if (!con) {
			fprintf(stderr, "probe: cannot write %s: %s\n", console, strerror(errno));
			return 2;
		}
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = spawn(argv + optind, &fd);
	if (pid < 0) {
		fprintf(stderr, "probe: cannot start %s: %s\n", argv[optind], strerror(errno));
		return 2;
	}
	while (!eof) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char buf[4096];
		ssize_t r;

		if (poll(&pfd, 1, 10) > 0) {
			r = read(fd, buf, sizeof(buf));
			if (r <= 0)
				eof = true;
			/* split into lines; each is stamped when its newline arrives */
			for (ssize_t i = 0; i < r; i++) {
				if (buf[i] != '\n' && line_len < sizeof(line) - 1) {
					line[line_len++] = buf[i];
					continue;
				}
				if (buf[i] != '\n')
					continue;
				line[line_len] = '\0';
				double now = ms_since(&t0);

				if (marker_ms < 0 && strstr(line, marker)) {
					marker_ms = now;
					sample_smaps(pid, guest_kib, true, &s);
				}
				if (con)
					fprintf(con, "%10.1f %s\n", now, line);
				line_len = 0;
			}
		}
		sample_status(pid, &s);
		if (ms_since(&next_smaps) >= 0) {
			sample_smaps(pid, guest_kib, false, &s);
			clock_gettime(CLOCK_MONOTONIC, &next_smaps);
			next_smaps.tv_nsec += 250 * 1000000L;
			if (next_smaps.tv_nsec >= 1000000000L) {
				next_smaps.tv_sec++;
				next_smaps.tv_nsec -= 1000000000L;
			}
		}
		if (!timed_out && ms_since(&t0) > timeout_s * 1e3) {
			kill_child(pid);
			timed_out = true;
		}
	}
	if (wait4(pid, &wstatus, 0, &ru) < 0) {
		fprintf(stderr, "probe: wait4: %s\n", strerror(errno));
		return 2;
	}
	exit_ms = ms_since(&t0);
	if (con)
		fclose(con);

	if (timed_out)
		printf("status=timeout");
	else if (WIFEXITED(wstatus))
		printf("status=%d", WEXITSTATUS(wstatus));
	else
		printf("status=%d", 128 + WTERMSIG(wstatus));
	printf(" marker_ms=%.1f exit_ms=%.1f maxrss=%ld hwm=%ld rss=%ld anon=%ld file=%ld shmem=%ld guest_ram=%ld beyond=%ld beyond_init=%ld\n",
	       marker_ms, exit_ms, ru.ru_maxrss, s.last_hwm, s.rss, s.anon, s.file, s.shmem,
	       s.have_smaps && guest_kib ? s.guest_ram : -1, s.have_smaps ? s.beyond : -1,
	       s.beyond_init);
	return 0;
}
