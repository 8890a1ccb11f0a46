/*
 * Logging. Every message is one line on stderr prefixed "ptvm: ".
 * pr_err: something failed; pr_warn: it goes on but the user should know;
 * pr_info: progress (shown with -v); pr_debug: details (shown with -vv).
 * die() is for setup errors only: it prints the line and exits with status 1.
 */
#ifndef PTVM_LOG_H
#define PTVM_LOG_H

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Set once by main() from -v/-q before any VM exists. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define pr_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
