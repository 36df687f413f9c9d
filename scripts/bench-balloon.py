#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""pvguest balloon benchmark: pvballoon against virtio_balloon and the host.

  bench-balloon.py --base B [--out DIR] [--runs N] [--cycles C] [--no-build]

Boots the test kernel of base B under QEMU TCG with 2 GiB of RAM and a
virtio-balloon device, once with the stock driver (virtio_balloon) and
once with pvballoon, alternating, C times (default 2); the guest loads the
driver under test itself.  In each boot tests/guest/bench/balloon.sh, after
a warm-up, N times (default 5): touches and frees 1 GiB, then asks the host
agent (scripts/hostagent.py) to inflate by 1 GiB and to deflate back, each
timed on the host from the QMP balloon command until query-balloon shows
the target, and reads QEMU's RSS around the inflation.  Between the boots
the host floor runs N times: tests/host/madvise-floor.c does on 1 GiB what
QEMU does per balloon page (one madvise(MADV_DONTNEED) per 4 KiB page to
inflate, one MADV_WILLNEED to deflate).

The medians of all C * N runs are compared: a table on stdout, and one
JSON file per suite in the output directory (balloon_inflate.json,
balloon_deflate.json, balloon_rss.json), each a list of records

  {"name", "unit", "ours", "baseline", "baseline_value", "ratio"}

one with baseline "stock" and one with baseline "host-floor", "ours" being
pvballoon's median; a ratio above 1 always means pvballoon is better (for
times, baseline / ours).  While the kernel has no pvballoon, only the stock
driver and the floor are measured and shown, and no JSON is written (old
balloon results are removed, so make export never shows stale numbers).
Logs of each boot are in out/bench/<base>/balloon-<driver>[.cN]/.

