// SPDX-License-Identifier: GPL-2.0
/*
 * pvguest core: runs hypervisor detection once at boot, logs what it found
 * and how each paravirtual operation is carried out, and reports both under
 * /sys/kernel/pvguest/.
 */

#define pr_fmt(fmt) "pvguest: " fmt

#include <linux/init.h>
#include <linux/kobject.h>
#include <linux/sysfs.h>
#include <asm/cpufeature.h>
#include <asm/processor.h>

#include "pvguest.h"

static struct pvg_detect pvg_boot __ro_after_init;

static void pvg_cpuid(void *ctx, u32 leaf, u32 regs[4])
{
	cpuid(leaf, &regs[0], &regs[1], &regs[2], &regs[3]);
}

/* " name@0x4000ff00(max<base)" per signature, names up to 11 characters */
static char pvg_log_buf[PVG_MAX_SIGS * 40] __initdata;

static void __init pvg_log_detection(const struct pvg_detect *d)
{
	char *sigs = pvg_log_buf;
	unsigned int i, n = 0;

	if (!d->hypervisor_bit) {
		pr_info("no hypervisor (CPUID hypervisor bit clear)\n");
		return;
	}

	for (i = 0; i < d->nr_sigs; i++) {
		const struct pvg_sig *s = &d->sigs[i];

		n += scnprintf(sigs + n, sizeof(pvg_log_buf) - n, " %s@%#x%s",
			       s->hv ? s->hv->name : "unknown", s->base,
			       s->max_leaf < s->base ? "(max<base)" : "");
	}

	if (d->active)
		pr_info("hypervisor %s (%s) at %#x; %u signature(s):%s; features %#x hints %#x\n",
			d->active->hv->name, d->active->hv->desc,
			d->active->base, d->nr_sigs, sigs, d->features,
			d->hints);
	else
		pr_info("hypervisor unknown; %u signature(s):%s\n",
			d->nr_sigs, sigs);

	if (d->nr_garbage || d->nr_dropped)
		pr_info("ignored %u leaves that hold no signature, dropped %u signatures over the limit of %d\n",
			d->nr_garbage, d->nr_dropped, PVG_MAX_SIGS);
}

static ssize_t hypervisor_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", pvg_detect_name(&pvg_boot));
}

static ssize_t signatures_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	unsigned int i;
	int n = 0;

	for (i = 0; i < pvg_boot.nr_sigs; i++)
		n += pvg_sig_format(&pvg_boot.sigs[i], buf + n, PAGE_SIZE - n);
	return n;
}

static ssize_t features_show(struct kobject *kobj,
			     struct kobj_attribute *attr, char *buf)
{
	return pvg_features_format(&pvg_boot, buf, PAGE_SIZE);
}

static ssize_t ops_show(struct kobject *kobj, struct kobj_attribute *attr,
			char *buf)
{
	return pvg_ops_format(buf, PAGE_SIZE);
}

static struct kobj_attribute pvg_attr_hypervisor = __ATTR_RO(hypervisor);
static struct kobj_attribute pvg_attr_signatures = __ATTR_RO(signatures);
static struct kobj_attribute pvg_attr_features = __ATTR_RO(features);
static struct kobj_attribute pvg_attr_ops = __ATTR_RO(ops);

static struct attribute *pvg_attrs[] = {
	&pvg_attr_hypervisor.attr,
	&pvg_attr_signatures.attr,
	&pvg_attr_features.attr,
	&pvg_attr_ops.attr,
	NULL
};

static const struct attribute_group pvg_attr_group = {
	.attrs = pvg_attrs,
};

static int __init pvg_init(void)
{
	struct kobject *kobj;
	int ret;

	pvg_detect_scan(&pvg_boot, boot_cpu_has(X86_FEATURE_HYPERVISOR),
			pvg_cpuid, NULL);
	pvg_log_detection(&pvg_boot);
	pvg_ops_init(&pvg_boot);

	kobj = kobject_create_and_add("pvguest", kernel_kobj);
	if (!kobj)
		return -ENOMEM;
	ret = sysfs_create_group(kobj, &pvg_attr_group);
	if (ret) {
		pr_err("cannot create /sys/kernel/pvguest: %d\n", ret);
		kobject_put(kobj);
	}
	return ret;
}
arch_initcall(pvg_init);
