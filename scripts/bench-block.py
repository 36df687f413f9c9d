#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""pvguest block benchmark: pvblock against virtio_blk, fio in the guest.

  bench-block.py --base B [--out DIR] [--runs N] [--boots K] [--no-build]

Boots the test kernel of base B under QEMU TCG (2 vCPUs) with two
virtio-blk-pci disks: serial bench-raw, a sparse raw file in host tmpfs
(/dev/shm, made anew for every boot so that every boot starts from the
same image), and serial bench-null, QEMU's null-co backend with
read-zeroes=on, which costs the host next to nothing and so shows the
driver's own cost.  Each boot loads one driver, the stock virtio_blk or
pvblock, and tests/guest/bench/block.sh, after an unmeasured warm-up run
(the first run of a boot is slower), runs fio on both disks (libaio,
direct=1, 4 s jobs after a 0.25 s ramp): 4k random read QD1 (p50 and p99
total latency), 4k random read and random write QD32 (IOPS), 128k
sequential read and write QD8 (MB/s).  fio comes from the block tools
layer of scripts/mkinitramfs.sh, appended to the test initramfs.

N measured runs of each driver (default 5) are spread over K boots of
each driver (default N: one run a boot), booted alternately (stock, pvblock,
pvblock, stock, ...) so that a slow or fast moment of the machine hits
both.  The medians are compared: a table on stdout with each driver's
spread ((max - min) / median of its runs), the issue's targets (QD32 IOPS
at least 1.1x stock, QD1 p50 latency and sequential throughput no worse)
marked met or not met (a missed target does not fail the run), and one
JSON file per disk in the output directory (block_raw.json,
block_null.json), each a list of records

  {"name", "unit", "ours", "baseline", "baseline_value", "ratio"}

with baseline "virtio_blk", "ours" being pvblock's median; a ratio above
1 always means pvblock is better (for latencies, baseline / ours).  While
the kernel has no pvblock, only virtio_blk is measured and shown, and no
JSON is written (old block results are removed, so make export never
shows stale numbers).  Logs of each boot are in
out/bench/<base>/block-<stock|pvblock>[.cN]/.

A boot that fails in the first pair of boots ends the run.  In a later
pair, that pair is left out and the next one boots as usual: the table
and the JSON files come from the whole pairs, with fewer runs than asked
(the table says how many), and the exit status is still 1.
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import pvgtest  # noqa: E402

STOCK = 'virtio_blk'
OURS = 'pvblock'

# (disk, serial, what backs it)
DISKS = [
    ('raw', 'bench-raw', 'raw file in host tmpfs'),
    ('null', 'bench-null', 'QEMU null-co'),
]

# (job, BENCH metric, unit, lower is better, description, target ratio);
# the guest reports each as "BENCH <disk>_<job> <metric> <value>".
JOBS = [
    ('randread_qd1_p50', 'us', 'us', True, '4k randread QD1 p50 latency',
     1.0),
    ('randread_qd1_p99', 'us', 'us', True, '4k randread QD1 p99 latency',
     None),
    ('randread_qd32', 'iops', 'IOPS', False, '4k randread QD32', 1.1),
    ('randwrite_qd32', 'iops', 'IOPS', False, '4k randwrite QD32', 1.1),
    ('read_128k_qd8', 'mb_per_s', 'MB/s', False, '128k seq read QD8', 1.0),
    ('write_128k_qd8', 'mb_per_s', 'MB/s', False, '128k seq write QD8', 1.0),
]

IMAGE_BYTES = 1 << 30
# Room for fio and its libraries in the initramfs.
QEMU_BASE = ['-cpu', 'max', '-smp', '2', '-m', '1024']


