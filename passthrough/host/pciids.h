/*
 * Vendor, device and class names from Debian's pci.ids (package pci.ids,
 * /usr/share/misc/pci.ids under the sysfs root). Without the file every
 * lookup gives "" and callers print the numbers only.
 */
#ifndef PTVM_HOST_PCIIDS_H
#define PTVM_HOST_PCIIDS_H

#include <stddef.h>

#include "passthrough/host/sysfs.h"

#define PCIIDS_PATH "usr/share/misc/pci.ids"

struct pciids {
	char *data;     /* the whole file, NUL-terminated; NULL when missing */
	size_t len;
};

/* Load the file; a missing file is not an error (data stays NULL). -errno on others. */
int pciids_load(struct pciids *p, const struct sysfs *s);
void pciids_free(struct pciids *p);
/* Names into buf ("" when unknown). Each returns buf. */
const char *pciids_vendor(const struct pciids *p, unsigned int vendor, char *buf, size_t len);
const char *pciids_device(const struct pciids *p, unsigned int vendor, unsigned int device,
			  char *buf, size_t len);
/* class is the 24-bit class code; gives the subclass name, else the class name. */
const char *pciids_class(const struct pciids *p, unsigned int class, char *buf, size_t len);

#endif
