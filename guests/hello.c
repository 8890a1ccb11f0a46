/*
 * The smallest guest: proves boot, COM1 output and the debug-exit port, and
 * checks the setup header fields a loader fills in. Command line: len=N
 * checks that the N bytes from "len=" to a final " end" arrived whole.
 */
#include "lib/libguest.h"

// Unaligned 32-bit read.
static u32 get32(const u8 *p)
{
	u32 v;

	memcpy(&v, p, 4);
	return v;
}

// Print the greeting and check what the loader told us.
int main(void)
{
	const u8 *bp = boot_params();
	u32 cmd = get32(bp + BP_CMD_LINE_PTR);
	const char *len_word = NULL;

	for (const char *p = cmdline(); *p && !len_word; p++)
		if (!strncmp(p, "len=", 4) && (p == cmdline() || p[-1] == ' '))
			len_word = p;

	printf("hello from ptvm guest\n");
	printf("boot_params at 0x%lx, cmdline \"%s\", apic id %u\n", boot_params_addr(),
	       cmdline(), lapic_id());
	report(boot_params()[BP_BOOT_FLAG] == 0x55 && boot_params()[BP_BOOT_FLAG + 1] == 0xaa,
	       "boot_params carries the setup header (boot_flag 0xaa55)");
	report(!memcmp(boot_params() + BP_HEADER_MAGIC, "HdrS", 4), "setup header magic HdrS");
	report(bp[BP_TYPE_OF_LOADER] != 0, "loader set type_of_loader (0x%02x)", bp[BP_TYPE_OF_LOADER]);
	report(get32(bp + BP_CODE32_START) == GUEST_LOAD_ADDR && (bp[BP_LOADFLAGS] & LOADED_HIGH),
	       "code32_start and LOADED_HIGH as in our header");
	report(cmd && cmd + strlen(cmdline()) < GUEST_LOAD_ADDR,
	       "command line at 0x%x, below the image", cmd);
	if (len_word)
		report(strlen(len_word) == cmdline_get_u64("len", 0) &&
		       !strncmp(len_word + strlen(len_word) - 4, " end", 5),
		       "command line of %lu bytes from len= to \"end\" arrived whole (got %lu)",
		       cmdline_get_u64("len", 0), (u64)strlen(len_word));
	return report_summary();
}
