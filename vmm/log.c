/* Logging to stderr, one line per message. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "vmm/log.h"

/* Process-wide verbosity, written once by main() before any thread starts. */
static enum log_level max_level = LOG_WARN;

void log_set_level(enum log_level level)
{
	max_level = level;
}

enum log_level log_get_level(void)
{
	return max_level;
}

static void vlog(const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* one write per line so lines from vCPU threads do not interleave */
	fprintf(stderr, "ptvm: %s\n", buf);
}

// Print one line if the level is enabled.
void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

// Print one error line and exit with status 1.
void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
	exit(1);
}
