/* `ptvm run` command-line parsing: every option and every class of error. */
#include <errno.h>
#include <unistd.h>

#include "tests/unit/harness.h"
#include "tests/unit/config-args.h"
#include "vmm/config.h"

TEST(defaults)
{
	ASSERT_EQ(PARSE("--kernel", "bzImage"), 0);
	ASSERT_STR_EQ(C.kernel, "bzImage");
	ASSERT_TRUE(C.initrd == NULL);
	ASSERT_STR_EQ(C.cmdline, "console=ttyS0");
	ASSERT_EQ(C.ram_size, 512 * MiB);
	ASSERT_FALSE(C.hugepages);
	ASSERT_FALSE(C.prefault);
	ASSERT_EQ(C.cpus, 1);
	ASSERT_EQ(C.serial, SERIAL_STDIO);
	ASSERT_EQ(C.debug_exit_port, 0xf4);
	ASSERT_EQ(C.on_reboot, ON_REBOOT_RESTART);
	ASSERT_FALSE(C.trace_unhandled);
	ASSERT_EQ(C.nr_devices, 0);
	ASSERT_TRUE(C.firmware == NULL && C.vars == NULL && C.debugcon == NULL);
}

TEST(both_value_forms_and_last_wins)
{
	ASSERT_EQ(PARSE("--kernel=k1", "--initrd", "rd", "--cmdline", "root=/dev/vda rw",
			"--cpus=2", "--cpus", "3"), 0);
	ASSERT_STR_EQ(C.kernel, "k1");
	ASSERT_STR_EQ(C.initrd, "rd");
	ASSERT_STR_EQ(C.cmdline, "root=/dev/vda rw");
	ASSERT_EQ(C.cpus, 3);
	/* '=' inside a value given with '=' stays in the value */
	ASSERT_EQ(PARSE("--kernel", "k", "--cmdline=init=/bin/sh"), 0);
	ASSERT_STR_EQ(C.cmdline, "init=/bin/sh");
	ASSERT_EQ(PARSE("--kernel", "k", "--cmdline="), 0);
	ASSERT_STR_EQ(C.cmdline, "");
}

TEST(size_parser)
{
	u64 v;

	ASSERT_EQ(config_parse_size("512M", &v), 0);
	ASSERT_EQ(v, 512 * MiB);
	ASSERT_EQ(config_parse_size("4G", &v), 0);
	ASSERT_EQ(v, 4 * GiB);
	ASSERT_EQ(config_parse_size("1024K", &v), 0);
	ASSERT_EQ(v, 1024 * KiB);
	ASSERT_EQ(config_parse_size("65536", &v), 0);
	ASSERT_EQ(v, 65536);
	ASSERT_EQ(config_parse_size("2T", &v), 0);
	ASSERT_EQ(v, 2048 * GiB);
	ASSERT_EQ(config_parse_size("1GiB", &v), 0);
	ASSERT_EQ(v, GiB);
	ASSERT_EQ(config_parse_size("3gb", &v), 0);
	ASSERT_EQ(v, 3 * GiB);
	ASSERT_EQ(config_parse_size("16m", &v), 0);
	ASSERT_EQ(v, 16 * MiB);
	ASSERT_EQ(config_parse_size("100B", &v), 0);
	ASSERT_EQ(v, 100);
	ASSERT_EQ(config_parse_size("16777215T", &v), 0);
	ASSERT_EQ(v, 16777215ULL << 40);
	ASSERT_EQ(config_parse_size("", &v), -EINVAL);
	ASSERT_EQ(config_parse_size("M", &v), -EINVAL);
	ASSERT_EQ(config_parse_size("-1", &v), -EINVAL);
	ASSERT_EQ(config_parse_size("+1", &v), -EINVAL);
	ASSERT_EQ(config_parse_size(" 1", &v), -EINVAL);
	ASSERT_EQ(config_parse_size("1X", &v), -EINVAL);
	ASSERT_EQ(config_parse_size("1iB", &v), -EINVAL);
	ASSERT_EQ(config_parse_size("1MiBs", &v), -EINVAL);
	ASSERT_EQ(config_parse_size("1.5G", &v), -EINVAL);
	ASSERT_EQ(config_parse_size("18446744073709551616", &v), -EINVAL);
	ASSERT_EQ(config_parse_size("16777216T", &v), -EINVAL);
}

