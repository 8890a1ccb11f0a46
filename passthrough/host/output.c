/* Tables, marked lines and JSON strings for the host tools. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "passthrough/host/output.h"

#define C_RESET "\033[0m"

static const char *const mark_text[] = {
	[MARK_OK] = "ok", [MARK_WARN] = "warn", [MARK_FAIL] = "FAIL",
	[MARK_INFO] = "info", [MARK_NONE] = "",
};
static const char *const mark_color[] = {
	[MARK_OK] = "\033[32m", [MARK_WARN] = "\033[33m", [MARK_FAIL] = "\033[1;31m",
	[MARK_INFO] = "\033[36m", [MARK_NONE] = "",
};

// Colours only for a terminal, and never when the user set NO_COLOR.
void out_init(struct out *o, FILE *f, bool json)
{
	const char *nc = getenv("NO_COLOR");

	o->f = f;
	o->json = json;
	o->color = !json && isatty(fileno(f)) && !(nc && *nc);
}

// One human line with a fixed-width mark in front.
void out_line(const struct out *o, enum out_mark m, const char *fmt, ...)
{
	va_list ap;

	if (o->json)
		return;
	if (o->color && m != MARK_NONE)
		fprintf(o->f, "  %s%-4s%s  ", mark_color[m], mark_text[m], C_RESET);
	else
		fprintf(o->f, "  %-4s  ", mark_text[m]);
	va_start(ap, fmt);
	vfprintf(o->f, fmt, ap);
	va_end(ap);
	fputc('\n', o->f);
}

// Columns and their headings; rows come later.
void table_init(struct out_table *t, int ncols, const char *const *heads, int status_col)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols > TABLE_MAX_COLS ? TABLE_MAX_COLS : ncols;
	for (int i = 0; i < t->ncols; i++)
		t->heads[i] = heads[i];
	t->status_col = status_col;
}

// Copy one row in, growing the arrays by doubling.
int table_add(struct out_table *t, enum out_mark m, const char *const *cells)
{
	if (t->nrows == t->cap) {
		int cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cells, (size_t)cap * t->ncols * sizeof(char *));
		enum out_mark *mk;

		if (!c)
			return -ENOMEM;
		t->cells = c;
		mk = realloc(t->marks, (size_t)cap * sizeof(*mk));
		if (!mk)
			return -ENOMEM;
		t->marks = mk;
		t->cap = cap;
	}
	for (int i = 0; i < t->ncols; i++) {
		char *d = strdup(cells[i] ? cells[i] : "");

		if (!d) {
			while (i-- > 0)
				free(t->cells[t->nrows * t->ncols + i]);
			return -ENOMEM;
		}
		t->cells[t->nrows * t->ncols + i] = d;
	}
	t->marks[t->nrows++] = m;
	return 0;
}

// Width on screen: UTF-8 continuation bytes take no column (pci.ids has a few).
static int text_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

// Print one cell padded to width (unless it is the last column).
static void print_cell(const struct out *o, const char *s, int width, bool last,
		       const char *color)
{
	bool c = o->color && color && *color;

	fprintf(o->f, "%s%s%s", c ? color : "", s, c ? C_RESET : "");
	if (!last)
		fprintf(o->f, "%*s", width - text_width(s) + 2, "");
}

// Headings then rows, all columns aligned.
void table_print(const struct out *o, const struct out_table *t, const char *indent)
{
	int width[TABLE_MAX_COLS];

	for (int c = 0; c < t->ncols; c++) {
		width[c] = text_width(t->heads[c]);
		for (int r = 0; r < t->nrows; r++) {
			int w = text_width(t->cells[r * t->ncols + c]);

			if (w > width[c])
				width[c] = w;
		}
	}
	fputs(indent, o->f);
	for (int c = 0; c < t->ncols; c++)
		print_cell(o, t->heads[c], width[c], c == t->ncols - 1, "\033[1m");
	fputc('\n', o->f);
	for (int r = 0; r < t->nrows; r++) {
		int last = t->ncols - 1;

		/* no padding after the last non-empty cell: no trailing blanks */
		while (last > 0 && !t->cells[r * t->ncols + last][0])
			last--;
		fputs(indent, o->f);
		for (int c = 0; c <= last; c++)
			print_cell(o, t->cells[r * t->ncols + c], width[c], c == last,
				   c == t->status_col ? mark_color[t->marks[r]] : NULL);
		fputc('\n', o->f);
	}
}

// Free every cell and the arrays.
void table_free(struct out_table *t)
{
	for (int i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->marks);
	t->cells = NULL;
	t->marks = NULL;
	t->nrows = t->cap = 0;
}

// RFC 8259 escaping: quote, backslash and control characters.
void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

// One string member of an object.
void json_kv_str(FILE *f, bool first, const char *key, const char *val)
{
	fprintf(f, "%s\"%s\": ", first ? "" : ", ", key);
	json_str(f, val);
}
