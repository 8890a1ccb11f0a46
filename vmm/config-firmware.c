/*
 * `ptvm run` options for firmware boot: --firmware, --boot, --cpu, --rtc
 * and --smbios. Whether they fit together with --kernel is checked in
 * config.c (check_combination).
 */
#include <stdio.h>
#include <string.h>

#include "vmm/config-priv.h"

/* --firmware seabios|ovmf|PATH[,vars=PATH] */
int config_opt_firmware(struct parse_ctx *p, const char *opt, char *val)
{
	const char *rest = val, *vars = NULL;
	struct tok t, key, v;

	t = tok_first(&rest);
	if (!t.len)
		return fail(p, "%s: empty value: give seabios, ovmf or the path of a firmware image", opt);
	while (tok_next(&rest, &t)) {
		if (!tok_kv(&t, &key, &v) || !tok_is(&key, "vars"))
			return fail(p, "%s: unknown setting '%.*s': the only one accepted is vars=PATH",
				    opt, (int)t.len, t.s);
		if (!v.len)
			return fail(p, "%s: vars= needs a file path (a copy of OVMF_VARS.fd)", opt);
		vars = v.s;
	}
	if (vars && !strncmp(val, "seabios", 7) && (val[7] == ',' || !val[7]))
		return fail(p, "%s: vars= is for OVMF only: drop it or use --firmware ovmf,vars=PATH", opt);
	cut_commas(val);
	p->c->firmware = val;
	p->c->vars = vars;
	return 0;
}

/* A setting's value as a number of milliseconds, 0..65535. */
static int parse_ms(struct parse_ctx *p, const char *opt, const struct tok *key, const struct tok *v,
		    int *out)
{
	char buf[16];
	u64 n;

	if (!tok_copy(v, buf, sizeof(buf)) || config_parse_number(buf, &n) || n > 65535)
		return fail(p, "%s: bad value '%.*s=%.*s': give milliseconds, 0 to 65535", opt,
			    (int)key->len, key->s, (int)v->len, v->s);
	*out = (int)n;
	return 0;
}

/* --boot [order=kernel|disk][,menu=on|off][,menu-timeout=MS][,reboot-timeout=MS] */
int config_opt_boot(struct parse_ctx *p, const char *opt, char *val)
{
	const char *rest = val;
	struct tok t, key, v;

	while (tok_next(&rest, &t)) {
		if (!tok_kv(&t, &key, &v))
			return fail(p, "%s: bad setting '%.*s': give order=kernel|disk, menu=on|off, "
				    "menu-timeout=MS or reboot-timeout=MS", opt, (int)t.len, t.s);
		if (tok_is(&key, "order")) {
			if (tok_is(&v, "kernel"))
				p->c->boot_order = BOOT_ORDER_KERNEL;
			else if (tok_is(&v, "disk"))
				p->c->boot_order = BOOT_ORDER_DISK;
			else
				return fail(p, "%s: bad order '%.*s': give order=kernel or order=disk", opt,
					    (int)v.len, v.s);
		} else if (tok_is(&key, "menu")) {
			if (config_parse_onoff(p, opt, &key, &v, &p->c->boot_menu))
				return -1;
		} else if (tok_is(&key, "menu-timeout")) {
			if (parse_ms(p, opt, &key, &v, &p->c->boot_menu_timeout))
				return -1;
		} else if (tok_is(&key, "reboot-timeout")) {
			if (parse_ms(p, opt, &key, &v, &p->c->reboot_timeout))
				return -1;
		} else {
			return fail(p, "%s: unknown setting '%.*s': give order=, menu=, menu-timeout= or "
				    "reboot-timeout=", opt, (int)key.len, key.s);
		}
	}
	return 0;
}