TEST(memory_option)
{
	ASSERT_EQ(PARSE("--kernel", "k", "--memory", "2G"), 0);
	ASSERT_EQ(C.ram_size, 2 * GiB);
	ASSERT_EQ(PARSE("--kernel", "k", "--memory=64MiB,hugepages=on,prefault=on"), 0);
	ASSERT_EQ(C.ram_size, 64 * MiB);
	ASSERT_TRUE(C.hugepages);
	ASSERT_TRUE(C.prefault);
	ASSERT_EQ(PARSE("--kernel", "k", "--memory", "1G,prefault=on,hugepages=off"), 0);
	ASSERT_FALSE(C.hugepages);
	ASSERT_TRUE(C.prefault);
	/* the value is only read: nothing is cut */
	ASSERT_STR_EQ(A.argv[4], "1G,prefault=on,hugepages=off");

	PARSE_ERR("--memory: bad size 'lots': give a number with an optional K, M, G or T suffix",
		  "--kernel", "k", "--memory", "lots");
	PARSE_ERR("--memory: bad size ''", "--kernel", "k", "--memory=");
	PARSE_ERR("--memory: 32M is too small: give at least 64M", "--kernel", "k", "--memory", "32M");
	PARSE_ERR("--memory: 100000001 is not a whole number of MiB", "--kernel", "k",
		  "--memory", "100000001");
	PARSE_ERR("--memory: 513M with hugepages=on must be a multiple of 2M", "--kernel", "k",
		  "--memory", "513M,hugepages=on");
	PARSE_ERR("--memory: unknown setting 'numa=1': accepted are hugepages=on|off and prefault=on|off",
		  "--kernel", "k", "--memory", "1G,numa=1");
	PARSE_ERR("--memory: unknown setting 'hugepages'", "--kernel", "k", "--memory", "1G,hugepages");
	PARSE_ERR("--memory: bad value 'prefault=yes': give prefault=on or prefault=off",
		  "--kernel", "k", "--memory", "1G,prefault=yes");
}

TEST(cpus_option)
{
	ASSERT_EQ(PARSE("--kernel", "k", "--cpus", "64"), 0);
	ASSERT_EQ(C.cpus, 64);
	PARSE_ERR("--cpus: bad number of vCPUs '0': give 1 to 64", "--kernel", "k", "--cpus", "0");
	PARSE_ERR("--cpus: bad number of vCPUs '65'", "--kernel", "k", "--cpus", "65");
	PARSE_ERR("--cpus: bad number of vCPUs 'two'", "--kernel", "k", "--cpus", "two");
	PARSE_ERR("--cpus: bad number of vCPUs '0x4'", "--kernel", "k", "--cpus", "0x4");
	PARSE_ERR("--cpus: bad number of vCPUs '0X4'", "--kernel", "k", "--cpus", "0X4");
	PARSE_ERR("--cpus: bad number of vCPUs ''", "--kernel", "k", "--cpus=");
}

TEST(cpu_affinity_option)
{
	ASSERT_EQ(PARSE("--kernel", "k", "--cpus", "4", "--cpu-affinity", "2,3"), 0);
	ASSERT_EQ(C.nr_cpu_affinity, 2);
	ASSERT_EQ(C.cpu_affinity[0], 2);
	ASSERT_EQ(C.cpu_affinity[1], 3);
	ASSERT_EQ(PARSE("--kernel", "k", "--cpus", "4", "--cpu-affinity=6-8,1"), 0);
	ASSERT_EQ(C.nr_cpu_affinity, 4);
	ASSERT_EQ(C.cpu_affinity[0], 6);
	ASSERT_EQ(C.cpu_affinity[2], 8);
	ASSERT_EQ(C.cpu_affinity[3], 1);
	PARSE_ERR("--cpu-affinity names 3 host CPUs for 2 vCPUs", "--kernel", "k", "--cpus", "2",
		  "--cpu-affinity", "0-2");
	PARSE_ERR("--cpu-affinity: bad CPU list '3-1'", "--kernel", "k", "--cpu-affinity", "3-1");
	PARSE_ERR("--cpu-affinity: bad CPU list '1,'", "--kernel", "k", "--cpu-affinity", "1,");
	PARSE_ERR("--cpu-affinity: bad CPU list 'a'", "--kernel", "k", "--cpu-affinity", "a");
	PARSE_ERR("--cpu-affinity: bad CPU list '99999'", "--kernel", "k", "--cpu-affinity", "99999");
}

