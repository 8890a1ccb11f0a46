/*
 * A tiny TAP test harness for meson (protocol: 'tap').
 *   TEST(name) { ASSERT_EQ(a, b); ... }
 *   int main(void) { RUN(name); ...; return test_done(); }
 */
#ifndef PTVM_TEST_HARNESS_H
#define PTVM_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_state {
	int run, failed;
	int cur_failed;
};

static struct test_state test_state;

#define TEST(name) static void test_##name(void)

#define RUN(name) do { \
	test_state.cur_failed = 0; \
	test_##name(); \
	test_state.run++; \
	if (test_state.cur_failed) test_state.failed++; \
	printf("%s %d - %s\n", test_state.cur_failed ? "not ok" : "ok", test_state.run, #name); \
	fflush(stdout); \
} while (0)

#define FAIL_AT(...) do { \
	printf("# %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); \
	test_state.cur_failed = 1; \
} while (0)

#define ASSERT_TRUE(c) do { if (!(c)) { FAIL_AT("expected true: %s", #c); return; } } while (0)
#define ASSERT_FALSE(c) do { if (c) { FAIL_AT("expected false: %s", #c); return; } } while (0)
#define ASSERT_EQ(a, b) do { \
	unsigned long long _a = (unsigned long long)(a), _b = (unsigned long long)(b); \
	if (_a != _b) { FAIL_AT("%s == %s: 0x%llx != 0x%llx", #a, #b, _a, _b); return; } \
} while (0)
#define ASSERT_NE(a, b) do { \
	unsigned long long _a = (unsigned long long)(a), _b = (unsigned long long)(b); \
	if (_a == _b) { FAIL_AT("%s != %s: both 0x%llx", #a, #b, _a); return; } \
} while (0)
#define ASSERT_STR_EQ(a, b) do { \
	const char *_a = (a), *_b = (b); \
	if (!_a || !_b || strcmp(_a, _b)) { FAIL_AT("%s == %s: \"%s\" != \"%s\"", #a, #b, _a ? _a : "(null)", _b ? _b : "(null)"); return; } \
} while (0)
#define ASSERT_STR_CONTAINS(hay, needle) do { \
	const char *_h = (hay), *_n = (needle); \
	if (!_h || !strstr(_h, _n)) { FAIL_AT("\"%s\" does not contain \"%s\"", _h ? _h : "(null)", _n); return; } \
} while (0)

static inline int test_done(void)
{
	printf("1..%d\n", test_state.run);
	return test_state.failed ? 1 : 0;
}

#endif
