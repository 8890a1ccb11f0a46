/* The smallest guest: proves boot, COM1 output and the debug-exit port. */
#include "lib/libguest.h"

// Print the greeting and what the loader told us.
int main(void)
{
	printf("hello from ptvm guest\n");
	printf("boot_params at 0x%lx, cmdline \"%s\", apic id %u\n", boot_params_addr(),
	       cmdline(), lapic_id());
	report(boot_params()[BP_BOOT_FLAG] == 0x55 && boot_params()[BP_BOOT_FLAG + 1] == 0xaa,
	       "boot_params carries the setup header (boot_flag 0xaa55)");
	report(!memcmp(boot_params() + BP_HEADER_MAGIC, "HdrS", 4), "setup header magic HdrS");
	return report_summary();
}
