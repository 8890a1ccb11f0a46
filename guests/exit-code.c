/*
 * Tests the debug-exit port itself: leaves with the status given as
 * "status=N" on the command line, so the host can check that ptvm exits
 * with exactly N. The one guest that does not exit with its failure count.
 */
#include "lib/libguest.h"

// Exit with status=N (after checking the command line made sense).
int main(void)
{
	u64 status = cmdline_get_u64("status", 1000);
	int failures;

	report(status < 256, "command line has status=N with N < 256 (got %lu)", status);
	failures = report_summary();
	if (failures)
		return failures;
	guest_exit((int)status);
}
