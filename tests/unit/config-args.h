/*
 * Fixture for the `ptvm run` parser tests (test-config*.c): builds a writable
 * argv "run ARGS..." and parses it into the file's C, errors into E.
 * Include it once per test file, after harness.h.
 */
#ifndef PTVM_TEST_CONFIG_ARGS_H
#define PTVM_TEST_CONFIG_ARGS_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vmm/config.h"

/* Writable argv, as main() gets it: the parser may cut values at commas. */
struct args {
	char buf[24][256];
	char *argv[25];
	int argc;
};

/* Parse "run" followed by the NULL-terminated list of (at most 23) arguments. */
static int parse_list(struct vm_config *c, char *err, size_t errlen, struct args *a, ...)
{
	va_list ap;
	const char *s;

	memset(a, 0, sizeof(*a));
	strcpy(a->buf[0], "run");
	a->argv[a->argc++] = a->buf[0];
	va_start(ap, a);
	while ((s = va_arg(ap, const char *))) {
		snprintf(a->buf[a->argc], sizeof(a->buf[0]), "%s", s);
		a->argv[a->argc] = a->buf[a->argc];
		a->argc++;
	}
	va_end(ap);
	config_init(c);
	return config_parse_run(c, a->argc, a->argv, err, errlen);
}

static struct args A;
static struct vm_config C;
static char E[512];

/* Parse the arguments into C, errors into E. */
#define PARSE(...) parse_list(&C, E, sizeof(E), &A, __VA_ARGS__, (const char *)NULL)
/* Parse and expect an error whose line contains msg. */
#define PARSE_ERR(msg, ...) do { \
	E[0] = 0; \
	ASSERT_EQ(PARSE(__VA_ARGS__), -1); \
	ASSERT_STR_CONTAINS(E, msg); \
	ASSERT_TRUE(!strchr(E, '\n')); \
} while (0)

#endif
