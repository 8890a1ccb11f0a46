/*
 * Private to the `ptvm run` parser (config.c, config-device.c,
 * config-firmware.c): the parse context, the comma-separated token walker
 * and the option parsers that live outside config.c. config.h is the
 * public interface; nothing else includes this file.
 */
#ifndef PTVM_CONFIG_PRIV_H
#define PTVM_CONFIG_PRIV_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vmm/config.h"

/* A piece of an option value: a comma-separated token, not NUL-terminated. */
struct tok {
	const char *s;
	size_t len;
};

/* Where parsing stands: errors go to err, and a few facts for final checks. */
struct parse_ctx {
	struct vm_config *c;
	char *err;
	size_t errlen;
	bool cmdline_given;
};

/* Record one error line; always returns -1 so callers can `return fail(...)`. */
__attribute__((format(printf, 2, 3)))
static inline int fail(struct parse_ctx *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Next comma-separated token of *rest; false at the end. An empty value has
 * one empty token, so "--memory=" is reported rather than ignored. */
static inline bool tok_next(const char **rest, struct tok *t)
{
	const char *comma;

	if (!*rest)
		return false;
	t->s = *rest;
	comma = strchr(*rest, ',');
	t->len = comma ? (size_t)(comma - *rest) : strlen(*rest);
	*rest = comma ? comma + 1 : NULL;
	return true;
}

/* The first token of a value: there always is one, maybe empty. */
static inline struct tok tok_first(const char **rest)
{
	struct tok t = { .s = *rest, .len = 0 };

	tok_next(rest, &t);
	return t;
}

/* Whether token t is exactly the string s. */
static inline bool tok_is(const struct tok *t, const char *s)
{
	return strlen(s) == t->len && !memcmp(t->s, s, t->len);
}

/* Split "key=value" into key and value; false if t has no '='. */
static inline bool tok_kv(const struct tok *t, struct tok *key, struct tok *val)
{
	const char *eq = memchr(t->s, '=', t->len);

	if (!eq)
		return false;
	key->s = t->s;
	key->len = (size_t)(eq - t->s);
	val->s = eq + 1;
	val->len = t->len - key->len - 1;
	return true;
}

/* Copy t into buf as a C string; false if it does not fit. */
static inline bool tok_copy(const struct tok *t, char *buf, size_t size)
{
	if (t->len >= size)
		return false;
	memcpy(buf, t->s, t->len);
	buf[t->len] = 0;
	return true;
}

/* The value with its commas turned into NULs (see the top of config.c). */
static inline void cut_commas(char *val)
{
	for (char *s = strchr(val, ','); s; s = strchr(s + 1, ','))
		*s = 0;
}

/* "on" or "off" for setting key of option opt (config.c). */
int config_parse_onoff(struct parse_ctx *p, const char *opt, const struct tok *key,
		       const struct tok *val, bool *out);
/* A decimal or 0x-hex number (no sign, no octal); -EINVAL if not one (config.c). */
int config_parse_number(const char *s, u64 *out);
/* 1..maxdigits hex digits of s up to stop; value or -1 (config.c). */
long config_parse_hex(const char *s, const char *stop, int maxdigits);

/* --device vfio,... or --device ivshmem,... (config-device.c) */
int config_opt_device(struct parse_ctx *p, const char *opt, char *val);

/* The firmware options (config-firmware.c): --firmware, --boot, --cpu, --rtc, --smbios */
int config_opt_firmware(struct parse_ctx *p, const char *opt, char *val);
int config_opt_boot(struct parse_ctx *p, const char *opt, char *val);
int config_opt_cpu(struct parse_ctx *p, const char *opt, char *val);
int config_opt_rtc(struct parse_ctx *p, const char *opt, char *val);
int config_opt_smbios(struct parse_ctx *p, const char *opt, char *val);

#endif
