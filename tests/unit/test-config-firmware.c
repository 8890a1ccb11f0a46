/* `ptvm run` options of the firmware boot path: --boot, --cpu, --rtc, --smbios. */
#include <errno.h>

#include "tests/unit/harness.h"
#include "tests/unit/config-args.h"
#include "vmm/config.h"

TEST(defaults)
{
	ASSERT_EQ(PARSE("--firmware", "seabios"), 0);
	ASSERT_EQ(C.boot_order, BOOT_ORDER_DEFAULT);
	ASSERT_FALSE(C.boot_menu);
	ASSERT_EQ(C.boot_menu_timeout, -1);
	ASSERT_EQ(C.reboot_timeout, -1);
	ASSERT_FALSE(C.cpu_hide_kvm || C.cpu_hyperv || C.rtc_localtime || C.smbios.uuid_set);
	ASSERT_TRUE(C.hv_vendor_id == NULL && C.smbios.manufacturer == NULL);
}

TEST(boot)
{
	ASSERT_EQ(PARSE("--firmware", "ovmf", "--boot", "order=disk,menu=on,menu-timeout=3000,reboot-timeout=0"), 0);
	ASSERT_EQ(C.boot_order, BOOT_ORDER_DISK);
	ASSERT_TRUE(C.boot_menu);
	ASSERT_EQ(C.boot_menu_timeout, 3000);
	ASSERT_EQ(C.reboot_timeout, 0);
	ASSERT_EQ(PARSE("--firmware", "seabios", "--kernel", "k", "--boot=order=kernel"), 0);
	ASSERT_EQ(C.boot_order, BOOT_ORDER_KERNEL);
	PARSE_ERR("--boot: bad order 'cdrom'", "--firmware", "seabios", "--boot", "order=cdrom");
	PARSE_ERR("--boot: unknown setting 'splash'", "--firmware", "seabios", "--boot", "splash=1");
	PARSE_ERR("give milliseconds", "--firmware", "seabios", "--boot", "menu-timeout=70000");
	PARSE_ERR("give menu=on or menu=off", "--firmware", "seabios", "--boot", "menu=yes");
	PARSE_ERR("order=disk needs --firmware", "--kernel", "k", "--boot", "order=disk");
	PARSE_ERR("need --firmware", "--kernel", "k", "--boot", "menu=on");
}

TEST(cpu)
{
	ASSERT_EQ(PARSE("--kernel", "k", "--cpu", "hide-kvm"), 0);
	ASSERT_TRUE(C.cpu_hide_kvm);
	ASSERT_FALSE(C.cpu_hyperv);
	ASSERT_EQ(PARSE("--kernel", "k", "--cpu", "hyperv,hv-vendor-id=1234567890ab,hide-kvm"), 0);
	ASSERT_TRUE(C.cpu_hide_kvm && C.cpu_hyperv);
	ASSERT_STR_EQ(C.hv_vendor_id, "1234567890ab"); /* cut at the comma */
	PARSE_ERR("1 to 12 characters (got 13)", "--kernel", "k", "--cpu", "hyperv,hv-vendor-id=1234567890abc");
	PARSE_ERR("hv-vendor-id= needs hyperv", "--kernel", "k", "--cpu", "hv-vendor-id=x");
	PARSE_ERR("--cpu: unknown setting 'kvm=off'", "--kernel", "k", "--cpu", "kvm=off");
}

TEST(rtc)
{
	ASSERT_EQ(PARSE("--kernel", "k", "--rtc", "base=localtime"), 0);
	ASSERT_TRUE(C.rtc_localtime);
	ASSERT_EQ(PARSE("--kernel", "k", "--rtc", "base=localtime", "--rtc", "base=utc"), 0);
	ASSERT_FALSE(C.rtc_localtime);
	PARSE_ERR("give base=utc or base=localtime", "--kernel", "k", "--rtc", "localtime");
}

TEST(smbios)
{
	ASSERT_EQ(PARSE("--firmware", "ovmf", "--smbios", "type=0,vendor=AMI,version=F20,date=03/01/2024",
			"--smbios", "type=1,manufacturer=ASUS,product=ROG,serial=S1,uuid=01234567-89ab-cdef-0011-223344556677"),
		  0);
	ASSERT_STR_EQ(C.smbios.bios_vendor, "AMI");
	ASSERT_STR_EQ(C.smbios.bios_version, "F20");
	ASSERT_STR_EQ(C.smbios.bios_date, "03/01/2024");
	ASSERT_STR_EQ(C.smbios.manufacturer, "ASUS");
	ASSERT_STR_EQ(C.smbios.product, "ROG");
	ASSERT_STR_EQ(C.smbios.serial, "S1");
	ASSERT_TRUE(C.smbios.uuid_set);
	/* SMBIOS byte order: the first three fields little-endian */
	ASSERT_EQ(C.smbios.uuid[0], 0x67);
	ASSERT_EQ(C.smbios.uuid[3], 0x01);
	ASSERT_EQ(C.smbios.uuid[4], 0xab);
	ASSERT_EQ(C.smbios.uuid[6], 0xef);
	ASSERT_EQ(C.smbios.uuid[8], 0x00);
	ASSERT_EQ(C.smbios.uuid[15], 0x77);
	PARSE_ERR("start with type=0", "--firmware", "ovmf", "--smbios", "type=3,vendor=x");
	PARSE_ERR("type=0 has no setting 'serial'", "--firmware", "ovmf", "--smbios", "type=0,serial=x");
	PARSE_ERR("bad uuid", "--firmware", "ovmf", "--smbios", "type=1,uuid=1234");
	PARSE_ERR("give KEY=VALUE", "--firmware", "ovmf", "--smbios", "type=1,product=");
	PARSE_ERR("--smbios needs --firmware", "--kernel", "k", "--smbios", "type=1,product=x");
}

int main(void)
{
	RUN(defaults);
	RUN(boot);
	RUN(cpu);
	RUN(rtc);
	RUN(smbios);
	return test_done();
}
