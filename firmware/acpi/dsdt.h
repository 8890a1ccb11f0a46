/*
 * The DSDT as iasl compiled it from firmware/acpi/dsdt.asl: a template with
 * placeholder values that acpi.c patches (see the ASL).
 */
#ifndef PTVM_ACPI_DSDT_H
#define PTVM_ACPI_DSDT_H

#include "vmm/common.h"

/* The AML bytes (a whole table, header included); *len gets their count. */
const u8 *acpi_dsdt_template(size_t *len);

#endif