A boot that fails in the first cycle ends the run.  In a later cycle,
that cycle is left out and the next one boots as usual: the table and the
JSON files come from the whole cycles (boots and floor runs alike), and
the exit status is still 1.
"""

import argparse
import os
import statistics
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import pvgtest  # noqa: E402

# (boot name, driver the guest loads)
DRIVERS = [('stock', 'virtio_balloon'), ('pvballoon', 'pvballoon')]

# (suite, BENCH metric, unit, lower is better, floor key, description)
SUITES = [
    ('balloon_inflate', 'ms', 'ms', True, 'dontneed_ms',
     'inflate 1 GiB of a 2 GiB guest (QMP balloon until query-balloon)'),
    ('balloon_deflate', 'ms', 'ms', True, 'willneed_ms',
     'deflate 1 GiB back (QMP balloon until query-balloon)'),
    ('balloon_rss', 'bytes_per_byte', 'B/B', False, 'rss_per_byte',
     'host RSS returned per inflated byte'),
]

# The host floor's name among the boots of a cycle (cycle_order()).
FLOOR = 'host-floor'

GUEST_MIB = 2048
BALLOON_MIB = 1024
# No free page reporting: it would hand the touched memory back before the
# balloon takes it, and the RSS the balloon returns could not be measured.
QEMU_ARGS = ['-cpu', 'max', '-smp', '2', '-m', str(GUEST_MIB),
             '-device', 'virtio-balloon-pci,id=balloon0,deflate-on-oom=on']


def cycle_order(drivers, cycle):
    """The boots of one cycle: the drivers in bench.cycle_order(), so that
    neither always follows the floor run or a boot of the other; then the
    host floor (FLOOR, no driver)."""
    return bench.cycle_order(cycle, drivers) + [(FLOOR, None)]


def floor_tool():
    """Build tests/host/madvise-floor.c (when changed) and return its path."""
    src = os.path.join(pvgtest.TOP, 'tests', 'host', 'madvise-floor.c')
    tools = os.path.join(pvgtest.BUILD, 'tools')
    exe = os.path.join(tools, 'madvise-floor')
    os.makedirs(tools, exist_ok=True)
    if (not os.path.exists(exe) or
            os.path.getmtime(src) > os.path.getmtime(exe)):
        pvgtest.sh('gcc', '-O2', '-Wall', '-Werror', '-o', exe, src)
    return exe


def parse_floor(line):
    """{key: value} of a madvise-floor line, with rss_per_byte."""
    words = dict(w.split('=', 1) for w in line.split()[1:] if '=' in w)
    got = {k: float(words[k]) for k in ('bytes', 'dontneed_ms',
                                        'willneed_ms', 'rss_drop_kib')}
    got['rss_per_byte'] = got['rss_drop_kib'] * 1024 / got['bytes']
    return got


def run_floor(exe, runs):
    out = {}
    for _ in range(runs):
        r = subprocess.run([exe, str(BALLOON_MIB)], stdout=subprocess.PIPE,
                           text=True)
        if r.returncode or not r.stdout.startswith('floor '):
            sys.exit('bench-balloon: madvise-floor failed (exit %d): %s'
                     % (r.returncode, r.stdout.strip()))
        for k, v in parse_floor(r.stdout).items():
            out.setdefault(k, []).append(v)
    print('    host-floor dontneed_ms: %s  willneed_ms: %s' % (
        ' '.join(bench.fmt(x) for x in out['dontneed_ms']),
        ' '.join(bench.fmt(x) for x in out['willneed_ms'])))
    return out


def balloon_boot(name, driver, args, kernel, initrd, cycle):
    """One boot with one driver: {suite: [values]} or exit."""
    outdir = os.path.join(pvgtest.OUT, 'bench', args.base,
                          'balloon-%s' % name if cycle == 1 else
                          'balloon-%s.c%d' % (name, cycle))
    append = ' '.join(['console=ttyS0 panic=-1 pvgtest.mode=bench',
                       'pvgtest.suites=balloon', 'pvgtest.runs=%d' % args.runs,
                       'pvgtest.balloon=%s' % driver,
                       'pvgtest.balloon_mib=%d' % BALLOON_MIB] +
                      args.guest_arg)
    pvgtest.say('balloon %s boot of %s (%s)' % (name, args.base, driver))
    rc, secs = pvgtest.boot('tcg', kernel, initrd, append, QEMU_ARGS, outdir,
                            args.timeout, agent=True)
    return bench.boot_runs('bench-balloon', name, outdir, rc, secs,
                           [(s[0], s[1]) for s in SUITES], args.runs,
                           kernel)


def records(medians, floor):
    """{suite: [record vs stock, record vs host-floor]} from the medians."""
    out = {}
    for suite, _, unit, lower, fkey, desc in SUITES:
        ours = medians['pvballoon'][suite]
        recs = []
        for baseline, value in (('stock', medians['stock'][suite]),
                                ('host-floor', floor[fkey])):
            recs.append({'name': '%s: %s' % (suite, desc), 'unit': unit,
                         'ours': ours, 'baseline': baseline,
                         'baseline_value': value,
                         'ratio': round(bench.ratio(ours, value, lower), 4)})
        out[suite] = recs
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--base', default='6.12')
    ap.add_argument('--out', default='',
                    help='directory for the JSON results '
                         '(default out/bench/BASE)')
    ap.add_argument('--runs', type=int, default=5,
                    help='measured runs a boot (default 5, at least 5 for '
                         'results worth keeping)')
    ap.add_argument('--cycles', type=int, default=2,
                    help='boot each driver this many times, alternating '
                         '(default 2)')
    ap.add_argument('--timeout', type=int, default=900,
                    help='seconds a boot may take (default 900)')
    ap.add_argument('--guest-arg', action='append', default=[],
                    help='extra kernel argument for every boot (repeatable)')
    bench.add_kernel_args(ap)
    args = ap.parse_args()
    if args.runs < 1 or args.cycles < 1:
        sys.exit('bench-balloon: --runs and --cycles must be at least 1')
    out = args.out or os.path.join(pvgtest.OUT, 'bench', args.base)

    kernel, initrd = bench.chosen_kernel('bench-balloon', args)
    drivers = DRIVERS
    if not bench.initrd_has(initrd, 'pvballoon'):
        print('    note: no pvballoon in this kernel (not in modules.dep nor '
              'modules.builtin of %s): measuring the stock driver and the '
              'host floor only, no JSON' % initrd)
        drivers = [d for d in DRIVERS if d[0] != 'pvballoon']
    if args.runs < 5:
        print('    note: %d runs a boot; results need at least 5' % args.runs)
    exe = floor_tool()

    def boot(name, driver, cycle):
        if name == FLOOR:
            return run_floor(exe, args.runs)
        return balloon_boot(name, driver, args, kernel, initrd, cycle)

    boots, cycles, dropped = bench.run_cycles(
        args.cycles, boot, lambda cycle: cycle_order(drivers, cycle))
    bench.dropped_note('bench-balloon', cycles, args.cycles, dropped)
    medians = {name: {s: statistics.median(v) for s, v in suites.items()}
               for name, suites in bench.pooled(boots).items()}
    floor = medians.pop(FLOOR)

    have_pv = 'pvballoon' in medians
    print()
    print('%s balloon benchmark, test kernel, TCG, %d MiB guest, 2 vCPUs, '
          '%d MiB ballooned, median of %d runs (%d boots x %d); '
          'ratio > 1: pvballoon is better'
          % (args.base, GUEST_MIB, BALLOON_MIB, cycles * args.runs,
             cycles, args.runs))
    print('%-16s %-5s %10s %10s %10s %11s %11s' % (
        'suite', 'unit', 'pvballoon', 'stock', 'host-floor', 'pv/stock',
        'pv/floor'))
    recs = records(medians, floor) if have_pv else {}
    for suite, _, unit, _, fkey, _ in SUITES:
        pv = bench.fmt(medians['pvballoon'][suite]) if have_pv else '-'
        ratios = (('%11.2f %11.2f' % (recs[suite][0]['ratio'],
                                      recs[suite][1]['ratio']))
                  if have_pv else '%11s %11s' % ('-', '-'))
        print('%-16s %-5s %10s %10s %10s %s' % (
            suite, unit, pv, bench.fmt(medians['stock'][suite]),
            bench.fmt(floor[fkey]), ratios))

    os.makedirs(out, exist_ok=True)
    if not have_pv:
        for suite in SUITES:
            path = os.path.join(out, suite[0] + '.json')
            if os.path.exists(path):
                os.remove(path)
                print('    removed %s: no pvballoon result to replace it'
                      % path)
        print('no pvballoon in this kernel: no JSON written')
    else:
        for suite, rs in recs.items():
            bench.write_json(out, suite, rs)
        print('JSON results in %s' % out)
    bench.incomplete('bench-balloon', cycles, args.cycles, dropped)
    return 0


if __name__ == '__main__':
    sys.exit(main())