TEST(serial_option)
{
	ASSERT_EQ(PARSE("--kernel", "k", "--serial", "none"), 0);
	ASSERT_EQ(C.serial, SERIAL_NONE);
	ASSERT_EQ(PARSE("--kernel", "k", "--serial=file:/tmp/con.log"), 0);
	ASSERT_EQ(C.serial, SERIAL_FILE);
	ASSERT_STR_EQ(C.serial_path, "/tmp/con.log");
	ASSERT_EQ(PARSE("--kernel", "k", "--serial", "file:x", "--serial", "stdio"), 0);
	ASSERT_EQ(C.serial, SERIAL_STDIO);
	ASSERT_TRUE(C.serial_path == NULL);
	PARSE_ERR("--serial: bad value 'file:': give stdio, file:PATH or none",
		  "--kernel", "k", "--serial", "file:");
	PARSE_ERR("--serial: bad value 'tcp:1234'", "--kernel", "k", "--serial", "tcp:1234");
}

TEST(debug_exit_port_option)
{
	ASSERT_EQ(PARSE("--kernel", "k", "--debug-exit-port", "off"), 0);
	ASSERT_EQ(C.debug_exit_port, -1);
	ASSERT_EQ(PARSE("--kernel", "k", "--debug-exit-port=0x501"), 0);
	ASSERT_EQ(C.debug_exit_port, 0x501);
	ASSERT_EQ(PARSE("--kernel", "k", "--debug-exit-port", "244"), 0);
	ASSERT_EQ(C.debug_exit_port, 0xf4);
	ASSERT_EQ(PARSE("--kernel", "k", "--debug-exit-port", "0XBFFF"), 0);
	ASSERT_EQ(C.debug_exit_port, 0xbfff);
	PARSE_ERR("--debug-exit-port: bad port '0': give a port 1-0xffff (decimal or 0x hex) or off",
		  "--kernel", "k", "--debug-exit-port", "0");
	PARSE_ERR("--debug-exit-port: bad port '0x10000'", "--kernel", "k", "--debug-exit-port", "0x10000");
	PARSE_ERR("--debug-exit-port: bad port 'on'", "--kernel", "k", "--debug-exit-port", "on");
	PARSE_ERR("--debug-exit-port: bad port '0x'", "--kernel", "k", "--debug-exit-port", "0x");
	PARSE_ERR("--debug-exit-port: port 0x3f8 is used by COM1: give a free port such as 0xf4, or off",
		  "--kernel", "k", "--debug-exit-port", "0x3f8");
	PARSE_ERR("port 0xcf9 is used by PCI configuration", "--kernel", "k", "--debug-exit-port", "0xcf9");
	PARSE_ERR("port 0xc000 is used by PCI I/O BARs", "--kernel", "k", "--debug-exit-port", "49152");
}

TEST(on_reboot_and_trace)
{
	ASSERT_EQ(PARSE("--kernel", "k", "--on-reboot", "exit", "--trace-unhandled"), 0);
	ASSERT_EQ(C.on_reboot, ON_REBOOT_EXIT);
	ASSERT_TRUE(C.trace_unhandled);
	ASSERT_FALSE(C.stats);
	ASSERT_EQ(PARSE("--kernel", "k", "--stats"), 0);
	ASSERT_TRUE(C.stats);
	ASSERT_EQ(PARSE("--kernel", "k", "--on-reboot=restart"), 0);
	ASSERT_EQ(C.on_reboot, ON_REBOOT_RESTART);
	PARSE_ERR("--on-reboot: bad value 'halt': give restart or exit", "--kernel", "k",
		  "--on-reboot", "halt");
	PARSE_ERR("--trace-unhandled takes no value (got 'yes')", "--kernel", "k",
		  "--trace-unhandled=yes");
}