def qemu_args(image, disks):
    """QEMU arguments for the benchmark disks; each device gets the serial
    the guest finds it by."""
    args = list(QEMU_BASE)
    for disk, serial, _ in DISKS:
        if disk not in disks:
            continue
        node = 'bench-%s' % disk
        if disk == 'raw':
            # JSON syntax: the file name needs no comma escaping.
            spec = {'driver': 'raw', 'node-name': node,
                    'file': {'driver': 'file', 'filename': image}}
        else:
            spec = {'driver': 'null-co', 'node-name': node,
                    'size': IMAGE_BYTES, 'read-zeroes': True}
        args += ['-blockdev', json.dumps(spec, separators=(',', ':')),
                 '-device', 'virtio-blk-pci,drive=%s,serial=%s'
                 % (node, serial)]
    return args


def suites(disks):
    """[(suite, metric, unit, lower, description, target, disk)] in table
    order."""
    return [('%s_%s' % (d, j), m, u, lower, desc, target, d)
            for d, _, _ in DISKS if d in disks
            for j, m, u, lower, desc, target in JOBS]


def fresh_image(path):
    """A new sparse raw image: every boot starts from holes, whatever the
    writes of the boot before left."""
    with open(path, 'wb') as f:
        f.truncate(IMAGE_BYTES)


def block_boot(role, driver, runs, args, kernel, initrd, image, cycle):
    """One boot with one driver: {suite: [values]} or exit."""
    name = 'block-%s' % role
    outdir = os.path.join(pvgtest.OUT, 'bench', args.base,
                          name if cycle == 1 else '%s.c%d' % (name, cycle))
    append = ' '.join(['console=ttyS0 panic=-1 pvgtest.mode=bench',
                       'pvgtest.suites=block', 'pvgtest.runs=%d' % runs,
                       'pvgtest.blkbench=%s' % driver,
                       'pvgtest.blk_secs=%d' % args.secs,
                       'pvgtest.blk_ramp=%dms' % round(args.ramp * 1000),
                       'pvgtest.blk_warmup=%dms' % round(args.warmup * 1000),
                       'pvgtest.blk_disks=%s' % ','.join(args.disks)] +
                      args.guest_arg)
    fresh_image(image)
    pvgtest.say('block %s boot %d of %s (%s, %d run%s)'
                % (role, cycle, args.base, driver, runs,
                   '' if runs == 1 else 's'))
    rc, secs = pvgtest.boot('tcg', kernel, initrd, append,
                            qemu_args(image, args.disks), outdir,
                            args.timeout or boot_timeout(runs, args))
    return bench.boot_runs('bench-block', driver, outdir, rc, secs,
                           [(s[0], s[1]) for s in suites(args.disks)], runs,
                           kernel)


def boot_timeout(runs, args):
    """Seconds a boot may take: generous, since a TCG guest on a busy host
    can run at half speed, but short of waiting on a hung guest for long."""
    jobs = runs * len(args.disks) * (len(JOBS) - 1)
    return int(120 + 3 * (jobs * (args.secs + args.ramp + 2) +
                          (len(JOBS) - 1) * (args.warmup + 2)))


def plan(runs, boots):
    """Runs of each boot: runs spread as evenly as possible over boots."""
    return [runs // boots + (1 if i < runs % boots else 0)
            for i in range(boots)]


def spread(values):
    """(max - min) / median: how far apart one driver's runs are."""
    return (max(values) - min(values)) / statistics.median(values)


def records(medians, disks):
    """{disk: [record]} comparing ours to the stock driver's medians."""
    out = {}
    for suite, _, unit, lower, desc, _, disk in suites(disks):
        value = medians['stock'][suite]
        out.setdefault(disk, []).append({
            'name': 'block_%s: %s' % (disk, desc), 'unit': unit,
            'ours': medians['ours'][suite], 'baseline': STOCK,
            'baseline_value': value,
            'ratio': round(bench.ratio(medians['ours'][suite], value, lower),
                           4)})
    return out


def targets(recs):
    """Lines saying whether each target of the issue is met."""
    lines = []
    for disk, rs in recs.items():
        for (_, _, _, _, desc, target), r in zip(JOBS, rs):
            if target is None:
                continue
            what = ('at least %.1fx %s' % (target, STOCK) if target > 1
                    else 'no worse than %s' % STOCK)
            lines.append('  %-5s %-28s %-22s %5.2fx  %s' % (
                disk, desc, what, r['ratio'],
                'met' if r['ratio'] >= target else 'NOT MET'))
    return lines


