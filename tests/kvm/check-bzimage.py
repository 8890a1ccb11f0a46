#!/usr/bin/env python3
"""Check that a test guest is a well-formed bzImage for the 64-bit boot protocol.

Reads the setup header (Documentation/arch/x86/boot.rst) of IMAGE and, with
--elf, compares it with the linked ELF's symbols (nm). Prints one line per
problem; exit status 0 if there are none, 1 otherwise.
"""
import argparse
import subprocess
import sys

LOAD_ADDR = 0x100000


def u(data, off, size):
    return int.from_bytes(data[off:off + size], "little")


def check(data, syms):
    """Yield a message for every rule the image breaks."""
    if len(data) < 0x400:
        yield "file too small for a setup area (%d bytes)" % len(data)
        return
    setup_sects = data[0x1f1] or 4
    setup_size = (setup_sects + 1) * 512
    pm_size = len(data) - setup_size
    if pm_size <= 0x200:
        yield "protected-mode part too small for a 64-bit entry (%d bytes)" % pm_size
    if u(data, 0x1fe, 2) != 0xaa55:
        yield "boot_flag is 0x%x, not 0xaa55" % u(data, 0x1fe, 2)
    if data[0x202:0x206] != b"HdrS":
        yield "no HdrS magic at 0x202"
    if u(data, 0x206, 2) < 0x20f:
        yield "protocol version 0x%x < 0x20f" % u(data, 0x206, 2)
    if data[0x200] != 0xeb or 0x202 + data[0x201] >= setup_size:
        yield "0x200 is not a short jump into the setup area"
    if not data[0x211] & 0x01:
        yield "loadflags lacks LOADED_HIGH"
    if u(data, 0x214, 4) != LOAD_ADDR:
        yield "code32_start 0x%x, not 0x%x" % (u(data, 0x214, 4), LOAD_ADDR)
    if u(data, 0x1f4, 4) * 16 < pm_size:
        yield "syssize %d paragraphs < protected-mode size %d" % (u(data, 0x1f4, 4), pm_size)
    align = u(data, 0x230, 4)
    if align == 0 or align & (align - 1) or LOAD_ADDR % align:
        yield "kernel_alignment 0x%x not a power of two dividing 0x%x" % (align, LOAD_ADDR)
    if data[0x234] != 0:
        yield "relocatable_kernel set; the guests only run at 0x%x" % LOAD_ADDR
    if not u(data, 0x236, 2) & 0x01:
        yield "xloadflags lacks XLF_KERNEL_64"
    if u(data, 0x238, 4) == 0:
        yield "cmdline_size is 0"
    if u(data, 0x258, 8) != LOAD_ADDR:
        yield "pref_address 0x%x, not 0x%x" % (u(data, 0x258, 8), LOAD_ADDR)
    init_size = u(data, 0x260, 4)
    if init_size < pm_size:
        yield "init_size 0x%x < protected-mode size 0x%x" % (init_size, pm_size)
    if pm_size > 0x200 and data[setup_size + 0x200] == 0xcc:
        yield "no code at the 64-bit entry (offset 0x200 is padding)"
    if syms:
        for name, want in (("startup_32", LOAD_ADDR), ("startup_64", LOAD_ADDR + 0x200)):
            if syms.get(name) != want:
                yield "%s at 0x%x, expected 0x%x" % (name, syms.get(name, 0), want)
        if "image_end" in syms and syms["image_end"] - LOAD_ADDR != init_size:
            yield "init_size 0x%x but the image ends at 0x%x" % (init_size, syms["image_end"])
        if "setup_size" in syms and syms["setup_size"] != setup_size:
            yield "setup_sects says %d bytes of setup, the link made %d" % (
                setup_size, syms["setup_size"])


def nm(elf):
    out = subprocess.run(["nm", elf], stdout=subprocess.PIPE, check=True).stdout.decode()
    syms = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3:
            syms[f[2]] = int(f[0], 16)
    return syms


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("image")
    p.add_argument("--elf", help="the linked ELF, to compare symbols with the header")
    a = p.parse_args()
    with open(a.image, "rb") as f:
        data = f.read()
    problems = list(check(data, nm(a.elf) if a.elf else None))
    for m in problems:
        print("FAIL: %s: %s" % (a.image, m))
    if not problems:
        print("PASS: %s: setup_sects %d, protocol 0x%x, init_size 0x%x" % (
            a.image, data[0x1f1], u(data, 0x206, 2), u(data, 0x260, 4)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