TEST(device_option)
{
	ASSERT_EQ(PARSE("--kernel", "k",
			"--device", "vfio,host=03:00.0,addr=5,rombar=off,romfile=/tmp/rom.bin,"
				    "multifunction=on,x-vga=on,managed=on",
			"--device=vfio-pci,host=0000:03:00.1,addr=05.1",
			"--device", "vfio,host=0000:AF:1f.7"), 0);
	ASSERT_EQ(C.nr_devices, 3);
	ASSERT_STR_EQ(C.devices[0].host, "0000:03:00.0");
	ASSERT_EQ(C.devices[0].slot, 5);
	ASSERT_EQ(C.devices[0].fn, 0);
	ASSERT_FALSE(C.devices[0].rombar);
	ASSERT_STR_EQ(C.devices[0].romfile, "/tmp/rom.bin"); /* cut at the comma */
	ASSERT_TRUE(C.devices[0].multifunction);
	ASSERT_TRUE(C.devices[0].x_vga);
	ASSERT_TRUE(C.devices[0].managed);
	ASSERT_STR_EQ(C.devices[1].host, "0000:03:00.1");
	ASSERT_EQ(C.devices[1].slot, 5);
	ASSERT_EQ(C.devices[1].fn, 1);
	ASSERT_STR_EQ(C.devices[2].host, "0000:af:1f.7");
	ASSERT_EQ(C.devices[2].slot, -1);
	ASSERT_EQ(C.devices[2].fn, -1);
	ASSERT_TRUE(C.devices[2].rombar);
	ASSERT_TRUE(C.devices[2].romfile == NULL);
	ASSERT_FALSE(C.devices[2].multifunction || C.devices[2].x_vga || C.devices[2].managed);
	ASSERT_EQ(PARSE("--kernel", "k", "--device", "vfio,host=1:2.3,addr=0x1f.7,rombar=on"), 0);
	ASSERT_STR_EQ(C.devices[0].host, "0000:01:02.3");
	ASSERT_EQ(C.devices[0].slot, 0x1f);
	ASSERT_EQ(C.devices[0].fn, 7);
}

TEST(device_errors)
{
	PARSE_ERR("--device: unknown device type 'virtio-net': give vfio or ivshmem",
		  "--kernel", "k", "--device", "virtio-net,host=03:00.0");
	PARSE_ERR("--device: 'vfio' has no host=", "--kernel", "k", "--device", "vfio");
	PARSE_ERR("--device: 'vfio,addr=3' has no host=", "--kernel", "k", "--device", "vfio,addr=3");
	/* an error leaves argv untouched */
	ASSERT_STR_EQ(A.argv[4], "vfio,addr=3");
	PARSE_ERR("--device: bad host=3:0: give the PCI address as lspci -D prints it",
		  "--kernel", "k", "--device", "vfio,host=3:0");
	PARSE_ERR("--device: bad addr=0: give a slot 1-1f in hex", "--kernel", "k",
		  "--device", "vfio,host=03:00.0,addr=0");
	PARSE_ERR("--device: bad addr=20", "--kernel", "k", "--device", "vfio,host=03:00.0,addr=20");
	PARSE_ERR("--device: bad addr=5.8", "--kernel", "k", "--device", "vfio,host=03:00.0,addr=5.8");
	PARSE_ERR("--device: bad addr=x", "--kernel", "k", "--device", "vfio,host=03:00.0,addr=x");
	PARSE_ERR("--device: unknown setting 'bus=1': accepted are host=, addr=, rombar=, romfile=, "
		  "multifunction=, x-vga= and managed=", "--kernel", "k",
		  "--device", "vfio,host=03:00.0,bus=1");
	PARSE_ERR("--device: bad value 'rombar=1': give rombar=on or rombar=off", "--kernel", "k",
		  "--device", "vfio,host=03:00.0,rombar=1");
	PARSE_ERR("--device: bad value 'x-vga=': give x-vga=on or x-vga=off", "--kernel", "k",
		  "--device", "vfio,host=03:00.0,x-vga=");
	PARSE_ERR("--device: romfile= needs a file path", "--kernel", "k",
		  "--device", "vfio,host=03:00.0,romfile=");
	PARSE_ERR("--device: host=0000:03:00.0 is given twice", "--kernel", "k",
		  "--device", "vfio,host=03:00.0", "--device", "vfio,host=0000:03:00.0");
	PARSE_ERR("--device: addr=07.0 is used by host=0000:03:00.0 too", "--kernel", "k",
		  "--device", "vfio,host=03:00.0,addr=7", "--device", "vfio,host=04:00.0,addr=07.0");
}