/* --cpu [hide-kvm][,hyperv][,hv-vendor-id=STR] */
int config_opt_cpu(struct parse_ctx *p, const char *opt, char *val)
{
	const char *rest = val, *vendor = NULL;
	bool hide = false, hv = false;
	struct tok t, key, v;

	while (tok_next(&rest, &t)) {
		if (tok_is(&t, "hide-kvm")) {
			hide = true;
		} else if (tok_is(&t, "hyperv")) {
			hv = true;
		} else if (tok_kv(&t, &key, &v) && tok_is(&key, "hv-vendor-id")) {
			if (!v.len || v.len > 12)
				return fail(p, "%s: hv-vendor-id= takes 1 to 12 characters (got %zu)", opt, v.len);
			vendor = v.s;
		} else {
			return fail(p, "%s: unknown setting '%.*s': give hide-kvm, hyperv or "
				    "hv-vendor-id=STR", opt, (int)t.len, t.s);
		}
	}
	if (vendor && !hv)
		return fail(p, "%s: hv-vendor-id= needs hyperv: add it (--cpu hyperv,hv-vendor-id=...)", opt);
	cut_commas(val);
	p->c->cpu_hide_kvm = hide;
	p->c->cpu_hyperv = hv;
	p->c->hv_vendor_id = vendor;
	return 0;
}

/* --rtc base=utc|localtime */
int config_opt_rtc(struct parse_ctx *p, const char *opt, char *val)
{
	if (!strcmp(val, "base=utc"))
		p->c->rtc_localtime = false;
	else if (!strcmp(val, "base=localtime"))
		p->c->rtc_localtime = true;
	else
		return fail(p, "%s: bad value '%s': give base=utc or base=localtime", opt, val);
	return 0;
}

/* A UUID "8-4-4-4-12" hex digits into SMBIOS byte order (first three fields little-endian). */
static bool parse_uuid(const struct tok *v, u8 out[16])
{
	static const int order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	u8 raw[16];
	size_t j = 0;

	if (v->len != 36)
		return false;
	for (int i = 0; i < 16; i++) {
		int hi, lo;

		if (j == 8 || j == 13 || j == 18 || j == 23) {
			if (v->s[j] != '-')
				return false;
			j++;
		}
		hi = (int)config_parse_hex(v->s + j, v->s + j + 1, 1);
		lo = (int)config_parse_hex(v->s + j + 1, v->s + j + 2, 1);
		if (hi < 0 || lo < 0)
			return false;
		raw[i] = (u8)(hi << 4 | lo);
		j += 2;
	}
	for (int i = 0; i < 16; i++)
		out[i] = raw[order[i]];
	return true;
}

/* --smbios type=0,vendor=,version=,date= | type=1,manufacturer=,product=,version=,
 *          serial=,uuid=,sku=,family= */
int config_opt_smbios(struct parse_ctx *p, const char *opt, char *val)
{
	struct config_smbios s = p->c->smbios;
	const char *rest = val;
	struct tok t = tok_first(&rest), key, v;
	int type;

	if (tok_is(&t, "type=0"))
		type = 0;
	else if (tok_is(&t, "type=1"))
		type = 1;
	else
		return fail(p, "%s: start with type=0 (BIOS) or type=1 (system)", opt);
	while (tok_next(&rest, &t)) {
		const char **dst = NULL;

		if (!tok_kv(&t, &key, &v) || !v.len)
			return fail(p, "%s: bad setting '%.*s': give KEY=VALUE", opt, (int)t.len, t.s);
		if (type == 0 && tok_is(&key, "vendor"))
			dst = &s.bios_vendor;
		else if (type == 0 && tok_is(&key, "version"))
			dst = &s.bios_version;
		else if (type == 0 && tok_is(&key, "date"))
			dst = &s.bios_date;
		else if (type == 1 && tok_is(&key, "manufacturer"))
			dst = &s.manufacturer;
		else if (type == 1 && tok_is(&key, "product"))
			dst = &s.product;
		else if (type == 1 && tok_is(&key, "version"))
			dst = &s.version;
		else if (type == 1 && tok_is(&key, "serial"))
			dst = &s.serial;
		else if (type == 1 && tok_is(&key, "sku"))
			dst = &s.sku;
		else if (type == 1 && tok_is(&key, "family"))
			dst = &s.family;
		else if (type == 1 && tok_is(&key, "uuid")) {
			if (!parse_uuid(&v, s.uuid))
				return fail(p, "%s: bad uuid '%.*s': give 8-4-4-4-12 hex digits", opt,
					    (int)v.len, v.s);
			s.uuid_set = true;
			continue;
		} else
			return fail(p, "%s: type=%d has no setting '%.*s' (type=0: vendor, version, date; "
				    "type=1: manufacturer, product, version, serial, uuid, sku, family)",
				    opt, type, (int)key.len, key.s);
		*dst = v.s;
	}
	cut_commas(val);
	p->c->smbios = s;
	return 0;
}
