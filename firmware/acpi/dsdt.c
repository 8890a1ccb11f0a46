/*
 * Links in the DSDT that iasl compiled at build time (meson custom_target in
 * firmware/meson.build: iasl -tc writes build/firmware/dsdt.hex).
 */
#include "firmware/acpi/dsdt.h"

/*
 * iasl -tc writes "unsigned char dsdt_aml_code[] = { ... };" with no storage
 * class or const. The words in front of the #include turn it into a private
 * constant, so the only name this file exports is ours and the template
 * cannot be modified by accident.
 */
static const
#include "firmware/dsdt.hex"

// Return the compiled DSDT template.
const u8 *acpi_dsdt_template(size_t *len)
{
	*len = sizeof(dsdt_aml_code);
	return dsdt_aml_code;
}