TEST(device_limit)
{
	char devs[CONFIG_MAX_DEVICES + 1][40];
	char *argv[2 * (CONFIG_MAX_DEVICES + 1) + 3];
	char run[] = "run", kopt[] = "--kernel", kval[] = "k", dopt[] = "--device";
	int argc = 0;

	argv[argc++] = run;
	argv[argc++] = kopt;
	argv[argc++] = kval;
	for (int i = 0; i <= CONFIG_MAX_DEVICES; i++) {
		snprintf(devs[i], sizeof(devs[i]), "vfio,host=%02x:00.0", i + 1);
		argv[argc++] = dopt;
		argv[argc++] = devs[i];
	}
	config_init(&C);
	/* exactly the maximum is fine */
	ASSERT_EQ(config_parse_run(&C, argc - 2, argv, E, sizeof(E)), 0);
	ASSERT_EQ(C.nr_devices, CONFIG_MAX_DEVICES);
	/* the first parse cut the values at their commas: write them again */
	for (int i = 0; i <= CONFIG_MAX_DEVICES; i++)
		snprintf(devs[i], sizeof(devs[i]), "vfio,host=%02x:00.0", i + 1);
	config_init(&C);
	ASSERT_EQ(config_parse_run(&C, argc, argv, E, sizeof(E)), -1);
	ASSERT_STR_CONTAINS(E, "--device: too many devices: at most 16");
}

TEST(ivshmem_option)
{
	ASSERT_EQ(PARSE("--kernel", "k", "--device", "ivshmem,path=/dev/shm/looking-glass,size=32M",
			"--device", "vfio,host=03:00.0",
			"--device=ivshmem-plain,size=1M,addr=1e.2,path=/tmp/x"), 0);
	ASSERT_EQ(C.nr_devices, 1);
	ASSERT_EQ(C.nr_shm, 2);
	ASSERT_STR_EQ(C.shm[0].path, "/dev/shm/looking-glass"); /* cut at the comma */
	ASSERT_EQ(C.shm[0].size, 32 * MiB);
	ASSERT_EQ(C.shm[0].slot, -1);
	ASSERT_EQ(C.shm[0].fn, -1);
	ASSERT_STR_EQ(C.shm[1].path, "/tmp/x");
	ASSERT_EQ(C.shm[1].size, MiB);
	ASSERT_EQ(C.shm[1].slot, 0x1e);
	ASSERT_EQ(C.shm[1].fn, 2);
	ASSERT_EQ(PARSE("--kernel", "k", "--device", "ivshmem,path=/a,size=4G"), 0);
	ASSERT_EQ(C.shm[0].size, 4 * GiB);
	ASSERT_EQ(PARSE("--kernel", "k"), 0);
	ASSERT_EQ(C.nr_shm, 0);
}

TEST(ivshmem_errors)
{
	PARSE_ERR("--device: bad size=48M: give a power of two of at least 1M", "--kernel", "k",
		  "--device", "ivshmem,path=/a,size=48M");
	PARSE_ERR("--device: bad size=512K: give a power of two of at least 1M", "--kernel", "k",
		  "--device", "ivshmem,path=/a,size=512K");
	PARSE_ERR("--device: bad size=lots", "--kernel", "k", "--device", "ivshmem,path=/a,size=lots");
	PARSE_ERR("--device: bad size=: give", "--kernel", "k", "--device", "ivshmem,path=/a,size=");
	PARSE_ERR("--device: 'ivshmem,size=2M' needs path= and size=", "--kernel", "k",
		  "--device", "ivshmem,size=2M");
	ASSERT_STR_EQ(A.argv[4], "ivshmem,size=2M"); /* an error leaves argv untouched */
	PARSE_ERR("--device: 'ivshmem,path=/a' needs path= and size=", "--kernel", "k",
		  "--device", "ivshmem,path=/a");
	PARSE_ERR("--device: path= needs a file", "--kernel", "k", "--device", "ivshmem,path=,size=2M");
	PARSE_ERR("--device: path= needs a file", "--kernel", "k", "--device", "ivshmem,path,size=2M");
	PARSE_ERR("--device: unknown setting 'host=03:00.0': accepted for ivshmem are path=, size= "
		  "and addr=", "--kernel", "k", "--device", "ivshmem,path=/a,size=2M,host=03:00.0");
	PARSE_ERR("--device: bad addr=0: give a slot 1-1f", "--kernel", "k",
		  "--device", "ivshmem,path=/a,size=2M,addr=0");
	PARSE_ERR("--device: path=/a is given twice", "--kernel", "k",
		  "--device", "ivshmem,path=/a,size=2M", "--device", "ivshmem,size=4M,path=/a");
	PARSE_ERR("--device: too many ivshmem devices: at most 4", "--kernel", "k",
		  "--device", "ivshmem,path=/a,size=2M", "--device", "ivshmem,path=/b,size=2M",
		  "--device", "ivshmem,path=/c,size=2M", "--device", "ivshmem,path=/d,size=2M",
		  "--device", "ivshmem,path=/e,size=2M");
}