def remove_stale(out, disks):
    for disk in disks:
        path = os.path.join(out, 'block_%s.json' % disk)
        if os.path.exists(path):
            os.remove(path)
            print('    removed %s: no pvblock result to replace it' % path)


def main():
    start = time.time()
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--base', default='6.12')
    ap.add_argument('--out', default='',
                    help='directory for the JSON results '
                         '(default out/bench/BASE)')
    ap.add_argument('--runs', type=int, default=5,
                    help='measured runs of each driver (default 5, at least '
                         '5 for results worth keeping)')
    ap.add_argument('--boots', type=int, default=0,
                    help='boots of each driver the runs are spread over, '
                         'alternating drivers (default: --runs, one run a '
                         'boot)')
    ap.add_argument('--secs', type=int, default=4,
                    help='seconds each fio job measures (default 4)')
    ap.add_argument('--ramp', type=float, default=0.25,
                    help='seconds of fio ramp_time before each job, not '
                         'measured (default 0.25: the warm-up run has '
                         'already warmed the paths)')
    ap.add_argument('--warmup', type=float, default=0.5,
                    help='seconds of each job of a warm-up run at the start '
                         'of every boot, not measured (default 0.5; the '
                         'first run of a boot is slow otherwise)')
    ap.add_argument('--disks', default='raw,null',
                    help='which disks to measure: raw, null (default both)')
    ap.add_argument('--timeout', type=int, default=0,
                    help='seconds a boot may take (default: from the jobs '
                         'it runs)')
    ap.add_argument('--guest-arg', action='append', default=[],
                    help='extra kernel argument for every boot (repeatable)')
    bench.add_kernel_args(ap)
    ap.add_argument('--image-dir', default='/dev/shm',
                    help='where the raw image lives (default /dev/shm: '
                         'host tmpfs)')
    # A self-check of the benchmark: --ours virtio_blk compares the stock
    # driver with itself, which shows the noise.
    ap.add_argument('--ours', default=OURS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.boots = args.boots or args.runs
    if args.runs < 1 or args.boots < 1 or args.boots > args.runs:
        sys.exit('bench-block: need 1 <= --boots <= --runs')
    if args.secs < 1 or args.ramp < 0 or args.warmup < 0:
        sys.exit('bench-block: --secs must be at least 1, --ramp and '
                 '--warmup not negative')
    args.disks = [d for d in args.disks.split(',') if d]
    unknown = set(args.disks) - {d[0] for d in DISKS}
    if unknown or not args.disks:
        sys.exit('bench-block: unknown disk(s) %s (raw, null)'
                 % ', '.join(sorted(unknown)))
    out = args.out or os.path.join(pvgtest.OUT, 'bench', args.base)
    self_check = args.ours == STOCK

    kernel, initrd = bench.chosen_kernel('bench-block', args)
    # fio and its libraries: the block tools layer of mkinitramfs.sh.
    initrd = pvgtest.initrd_with(initrd, ['block'])
    if not bench.initrd_has(initrd, STOCK):
        sys.exit('bench-block: no %s in this kernel (not in modules.dep nor '
                 'modules.builtin of %s)' % (STOCK, initrd))
    roles = [('stock', STOCK), ('ours', args.ours)]
    if not bench.initrd_has(initrd, args.ours):
        print('    note: no %s in this kernel (not in modules.dep nor '
              'modules.builtin of %s): measuring %s only, no JSON'
              % (args.ours, initrd, STOCK))
        roles = roles[:1]
    if args.runs < 5:
        print('    note: %d runs a driver; results need at least 5'
              % args.runs)
    if not os.path.isdir(args.image_dir):
        sys.exit('bench-block: no directory %s for the raw image'
                 % args.image_dir)
    image = os.path.join(args.image_dir,
                         'pvguest-bench-block-%d.raw' % os.getpid())

    # Log directories by role, named after the driver unless both are one.
    dirs = {'stock': 'stock', 'ours': 'self' if self_check else args.ours}
    runs_of = plan(args.runs, args.boots)
    loads = []

    def boot(role, driver, cycle):
        got = block_boot(dirs[role], driver, runs_of[cycle - 1], args,
                         kernel, initrd, image, cycle)
        loads.append(os.getloadavg()[0])
        return got

    try:
        # Alternate which driver goes first, so neither always boots right
        # after the other.
        boots, cycles, dropped = bench.run_cycles(
            len(runs_of), boot, lambda cycle: bench.cycle_order(cycle, roles))
    finally:
        if os.path.exists(image):
            os.remove(image)
    bench.dropped_note('bench-block', cycles, len(runs_of), dropped)
    pooled = bench.pooled(boots)
    medians = {role: {s: statistics.median(v) for s, v in pooled[role].items()}
               for role, _ in roles}

    have_ours = 'ours' in medians
    ours = args.ours
    print()
    print('%s block benchmark, test kernel, TCG, 2 vCPUs, fio libaio '
          'direct=1, %d s jobs after a %g s ramp, median of %d runs a driver '
          '(%d boots each, alternating); ratio > 1: %s is better'
          % (args.base, args.secs, args.ramp, sum(runs_of[:cycles]), cycles,
             ours))
    print('disks: %s' % ', '.join('%s: %s' % (d, what)
                                  for d, _, what in DISKS
                                  if d in args.disks))
    if self_check:
        print('self-check: %s against itself, the ratios show the noise'
              % STOCK)
    # The guest keeps about two host threads busy (a vCPU and QEMU's I/O);
    # more load than that means other work competed with the guests.
    cpus = os.cpu_count() or 1
    if max(loads) > cpus + 1:
        print('note: host load average up to %.1f on %d CPUs during the '
              'boots: other work competed for the CPUs, expect noise (see '
              'the spread columns)' % (max(loads), cpus))
    # spread: (max - min) / median of one driver's runs.
    print('%-5s %-28s %-5s %10s %10s %6s %10s %10s' % (
        'disk', 'job', 'unit', ours, STOCK, 'ratio', 'spread', 'spread'))
    print('%-5s %-28s %-5s %10s %10s %6s %10s %10s' % (
        '', '', '', '', '', '', ours, STOCK))
    recs = records(medians, args.disks) if have_ours else {}
    idx = {}
    for suite, _, unit, _, desc, _, disk in suites(args.disks):
        i = idx[disk] = idx.get(disk, -1) + 1
        stock_v = pooled['stock'][suite]
        if have_ours:
            ours_v = pooled['ours'][suite]
            cols = (bench.fmt(medians['ours'][suite]),
                    '%6.2f' % recs[disk][i]['ratio'],
                    '%9.1f%%' % (100 * spread(ours_v)))
        else:
            cols = ('-', '%6s' % '-', '%10s' % '-')
        print('%-5s %-28s %-5s %10s %10s %s %s %9.1f%%' % (
            disk, desc, unit, cols[0], bench.fmt(medians['stock'][suite]),
            cols[1], cols[2], 100 * spread(stock_v)))

    os.makedirs(out, exist_ok=True)
    if not have_ours:
        remove_stale(out, args.disks)
        print('no %s in this kernel: no JSON written' % ours)
    else:
        print()
        print('targets (a miss is reported, not an error):')
        for line in targets(recs):
            print(line)
        if self_check and not args.out:
            print('self-check: no JSON written (give --out to keep it)')
        else:
            for disk, rs in recs.items():
                bench.write_json(out, 'block_%s' % disk, rs)
            print('JSON results in %s' % out)
    print('bench-block: %.0f s in all' % (time.time() - start))
    bench.incomplete('bench-block', cycles, len(runs_of), dropped)
    return 0


if __name__ == '__main__':
    sys.exit(main())
