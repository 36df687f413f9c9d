// SPDX-License-Identifier: GPL-2.0
/*
 * pvg_bench: in-kernel micro-benchmarks for pvguest's paravirtual operations.
 *
 * Out-of-tree test module for the pvguest test guest, never part of the
 * series.  Each debugfs file in pvg_bench/ runs one benchmark when a number
 * is written to it and reports the last run when read:
 *
 *   ipi       write N: N rounds of smp_call_function() to every other online
 *             CPU, waiting for each; read: "ipi rounds=N cpus=C ns_per_op=X
 *             errors=E"
 *   ipi_many  the same with smp_call_function_many() on a strict subset of
 *             the other CPUs (all but the caller and one more), which the
 *             kernel sends as a mask rather than as an all-but-self shorthand
 *   lock      write MS: one bound kthread per online CPU, all taking one
 *             shared spinlock for MS milliseconds; read: "lock ms=M threads=T
 *             ops=O ops_per_s=X errors=E"
 *
 * Every benchmark checks its own work: each target CPU must have run the
 * IPI function exactly once per round, and the lock-protected counter must
 * equal the sum of the operations the threads counted.  A failed check
 * makes the write return -EIO and shows as errors= on read.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#define PVGB_MAX_ROUNDS		10000000U
#define PVGB_MAX_MS		60000U
/* cpu_relax() calls inside the lock: a short but real critical section. */
#define PVGB_HOLD_SPINS		100
#define PVGB_RESULT_LEN		160

/* Serializes the runs; a write while one is in progress gets -EBUSY. */
static DEFINE_MUTEX(pvgb_mutex);
static struct dentry *pvgb_dir;

/* ---------------------------------------------------------------- IPI */

/* Calls of pvgb_ipi_fn() on each CPU, and rounds each CPU was no target. */
static DEFINE_PER_CPU(unsigned int, pvgb_ipi_hits);
static DEFINE_PER_CPU(unsigned int, pvgb_ipi_spared);

static void pvgb_ipi_fn(void *info)
{
	this_cpu_inc(pvgb_ipi_hits);
}

/*
 * One round: the caller is never a target.  With @subset, the highest
 * online CPU other than the caller is left out as well, so the targets are
 * a strict subset of the other CPUs.  Preemption is off for the round only:
 * between rounds the caller may move, which the spared counts account for.
 */
static void pvgb_ipi_round(bool subset, struct cpumask *mask)
{
	unsigned int self, skip;

	preempt_disable();
	self = smp_processor_id();
	this_cpu_inc(pvgb_ipi_spared);
	if (!subset) {
		smp_call_function(pvgb_ipi_fn, NULL, 1);
	} else {
		skip = cpumask_last(cpu_online_mask);
		if (skip == self)
			skip = cpumask_first(cpu_online_mask);
		per_cpu(pvgb_ipi_spared, skip)++;
		cpumask_copy(mask, cpu_online_mask);
		cpumask_clear_cpu(self, mask);
		cpumask_clear_cpu(skip, mask);
		smp_call_function_many(mask, pvgb_ipi_fn, NULL, 1);
	}
	preempt_enable();
}

static int pvgb_ipi_run(bool subset, unsigned int rounds, char *result)
{
	const char *name = subset ? "ipi_many" : "ipi";
	unsigned int cpu, cpus, errors = 0, i;
	cpumask_var_t mask;
	u64 start, ns;

	if (!zalloc_cpumask_var(&mask, GFP_KERNEL))
		return -ENOMEM;
	/* The set of online CPUs must not change under the counts. */
	cpus_read_lock();
	cpus = num_online_cpus();
	if (cpus < (subset ? 3 : 2)) {
		cpus_read_unlock();
		free_cpumask_var(mask);
		return -ENODEV;
	}
	for_each_online_cpu(cpu) {
		per_cpu(pvgb_ipi_hits, cpu) = 0;
		per_cpu(pvgb_ipi_spared, cpu) = 0;
	}

	start = ktime_get_ns();
	for (i = 0; i < rounds; i++) {
		pvgb_ipi_round(subset, mask);
		if (!(i & 15))
			cond_resched();
	}
	ns = ktime_get_ns() - start;

	/* smp_call_function*() waited for every call: the counts are final. */
	for_each_online_cpu(cpu) {
		unsigned int hits = per_cpu(pvgb_ipi_hits, cpu);
		unsigned int spared = per_cpu(pvgb_ipi_spared, cpu);

		if (hits + spared != rounds) {
			pr_err("%s: CPU %u ran %u calls, expected %u\n",
			       name, cpu, hits, rounds - spared);
			errors++;
		}
	}
	cpus_read_unlock();
	free_cpumask_var(mask);

	snprintf(result, PVGB_RESULT_LEN,
		 "%s rounds=%u cpus=%u ns_per_op=%llu errors=%u\n",
		 name, rounds, cpus, div_u64(ns, rounds), errors);
	return errors ? -EIO : 0;
}

static int pvgb_ipi_all(unsigned int rounds, char *result)
{
	return pvgb_ipi_run(false, rounds, result);
}

static int pvgb_ipi_many(unsigned int rounds, char *result)
{
	return pvgb_ipi_run(true, rounds, result);
}

/* ---------------------------------------------------------------- lock */

static DEFINE_SPINLOCK(pvgb_lock);
static unsigned long pvgb_lock_counter;	/* protected by pvgb_lock */
static bool pvgb_lock_stop;

struct pvgb_lock_thread {
	struct task_struct *task;
	unsigned long ops;
};