TEST(bdf_parser)
{
	char out[16];

	ASSERT_EQ(config_parse_bdf("0000:03:00.0", out), 0);
	ASSERT_STR_EQ(out, "0000:03:00.0");
	ASSERT_EQ(config_parse_bdf("03:00.0", out), 0);
	ASSERT_STR_EQ(out, "0000:03:00.0");
	ASSERT_EQ(config_parse_bdf("ABCD:EF:1F.7", out), 0);
	ASSERT_STR_EQ(out, "abcd:ef:1f.7");
	ASSERT_EQ(config_parse_bdf("1:2.3", out), 0);
	ASSERT_STR_EQ(out, "0000:01:02.3");
	ASSERT_EQ(config_parse_bdf("", out), -EINVAL);
	ASSERT_EQ(config_parse_bdf("03:20.0", out), -EINVAL);
	ASSERT_EQ(config_parse_bdf("03:00.8", out), -EINVAL);
	ASSERT_EQ(config_parse_bdf("03:00", out), -EINVAL);
	ASSERT_EQ(config_parse_bdf("03.00.0", out), -EINVAL);
	ASSERT_EQ(config_parse_bdf("0000:03:00.0:1", out), -EINVAL);
	ASSERT_EQ(config_parse_bdf("00000:03:00.0", out), -EINVAL);
	ASSERT_EQ(config_parse_bdf("g3:00.0", out), -EINVAL);
	ASSERT_EQ(config_parse_bdf("03:00.0 ", out), -EINVAL);
	ASSERT_EQ(config_parse_bdf("03:00.", out), -EINVAL);
	ASSERT_EQ(config_parse_bdf(":03:00.0", out), -EINVAL);
}

TEST(firmware_and_debugcon)
{
	ASSERT_EQ(PARSE("--firmware", "ovmf,vars=/tmp/vars.fd", "--debugcon", "file:/tmp/fw.log"), 0);
	ASSERT_STR_EQ(C.firmware, "ovmf"); /* cut at the comma */
	ASSERT_STR_EQ(C.vars, "/tmp/vars.fd");
	ASSERT_STR_EQ(C.debugcon, "/tmp/fw.log");
	ASSERT_TRUE(C.kernel == NULL);
	ASSERT_EQ(PARSE("--firmware=seabios"), 0);
	ASSERT_STR_EQ(C.firmware, "seabios");
	ASSERT_TRUE(C.vars == NULL);
	ASSERT_EQ(PARSE("--firmware", "/opt/fw/OVMF_CODE.fd,vars=v.fd", "--kernel", "k"), 0);
	ASSERT_STR_EQ(C.firmware, "/opt/fw/OVMF_CODE.fd");
	ASSERT_STR_EQ(C.vars, "v.fd");
	ASSERT_STR_EQ(C.kernel, "k");
	PARSE_ERR("--firmware: vars= is for OVMF only", "--firmware", "seabios,vars=v.fd");
	PARSE_ERR("--firmware: unknown setting 'code=x': the only one accepted is vars=PATH",
		  "--firmware", "ovmf,code=x");
	PARSE_ERR("--firmware: vars= needs a file path", "--firmware", "ovmf,vars=");
	PARSE_ERR("--firmware: empty value: give seabios, ovmf or the path of a firmware image",
		  "--firmware=");
	PARSE_ERR("--debugcon: bad value 'stdio': give file:PATH", "--firmware", "seabios",
		  "--debugcon", "stdio");
	PARSE_ERR("--debugcon: bad value 'file:'", "--firmware", "seabios", "--debugcon", "file:");
}

