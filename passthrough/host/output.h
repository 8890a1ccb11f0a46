/*
 * Output for the host tools: aligned tables and marked lines for people
 * (colour only when stdout is a terminal and NO_COLOR is unset), and small
 * JSON helpers for --json.
 */
#ifndef PTVM_HOST_OUTPUT_H
#define PTVM_HOST_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

struct out {
	FILE *f;
	bool json;
	bool color;
};

enum out_mark { MARK_OK, MARK_WARN, MARK_FAIL, MARK_INFO, MARK_NONE };

#define TABLE_MAX_COLS 10

struct out_table {
	int ncols;
	const char *heads[TABLE_MAX_COLS];
	int status_col;         /* column coloured by the row's mark, -1 = none */
	int nrows, cap;
	char **cells;           /* nrows * ncols malloc'd strings */
	enum out_mark *marks;
};

void out_init(struct out *o, FILE *f, bool json);
/* "  ok    text", "  FAIL  text", ... one line (people only; nothing in JSON mode). */
void out_line(const struct out *o, enum out_mark m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void table_init(struct out_table *t, int ncols, const char *const *heads, int status_col);
/* Append a row of ncols strings (copied); -ENOMEM on failure. */
int table_add(struct out_table *t, enum out_mark m, const char *const *cells);
/* Print with every column padded to its widest cell; the last one is not padded. */
void table_print(const struct out *o, const struct out_table *t, const char *indent);
void table_free(struct out_table *t);

/* A JSON string literal with quotes and escapes. */
void json_str(FILE *f, const char *s);
/* "key": "value" with a leading comma unless first. */
void json_kv_str(FILE *f, bool first, const char *key, const char *val);

#endif
