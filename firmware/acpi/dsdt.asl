/*
 * ptvm's DSDT: the parts of the ACPI namespace that do not depend on the VM's
 * size. Compiled by iasl at build time into a C array (firmware/acpi/dsdt.c);
 * acpi.c patches the 64-bit PCI window into PCI0._CRS and fixes the checksum.
 *
 * The numbers here must match vmm/layout.h and devices/pci/pci.h;
 * tests/unit/test-acpi.c checks them against those headers byte by byte.
 * Processors are not here: their count varies, so acpi.c builds them in an
 * SSDT.
 */
DefinitionBlock ("", "DSDT", 2, "PTVM  ", "PTVMDSDT", 1)
{
    Scope (\_SB)
    {
        /* The PCI Express root complex: bus 0 of segment 0, ECAM in MCFG. */
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A08"))
            Name (_CID, EisaId ("PNP0A03"))
            Name (_SEG, Zero)
            Name (_UID, Zero)
            Name (_BBN, Zero)

            Name (_CRS, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0x0000, 0x0000, 0x00FF, 0x0000, 0x0100)
                /* config mechanism #1: the bridge itself decodes these */
                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)
                /* legacy VGA memory, for a passed-through VGA device */
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,
                    0x00000000, 0x000A0000, 0x000BFFFF, 0x00000000, 0x00020000)
                /* LAYOUT_MMIO32_BASE .. LAYOUT_MMIO32_END */
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
                    0x00000000, 0xC0000000, 0xFEBFFFFF, 0x00000000, 0x3EC00000)
                /*
                 * The 64-bit window (layout mmio64_base/size). PLACEHOLDER
                 * values: acpi.c finds each of Min, Max and Length exactly
                 * once in the AML and replaces them; keep them in step with
                 * ACPI_DSDT_PH_* in acpi.c.
                 */
                QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,
                    0x0000000000000000, 0x00007A5C00000000, 0x00007B0CFFFFFFFF, 0x0000000000000000,
                    0x000000B100000000)
            })

            /*
             * Grant the OS native control of PCIe hotplug, SHPC hotplug, PME,
             * AER and the PCIe capability (bits 0-4 of the control DWORD):
             * ptvm has no firmware-first handling of any of them.
             */
            Method (_OSC, 4, NotSerialized)
            {
                CreateDWordField (Arg3, 0x00, CDW1)
                If (Arg0 == ToUUID ("33db4d5b-1ff7-401c-9657-7441c03dd766"))
                {
                    CreateDWordField (Arg3, 0x08, CDW3)
                    Local0 = CDW3 & 0x1F
                    If (Arg1 != One)
                    {
                        CDW1 |= 0x08    /* unrecognized revision */
                    }
                    If (CDW3 != Local0)
                    {
                        CDW1 |= 0x10    /* capabilities masked */
                    }
                    CDW3 = Local0
                }
                Else
                {
                    CDW1 |= 0x04        /* unrecognized UUID */
                }
                Return (Arg3)
            }

            /*
             * INTx routing, PCI_INTX_GSI in devices/pci/pci.h: slot S pin P
             * (0 = INTA) -> GSI 16 + ((S + P) & 7), level-triggered, active
             * high (IOAPIC pins 16-23 have no MADT override, so the PCI
             * default applies). Static so every OS reads the same package.
             */
            Name (_PRT, Package ()
            {
                Package () { 0x0001FFFF, 0, Zero, 17 },
                Package () { 0x0001FFFF, 1, Zero, 18 },
                Package () { 0x0001FFFF, 2, Zero, 19 },
                Package () { 0x0001FFFF, 3, Zero, 20 },
                Package () { 0x0002FFFF, 0, Zero, 18 },
                Package () { 0x0002FFFF, 1, Zero, 19 },
                Package () { 0x0002FFFF, 2, Zero, 20 },
                Package () { 0x0002FFFF, 3, Zero, 21 },
                Package () { 0x0003FFFF, 0, Zero, 19 },
                Package () { 0x0003FFFF, 1, Zero, 20 },
                Package () { 0x0003FFFF, 2, Zero, 21 },
                Package () { 0x0003FFFF, 3, Zero, 22 },
                Package () { 0x0004FFFF, 0, Zero, 20 },
                Package () { 0x0004FFFF, 1, Zero, 21 },
                Package () { 0x0004FFFF, 2, Zero, 22 },
                Package () { 0x0004FFFF, 3, Zero, 23 },
                Package () { 0x0005FFFF, 0, Zero, 21 },
                Package () { 0x0005FFFF, 1, Zero, 22 },
                Package () { 0x0005FFFF, 2, Zero, 23 },
                Package () { 0x0005FFFF, 3, Zero, 16 },
                Package () { 0x0006FFFF, 0, Zero, 22 },
                Package () { 0x0006FFFF, 1, Zero, 23 },
                Package () { 0x0006FFFF, 2, Zero, 16 },
                Package () { 0x0006FFFF, 3, Zero, 17 },
                Package () { 0x0007FFFF, 0, Zero, 23 },
                Package () { 0x0007FFFF, 1, Zero, 16 },
                Package () { 0x0007FFFF, 2, Zero, 17 },
                Package () { 0x0007FFFF, 3, Zero, 18 },
                Package () { 0x0008FFFF, 0, Zero, 16 },
                Package () { 0x0008FFFF, 1, Zero, 17 },
                Package () { 0x0008FFFF, 2, Zero, 18 },
                Package () { 0x0008FFFF, 3, Zero, 19 },
                Package () { 0x0009FFFF, 0, Zero, 17 },
                Package () { 0x0009FFFF, 1, Zero, 18 },
                Package () { 0x0009FFFF, 2, Zero, 19 },
                Package () { 0x0009FFFF, 3, Zero, 20 },
                Package () { 0x000AFFFF, 0, Zero, 18 },
                Package () { 0x000AFFFF, 1, Zero, 19 },
                Package () { 0x000AFFFF, 2, Zero, 20 },
                Package () { 0x000AFFFF, 3, Zero, 21 },
                Package () { 0x000BFFFF, 0, Zero, 19 },
                Package () { 0x000BFFFF, 1, Zero, 20 },
                Package () { 0x000BFFFF, 2, Zero, 21 },
                Package () { 0x000BFFFF, 3, Zero, 22 },
                Package () { 0x000CFFFF, 0, Zero, 20 },
                Package () { 0x000CFFFF, 1, Zero, 21 },
                Package () { 0x000CFFFF, 2, Zero, 22 },
                Package () { 0x000CFFFF, 3, Zero, 23 },
                Package () { 0x000DFFFF, 0, Zero, 21 },
                Package () { 0x000DFFFF, 1, Zero, 22 },
                Package () { 0x000DFFFF, 2, Zero, 23 },
                Package () { 0x000DFFFF, 3, Zero, 16 },
                Package () { 0x000EFFFF, 0, Zero, 22 },
                Package () { 0x000EFFFF, 1, Zero, 23 },
                Package () { 0x000EFFFF, 2, Zero, 16 },
                Package () { 0x000EFFFF, 3, Zero, 17 },
                Package () { 0x000FFFFF, 0, Zero, 23 },
                Package () { 0x000FFFFF, 1, Zero, 16 },
                Package () { 0x000FFFFF, 2, Zero, 17 },
                Package () { 0x000FFFFF, 3, Zero, 18 },
                Package () { 0x0010FFFF, 0, Zero, 16 },
                Package () { 0x0010FFFF, 1, Zero, 17 },
                Package () { 0x0010FFFF, 2, Zero, 18 },
                Package () { 0x0010FFFF, 3, Zero, 19 },
                Package () { 0x0011FFFF, 0, Zero, 17 },
                Package () { 0x0011FFFF, 1, Zero, 18 },
                Package () { 0x0011FFFF, 2, Zero, 19 },
                Package () { 0x0011FFFF, 3, Zero, 20 },
                Package () { 0x0012FFFF, 0, Zero, 18 },
                Package () { 0x0012FFFF, 1, Zero, 19 },
                Package () { 0x0012FFFF, 2, Zero, 20 },
                Package () { 0x0012FFFF, 3, Zero, 21 },
                Package () { 0x0013FFFF, 0, Zero, 19 },
                Package () { 0x0013FFFF, 1, Zero, 20 },
                Package () { 0x0013FFFF, 2, Zero, 21 },
                Package () { 0x0013FFFF, 3, Zero, 22 },
                Package () { 0x0014FFFF, 0, Zero, 20 },
                Package () { 0x0014FFFF, 1, Zero, 21 },
                Package () { 0x0014FFFF, 2, Zero, 22 },
                Package () { 0x0014FFFF, 3, Zero, 23 },
                Package () { 0x0015FFFF, 0, Zero, 21 },
                Package () { 0x0015FFFF, 1, Zero, 22 },
                Package () { 0x0015FFFF, 2, Zero, 23 },
                Package () { 0x0015FFFF, 3, Zero, 16 },
                Package () { 0x0016FFFF, 0, Zero, 22 },
                Package () { 0x0016FFFF, 1, Zero, 23 },
                Package () { 0x0016FFFF, 2, Zero, 16 },
                Package () { 0x0016FFFF, 3, Zero, 17 },
                Package () { 0x0017FFFF, 0, Zero, 23 },
                Package () { 0x0017FFFF, 1, Zero, 16 },
                Package () { 0x0017FFFF, 2, Zero, 17 },
                Package () { 0x0017FFFF, 3, Zero, 18 },
                Package () { 0x0018FFFF, 0, Zero, 16 },
                Package () { 0x0018FFFF, 1, Zero, 17 },
                Package () { 0x0018FFFF, 2, Zero, 18 },
                Package () { 0x0018FFFF, 3, Zero, 19 },
                Package () { 0x0019FFFF, 0, Zero, 17 },
                Package () { 0x0019FFFF, 1, Zero, 18 },
                Package () { 0x0019FFFF, 2, Zero, 19 },
                Package () { 0x0019FFFF, 3, Zero, 20 },
                Package () { 0x001AFFFF, 0, Zero, 18 },
                Package () { 0x001AFFFF, 1, Zero, 19 },
                Package () { 0x001AFFFF, 2, Zero, 20 },
                Package () { 0x001AFFFF, 3, Zero, 21 },
                Package () { 0x001BFFFF, 0, Zero, 19 },
                Package () { 0x001BFFFF, 1, Zero, 20 },
                Package () { 0x001BFFFF, 2, Zero, 21 },
                Package () { 0x001BFFFF, 3, Zero, 22 },
                Package () { 0x001CFFFF, 0, Zero, 20 },
                Package () { 0x001CFFFF, 1, Zero, 21 },
                Package () { 0x001CFFFF, 2, Zero, 22 },
                Package () { 0x001CFFFF, 3, Zero, 23 },
                Package () { 0x001DFFFF, 0, Zero, 21 },
                Package () { 0x001DFFFF, 1, Zero, 22 },
                Package () { 0x001DFFFF, 2, Zero, 23 },
                Package () { 0x001DFFFF, 3, Zero, 16 },
                Package () { 0x001EFFFF, 0, Zero, 22 },
                Package () { 0x001EFFFF, 1, Zero, 23 },
                Package () { 0x001EFFFF, 2, Zero, 16 },
                Package () { 0x001EFFFF, 3, Zero, 17 },
                Package () { 0x001FFFFF, 0, Zero, 23 },
                Package () { 0x001FFFFF, 1, Zero, 16 },
                Package () { 0x001FFFFF, 2, Zero, 17 },
                Package () { 0x001FFFFF, 3, Zero, 18 }
            })

            /* COM1 */
            Device (COM1)
            {
                Name (_HID, EisaId ("PNP0501"))
                Name (_UID, One)
                Name (_CRS, ResourceTemplate ()
                {
                    IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08)
                    IRQNoFlags () {4}
                })
            }

            /* CMOS RTC: index 0x70, data 0x71 */
            Device (RTC)
            {
                Name (_HID, EisaId ("PNP0B00"))
                Name (_CRS, ResourceTemplate ()
                {
                    IO (Decode16, 0x0070, 0x0070, 0x01, 0x02)
                    IRQNoFlags () {8}
                })
            }

            /* i8042 keyboard controller: data 0x60, command/status 0x64 */
            Device (KBD)
            {
                Name (_HID, EisaId ("PNP0303"))
                Name (_CRS, ResourceTemplate ()
                {
                    IO (Decode16, 0x0060, 0x0060, 0x01, 0x01)
                    IO (Decode16, 0x0064, 0x0064, 0x01, 0x01)
                    IRQNoFlags () {1}
                })
            }

            /* QEMU-compatible fw_cfg: selector 0x510, data 0x511, DMA 0x514 */
            Device (FWCF)
            {
                Name (_HID, "QEMU0002")
                Name (_STA, 0x0B)
                Name (_CRS, ResourceTemplate ()
                {
                    IO (Decode16, 0x0510, 0x0510, 0x01, 0x0C)
                })
            }

            /*
             * Motherboard resources: keeps the OS from giving these ranges to
             * PCI devices. Linux also requires the ECAM range (MCFG) to be
             * reserved here before it uses ECAM.
             */
            Device (MRES)
            {
                Name (_HID, EisaId ("PNP0C02"))
                Name (_UID, One)
                Name (_CRS, ResourceTemplate ()
                {
                    /* LAYOUT_ECAM_BASE, LAYOUT_ECAM_SIZE */
                    Memory32Fixed (ReadWrite, 0xB0000000, 0x10000000)
                    /* PORT_PM_BASE: PM1a event 0x600, control 0x604, timer 0x608, GPE0 0x620 */
                    IO (Decode16, 0x0600, 0x0600, 0x01, 0x30)
                    /* PORT_RESET_CNT */
                    IO (Decode16, 0x0CF9, 0x0CF9, 0x01, 0x01)
                })
            }
        }
    }

    /* Sleep states: SLP_TYP for PM1a and PM1b, two reserved. S0 is the
     * working state (never written); S5 is soft-off (PM_SLP_TYP_S5). */
    Name (_S0, Package (0x04) { Zero, Zero, Zero, Zero })
    Name (_S5, Package (0x04) { 5, 5, Zero, Zero })
}