TEST(command_line_errors)
{
	PARSE_ERR("unknown option '--mem': see ptvm run --help", "--kernel", "k", "--mem", "1G");
	PARSE_ERR("unknown option '--mem': see", "--kernel", "k", "--mem=1G");
	PARSE_ERR("unknown option '-m'", "--kernel", "k", "-m", "1G");
	PARSE_ERR("unexpected argument 'vmlinuz': ptvm run takes only options", "vmlinuz");
	PARSE_ERR("--kernel needs a value: --kernel FILE", "--kernel");
	PARSE_ERR("--kernel needs a value: --kernel FILE", "--kernel", "--cpus", "2");
	PARSE_ERR("--memory needs a value: --memory SIZE[,hugepages=on|off][,prefault=on|off]",
		  "--kernel", "k", "--memory");
	PARSE_ERR("--kernel: empty file name", "--kernel=");
	PARSE_ERR("--initrd: empty file name", "--kernel", "k", "--initrd", "");
	E[0] = 0;
	config_init(&C);
	ASSERT_EQ(config_parse_run(&C, 1, (char *[]){ "run", NULL }, E, sizeof(E)), -1);
	ASSERT_STR_CONTAINS(E, "nothing to boot: give --kernel FILE (a bzImage) or --firmware");
	PARSE_ERR("--initrd rd needs --kernel: add --kernel FILE", "--firmware", "ovmf", "--initrd", "rd");
	PARSE_ERR("--cmdline needs --kernel", "--firmware", "ovmf", "--cmdline", "quiet");
}

/* Run config_parse_run with stdout sent to a file; the output goes to buf. */
static int parse_capturing(const char *opt, char *buf, size_t size)
{
	FILE *tmp = tmpfile();
	int saved, ret;
	size_t n;

	fflush(stdout);
	saved = dup(1);
	dup2(fileno(tmp), 1);
	ret = PARSE(opt);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, size - 1, tmp);
	buf[n] = 0;
	fclose(tmp);
	return ret;
}

TEST(help_lists_every_option)
{
	static char out[16384];
	static const char *const must[] = {
		"--kernel FILE", "--initrd FILE", "--cmdline STR",
		"--firmware seabios|ovmf|PATH[,vars=PATH]",
		"--memory SIZE[,hugepages=on|off][,prefault=on|off]", "--cpus N", "--cpu-affinity LIST",
		"--device vfio,host=BDF[,addr=SLOT[.FN]][,rombar=on|off][,romfile=PATH]",
		"[,multifunction=on|off][,x-vga=on|off][,managed=on|off]",
		"--serial stdio|file:PATH|none", "--debugcon file:PATH", "--debug-exit-port PORT|off",
		"--on-reboot restart|exit", "--trace-unhandled", "--stats", "-h, --help",
		"--device ivshmem,path=FILE,size=SIZE[,addr=SLOT[.FN]]", "at least 1M; up to 4",
		"(default 512M), at least 64M", "1 to 64 (default 1)", "up\n                       to 16 devices",
		"(default 0xf4)", "(default restart)", "(default stdio)", "console=ttyS0",
		"Exit status:",
	};

	ASSERT_EQ(parse_capturing("--help", out, sizeof(out)), 1);
	for (size_t i = 0; i < ARRAY_SIZE(must); i++)
		ASSERT_STR_CONTAINS(out, must[i]);
	/* -h is the same, and stops parsing before later errors */
	ASSERT_EQ(parse_capturing("-h", out, sizeof(out)), 1);
	ASSERT_STR_CONTAINS(out, "usage: ptvm run");
}

int main(void)
{
	RUN(defaults);
	RUN(both_value_forms_and_last_wins);
	RUN(size_parser);
	RUN(memory_option);
	RUN(cpus_option);
	RUN(cpu_affinity_option);
	RUN(serial_option);
	RUN(debug_exit_port_option);
	RUN(on_reboot_and_trace);
	RUN(device_option);
	RUN(device_errors);
	RUN(device_limit);
	RUN(ivshmem_option);
	RUN(ivshmem_errors);
	RUN(bdf_parser);
	RUN(firmware_and_debugcon);
	RUN(command_line_errors);
	RUN(help_lists_every_option);
	return test_done();
}