static int pvgb_lock_fn(void *data)
{
	struct pvgb_lock_thread *t = data;
	unsigned long ops = 0;
	int i;

	while (!READ_ONCE(pvgb_lock_stop)) {
		spin_lock(&pvgb_lock);
		pvgb_lock_counter++;
		for (i = 0; i < PVGB_HOLD_SPINS; i++)
			cpu_relax();
		spin_unlock(&pvgb_lock);
		ops++;
		cond_resched();
	}
	t->ops = ops;

	/* Stay until kthread_stop(), which then cannot find us gone. */
	set_current_state(TASK_INTERRUPTIBLE);
	while (!kthread_should_stop()) {
		schedule();
		set_current_state(TASK_INTERRUPTIBLE);
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

static int pvgb_lock_run(unsigned int ms, char *result)
{
	struct pvgb_lock_thread *threads;
	unsigned int cpu, n = 0, i, errors = 0;
	unsigned long sum = 0;
	u64 start, ns = 0;
	int ret = 0;

	threads = kcalloc(nr_cpu_ids, sizeof(*threads), GFP_KERNEL);
	if (!threads)
		return -ENOMEM;
	cpus_read_lock();
	pvgb_lock_counter = 0;
	WRITE_ONCE(pvgb_lock_stop, false);
	for_each_online_cpu(cpu) {
		struct task_struct *p;

		p = kthread_create(pvgb_lock_fn, &threads[n], "pvgb_lock/%u",
				   cpu);
		if (IS_ERR(p)) {
			ret = PTR_ERR(p);
			break;
		}
		kthread_bind(p, cpu);
		threads[n++].task = p;
	}

	if (!ret) {
		start = ktime_get_ns();
		for (i = 0; i < n; i++)
			wake_up_process(threads[i].task);
		/* Interruptible: a long run must not look like a hung task. */
		msleep_interruptible(ms);
		WRITE_ONCE(pvgb_lock_stop, true);
		ns = ktime_get_ns() - start;
	}
	/* Threads that never ran are stopped before they call pvgb_lock_fn. */
	for (i = 0; i < n; i++)
		kthread_stop(threads[i].task);
	cpus_read_unlock();

	if (!ret) {
		for (i = 0; i < n; i++)
			sum += threads[i].ops;
		if (sum != pvgb_lock_counter) {
			pr_err("lock: counter is %lu, threads counted %lu\n",
			       pvgb_lock_counter, sum);
			errors++;
		}
		snprintf(result, PVGB_RESULT_LEN,
			 "lock ms=%u threads=%u ops=%lu ops_per_s=%llu errors=%u\n",
			 ms, n, sum, div64_u64((u64)sum * NSEC_PER_SEC, ns ?: 1),
			 errors);
		ret = errors ? -EIO : 0;
	}
	kfree(threads);
	return ret;
}

/* ---------------------------------------------------------------- debugfs */

struct pvgb_suite {
	const char *name;
	unsigned int max;
	int (*run)(unsigned int arg, char *result);
	char result[PVGB_RESULT_LEN];
};

static struct pvgb_suite pvgb_suites[] = {
	{ .name = "ipi", .max = PVGB_MAX_ROUNDS, .run = pvgb_ipi_all },
	{ .name = "ipi_many", .max = PVGB_MAX_ROUNDS, .run = pvgb_ipi_many },
	{ .name = "lock", .max = PVGB_MAX_MS, .run = pvgb_lock_run },
};

static ssize_t pvgb_write(struct file *file, const char __user *buf,
			  size_t count, loff_t *ppos)
{
	struct pvgb_suite *s = file->private_data;
	unsigned int arg;
	int ret;

	ret = kstrtouint_from_user(buf, count, 0, &arg);
	if (ret)
		return ret;
	if (arg < 1 || arg > s->max)
		return -EINVAL;
	if (!mutex_trylock(&pvgb_mutex))
		return -EBUSY;
	ret = s->run(arg, s->result);
	mutex_unlock(&pvgb_mutex);
	return ret ? ret : count;
}

static ssize_t pvgb_read(struct file *file, char __user *buf, size_t count,
			 loff_t *ppos)
{
	struct pvgb_suite *s = file->private_data;
	char result[PVGB_RESULT_LEN];
	int ret;

	ret = mutex_lock_interruptible(&pvgb_mutex);
	if (ret)
		return ret;
	strscpy(result, s->result, sizeof(result));
	mutex_unlock(&pvgb_mutex);
	if (!result[0])
		return -ENODATA;
	return simple_read_from_buffer(buf, count, ppos, result,
				       strlen(result));
}

static const struct file_operations pvgb_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = pvgb_read,
	.write = pvgb_write,
	.llseek = default_llseek,
};

static int __init pvgb_init(void)
{
	unsigned int i;

	pvgb_dir = debugfs_create_dir("pvg_bench", NULL);
	if (IS_ERR(pvgb_dir))
		return PTR_ERR(pvgb_dir);
	for (i = 0; i < ARRAY_SIZE(pvgb_suites); i++)
		debugfs_create_file(pvgb_suites[i].name, 0600, pvgb_dir,
				    &pvgb_suites[i], &pvgb_fops);
	return 0;
}

static void __exit pvgb_exit(void)
{
	debugfs_remove_recursive(pvgb_dir);
}

module_init(pvgb_init);
module_exit(pvgb_exit);

MODULE_DESCRIPTION("pvguest micro-benchmarks: IPI round trip, lock contention");
MODULE_LICENSE("GPL");
