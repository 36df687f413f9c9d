#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""pvguest benchmarks: one test kernel, three boots, compared.

  bench.py --base B [--accel A] [--out DIR] [--runs N] [--cycles C]
           [--retries R] [--control] [--no-build]

Boots the test kernel of base B under KVM (nested in a TCG guest when the
host has no usable KVM) three times: pvguest (as built), stock
("pvguest=off": the stock KVM guest code) and none ("nopv": no paravirt
operations), and repeats that cycle C times (default 2), so that a slow
or fast moment of the machine does not land on one configuration only.
Each boot runs the suites of tests/guest/bench/run.sh, a warm-up and then
N measured runs each, and reports them as BENCH lines on its data port.
Each cycle boots the three in a different order (pvguest, stock, nopv;
then stock, nopv, pvguest; ...), so that no configuration always comes
first.  The medians of all C * N runs of each configuration are compared:
a table on stdout, with a 95% bootstrap interval of each pvguest/stock
ratio (boots and runs resampled; an interval around 1.0 means the two are
not told apart), and one JSON file per suite in the output directory, a
list of records

  {"name", "unit", "ours", "baseline", "baseline_value", "ratio"}

one with baseline "stock" and one with baseline "nopv", where "ours" is
pvguest's median and a ratio above 1 always means pvguest is better (for
latencies, baseline / ours).  Logs of each boot are in
out/bench/<base>/<boot>/ (<boot>.cN for cycle N > 1).

With --control, each cycle boots pvguest a second time, as
"pvguest-again", with the same kernel and arguments, and the table gains
the ratio pvguest/pvguest-again with its interval: an A/A control, what
two boots of one configuration differ by in this run on this machine.
Below the table, each suite's pvguest/stock ratio is printed cycle by
cycle from the boots' own medians (and pvguest/pvguest-again with
--control), so that a difference that holds in every cycle can be told
from one that comes from a single boot.  The JSON files are the same with
or without the control.

A nested boot that stops silently, or whose L1 fails, is booted again up
to R times (default 5, as in make check; the nested host resets `nopv`
boots far more often than the others).  A boot that fails after that
ends the run if it is in the first cycle.  In a later cycle, the rest of
that cycle is not booted and the cycle is left out, and the next cycle
boots as usual: the table and the JSON files come from the whole cycles,
and the exit status is still 1.
"""

import argparse
import gzip
import json
import os
import random
import statistics
import sys

# pvgtest.py is a script the repository tracks: no __pycache__ beside it.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pvgtest  # noqa: E402

# (boot, extra kernel arguments)
BOOTS = [('pvguest', ''), ('stock', 'pvguest=off'), ('nopv', 'nopv')]
# --control: pvguest booted once more a cycle, as built.
CONTROL = ('pvguest-again', '')

# (suite, BENCH metric, unit, lower is better, description)
SUITES = [
    ('ipi', 'ns_per_op', 'ns/op', True,
     'broadcast IPI round trip (smp_call_function)'),
    ('ipi_many', 'ns_per_op', 'ns/op', True,
     'subset-mask IPI round trip (smp_call_function_many)'),
    ('tlb', 'rounds_per_s', 'ops/s', False,
     'TLB shootdown (multi-threaded mprotect/munmap)'),
    ('lock', 'ops_per_s', 'ops/s', False,
     'overcommitted spinlock contention'),
]

# 4 vCPUs: with a 2-CPU nested L1 the guest is overcommitted, the setting
# where PV spinlocks, PV TLB flush and PV IPIs matter.
QEMU_ARGS = ['-cpu', 'host', '-smp', '4', '-m', '256']


def parse_bench(text):
    """BENCH lines of a data port log: ({suite: [values]}, errors, done)."""
    values, errors, done = {}, [], False
    for line in text.splitlines():
        words = line.strip().split(None, 3)
        if len(words) < 2 or words[0] != 'BENCH':
            continue
        if words[1] == 'error':
            errors.append(line.strip()[len('BENCH error '):])
        elif words[1] == 'done':
            done = True
        elif words[1] != 'info' and len(words) == 4:
            try:
                values.setdefault((words[1], words[2]), []).append(
                    float(words[3]))
            except ValueError:
                errors.append('unreadable line: %s' % line.strip())
    return values, errors, done


def read(path):
    try:
        with open(path, errors='replace') as f:
            return f.read()
    except OSError:
        return ''


def bench_boot(name, extra, args, accel, kernel, initrd, cycle):
    """Boot once (again after a silent nested stop, as make check does);
    {suite: [values]} or exit."""
    outdir = os.path.join(pvgtest.OUT, 'bench', args.base,
                          name if cycle == 1 else '%s.c%d' % (name, cycle))
    append = ' '.join(a for a in [
        'console=ttyS0 panic=-1 pvgtest.mode=bench',
        'pvgtest.runs=%d' % args.runs,
        'pvgtest.suites=%s' % ','.join(args.suites)] + args.guest_arg +
        [extra] if a)
    pvgtest.say('%s boot of %s (%s)' % (name, args.base,
                                       extra or 'kernel as built'))
    rc, secs = pvgtest.boot_retrying('%s/%s' % (args.base, name), accel,
                                     kernel, initrd, append, QEMU_ARGS,
                                     outdir, args.timeout,
                                     retries=args.retries)
    return boot_runs('bench', name, outdir, rc, secs,
                     [(s[0], s[1]) for s in SUITES if s[0] in args.suites],
                     args.runs, kernel)


class BootFailed(SystemExit):
    """A benchmark boot gave no usable results; uncaught, it ends the tool
    with its message, as sys.exit() would."""


def boot_runs(tool, name, outdir, rc, secs, wanted, runs, kernel):
    """The results of one benchmark boot: {suite: [values]} for each
    (suite, metric) of wanted; raises BootFailed unless the boot passed,
    finished its benchmarks without an error line, left a console free of
    kernel error reports, and gave each suite runs positive values.  The
    report of a failed boot says what L1 saw its L2 vCPUs do, if a nested
    one failed: where one shut down, and where each was while L2 was
    silent (pvgtest.l2_reports(), through KERNEL's System.map)."""
    ok, meaning = pvgtest.verdict(rc)
    problems = pvgtest.console_problems(outdir)
    data = read(os.path.join(outdir, 'data.log'))
    values, errors, done = parse_bench(data)
    if not (ok and done and not errors and not problems):
        print('%s: %s boot failed: %s after %.0f s'
              % (tool, name, meaning, secs))
        for e in pvgtest.l2_reports(outdir, kernel) + errors + problems:
            print('    %s' % e)
        if not done and not errors:
            print('    the benchmarks did not finish')
        raise BootFailed('%s: no results (logs in %s)' % (tool, outdir))
    pvgtest.say('%s boot done in %.0f s (logs in %s)' % (name, secs, outdir))
    for line in data.splitlines():
        # What each suite made pvguest do: "BENCH info counters SUITE c=n.."
        if line.startswith('BENCH info counters '):
            print('    %-9s %s' % (name, line[len('BENCH info counters '):]))
    out = {}
    for suite, metric in wanted:
        v = values.get((suite, metric), [])
        if len(v) < runs:
            raise BootFailed('%s: %s boot: %d of %d %s runs reported '
                             '(logs in %s)'
                             % (tool, name, len(v), runs, suite, outdir))
        if min(v) <= 0:
            raise BootFailed('%s: %s boot: %s reported %s (logs in %s)'
                             % (tool, name, suite, fmt(min(v)), outdir))
        out[suite] = v
        print('    %-9s %-15s %s' % (name, suite,
                                     ' '.join(fmt(x) for x in v)))
    return out


def add_kernel_args(ap):
    """The options that pick the kernel a TCG benchmark boots."""
    ap.add_argument('--no-build', action='store_true',
                    help='use the test kernel already built, do not run '
                         'build.sh (the initramfs is still packed)')
    ap.add_argument('--kernel', default='',
                    help='boot this bzImage (with --initrd) instead of the '
                         'test kernel of BASE; builds nothing')
    ap.add_argument('--initrd', default='')


def chosen_kernel(tool, args):
    """(kernel, initrd) of the options of add_kernel_args()."""
    if not args.kernel:
        return pvgtest.built_kernel(args.base, 'test',
                                    build=not args.no_build)
    if not args.initrd:
        sys.exit('%s: --kernel needs --initrd' % tool)
    return args.kernel, args.initrd


def initrd_has(initrd, module):
    """Whether the guest of this initramfs (gzip'd newc cpio, as
    mkinitramfs.sh packs it) has module, built in or as a module."""
    with gzip.open(initrd, 'rb') as f:
        data = f.read()
    pos = 0
    while data[pos:pos + 6] == b'070701':
        hdr = data[pos:pos + 110]
        size, namesize = int(hdr[54:62], 16), int(hdr[94:102], 16)
        name = data[pos + 110:pos + 110 + namesize - 1].decode('ascii',
                                                              'replace')
        start = (pos + 110 + namesize + 3) & ~3
        if name == 'TRAILER!!!':
            break
        if os.path.basename(name) in ('modules.dep', 'modules.builtin'):
            for line in data[start:start + size].decode(
                    'ascii', 'replace').splitlines():
                path = line.split(':')[0].strip()
                if os.path.basename(path).split('.ko')[0] == module:
                    return True
        pos = (start + size + 3) & ~3
    return False


def cycle_order(cycle, boots=BOOTS):
    """boots (default BOOTS) rotated for cycle (1-based), so that each
    boots first once in every len(boots) cycles; with two, they swap
    places from one cycle to the next."""
    k = (cycle - 1) % len(boots)
    return boots[k:] + boots[:k]


def configurations(control):
    """The boots of each cycle: BOOTS, and CONTROL last with --control."""
    return BOOTS + [CONTROL] if control else list(BOOTS)


def per_cycle(ours, base, lower_better):
    """ratio() of the boots' own medians, cycle by cycle (ours and base:
    lists of boots, each a list of runs, as run_cycles() returns)."""
    return [ratio(statistics.median(o), statistics.median(b), lower_better)
            for o, b in zip(ours, base)]


def per_cycle_text(ours, base, lower_better):
    """per_cycle() as "0.91 1.04 ...", for the lines below the table."""
    return ' '.join('%.2f' % r for r in per_cycle(ours, base, lower_better))


def run_cycles(cycles, boot, order=cycle_order):
    """Boot every configuration of order(cycle) (default: cycle_order(),
    BOOTS rotated) in each cycle, through boot(name, extra, cycle), which
    returns {suite: [runs]} or raises BootFailed.

    Returns (boots, whole, dropped): boots is {name: {suite: [[runs of one
    boot], ...]}} over the `whole` cycles that every configuration
    finished.  When a boot fails, after the retries of a silent nested
    stop, the rest of its cycle is not booted and the cycle is left out,
    so that every configuration has the same boots and none gains from
    the order of the cycle; dropped lists (cycle, exit message) of each
    such cycle, and the next cycle boots as usual.  A failure in the first
    cycle exits: a configuration that fails its first boot, retries and
    all, is more likely broken than unlucky."""
    boots = {}
    whole, dropped = 0, []
    for cycle in range(1, cycles + 1):
        got = {}
        try:
            for name, extra in order(cycle):
                got[name] = boot(name, extra, cycle)
        except BootFailed as e:
            # boot_runs() has printed what failed; e.code is its summary.
            if cycle == 1:
                raise
            print('    cycle %d left out (%s)%s' % (
                cycle, e.code, '' if cycle == cycles else
                '; going on with cycle %d' % (cycle + 1)))
            dropped.append((cycle, str(e.code)))
            continue
        for name, suites in got.items():
            for suite, v in suites.items():
                boots.setdefault(name, {}).setdefault(suite, []).append(v)
        whole += 1
    return boots, whole, dropped


def pooled(boots):
    """{name: {suite: [every run]}} of run_cycles()'s boots."""
    return {name: {suite: sum(v, []) for suite, v in suites.items()}
            for name, suites in boots.items()}


def dropped_text(dropped):
    """run_cycles()'s dropped as "cycle 2: why; cycle 4: why"."""
    return '; '.join('cycle %d: %s' % d for d in dropped)


def dropped_note(tool, whole, cycles, dropped):
    """Say which cycles a run_cycles() run left out, if any."""
    if dropped:
        print('%s: %d of %d cycles left out (%s); the results below come '
              'from the %d whole cycle(s)'
              % (tool, len(dropped), cycles, dropped_text(dropped), whole))


def incomplete(tool, whole, cycles, dropped):
    """Exit 1 after the results of a run_cycles() run that left cycles
    out."""
    if dropped:
        sys.exit('%s: incomplete: %d of %d cycles (%s)'
                 % (tool, whole, cycles, dropped_text(dropped)))


def ratio_interval(ours, base, lower_better, rounds=2000, seed=1):
    """95% bootstrap interval (lo, hi) of ratio(median ours, median base).

    ours and base are lists of boots, each a list of runs.  A resample
    draws boots with replacement and then runs with replacement within
    each drawn boot, so that both the spread between boots and the spread
    within one boot widen the interval.  Seeded: the same values give the
    same interval."""
    rng = random.Random(seed)

    def resample(boots):
        runs = []
        for _ in boots:
            boot = rng.choice(boots)
            runs.extend(rng.choice(boot) for _ in boot)
        return statistics.median(runs)

    got = sorted(ratio(resample(ours), resample(base), lower_better)
                 for _ in range(rounds))
    return got[int(rounds * 0.025)], got[int(rounds * 0.975) - 1]


def fmt(x):
    return '%.0f' % x if x >= 100 else '%.3g' % x


def ratio(ours, base, lower_better):
    """> 1 when pvguest is better (both values are positive)."""
    return base / ours if lower_better else ours / base


def write_json(out, suite, recs):
    """Replace OUT/SUITE.json with the records, atomically."""
    path = os.path.join(out, suite + '.json')
    with open(path + '.tmp', 'w') as f:
        json.dump(recs, f, indent=2)
        f.write('\n')
    os.replace(path + '.tmp', path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--base', default='6.12')
    ap.add_argument('--accel', default='auto',
                    choices=['auto', 'kvm', 'tcg', 'nested'])
    ap.add_argument('--out', default='',
                    help='directory for the JSON results '
                         '(default out/bench/BASE)')
    ap.add_argument('--runs', type=int, default=5,
                    help='measured runs of each suite a boot (default 5, '
                         'at least 5 for results worth keeping)')
    ap.add_argument('--cycles', type=int, default=2,
                    help='boot the three configurations this many times, '
                         'interleaved (default 2)')
    ap.add_argument('--retries', type=int, default=pvgtest.RETRIES,
                    help='boots again after a silent nested stop or a '
                         'failed L1, per boot (default %d, as in make '
                         'check)' % pvgtest.RETRIES)
    ap.add_argument('--suites', default=','.join(s[0] for s in SUITES))
    ap.add_argument('--control', action='store_true',
                    help='boot pvguest twice a cycle and print the ratio '
                         'between the two (an A/A control)')
    ap.add_argument('--timeout', type=int, default=900,
                    help='seconds a boot may take (default 900)')
    ap.add_argument('--guest-arg', action='append', default=[],
                    help='extra kernel argument for every boot, e.g. '
                         'pvgtest.lock_ms=2000 (repeatable)')
    ap.add_argument('--no-build', action='store_true',
                    help='use the test kernel already built, do not run '
                         'build.sh (the initramfs is still packed)')
    args = ap.parse_args()
    args.suites = args.suites.split(',')
    unknown = set(args.suites) - {s[0] for s in SUITES}
    if unknown:
        sys.exit('bench: unknown suite(s): %s' % ', '.join(sorted(unknown)))
    if args.runs < 1 or args.cycles < 1:
        sys.exit('bench: --runs and --cycles must be at least 1')
    if args.retries < 0:
        sys.exit('bench: --retries must be 0 or more')
    out = args.out or os.path.join(pvgtest.OUT, 'bench', args.base)

    accel = pvgtest.pick_accel(args.accel, 'kvm')
    if accel is None:
        sys.exit('bench: the benchmarks compare KVM paravirt operations and '
                 'need KVM; ACCEL=tcg has none (use ACCEL=auto, kvm or '
                 'nested)')
    kernel, initrd = pvgtest.built_kernel(args.base, 'test',
                                          build=not args.no_build)
    if accel == 'nested':
        pvgtest.ensure_nested()
    if args.runs < 5:
        print('    note: %d runs a suite; results need at least 5'
              % args.runs)

    confs = configurations(args.control)
    boots, cycles, dropped = run_cycles(
        args.cycles, lambda name, extra, cycle: bench_boot(
            name, extra, args, accel, kernel, initrd, cycle),
        order=lambda cycle: cycle_order(cycle, confs))
    dropped_note('bench', cycles, args.cycles, dropped)
    medians = {name: {suite: statistics.median(v)
                      for suite, v in suites.items()}
               for name, suites in pooled(boots).items()}

    os.makedirs(out, exist_ok=True)
    print()
    print('%s benchmarks, test kernel, %s, 4 vCPUs, median of %d runs '
          '(%d boots x %d); ratio > 1: pvguest is better'
          % (args.base, accel, cycles * args.runs, cycles, args.runs))
    print('%-9s %-6s %10s %10s %10s %14s %13s %13s' % (
        'suite', 'unit', 'pvguest', 'stock', 'nopv', 'pvguest/stock',
        '95% interval', 'pvguest/nopv')
        + ('%14s %13s' % ('pvguest/again', '95% interval')
           if args.control else ''))
    tied, cycle_lines = [], []
    for suite, _, unit, lower, desc in SUITES:
        if suite not in args.suites:
            continue
        ours = medians['pvguest'][suite]
        recs = []
        for baseline in ('stock', 'nopv'):
            value = medians[baseline][suite]
            recs.append({'name': '%s: %s' % (suite, desc), 'unit': unit,
                         'ours': ours, 'baseline': baseline,
                         'baseline_value': value,
                         'ratio': round(ratio(ours, value, lower), 4)})
        lo, hi = ratio_interval(boots['pvguest'][suite],
                                boots['stock'][suite], lower)
        if lo <= 1.0 <= hi:
            tied.append(suite)
        row = '%-9s %-6s %10s %10s %10s %14.2f %13s %13.2f' % (
            suite, unit, fmt(ours), fmt(medians['stock'][suite]),
            fmt(medians['nopv'][suite]), recs[0]['ratio'],
            '%.2f-%.2f' % (lo, hi), recs[1]['ratio'])
        cycle_lines.append('%-9s pvguest/stock %s' % (suite, per_cycle_text(
            boots['pvguest'][suite], boots['stock'][suite], lower)))
        if args.control:
            again = boots[CONTROL[0]][suite]
            alo, ahi = ratio_interval(boots['pvguest'][suite], again, lower)
            row += '%14.2f %13s' % (
                ratio(ours, medians[CONTROL[0]][suite], lower),
                '%.2f-%.2f' % (alo, ahi))
            cycle_lines[-1] += '; pvguest/again %s' % per_cycle_text(
                boots['pvguest'][suite], again, lower)
        print(row)
        write_json(out, suite, recs)
    if tied:
        print('pvguest and stock are not told apart on: %s (1.0 is inside '
              'the 95%% interval)' % ', '.join(tied))
    print('Cycle by cycle (each boot\'s own median):')
    for line in cycle_lines:
        print('    ' + line)
    print('JSON results in %s' % out)
    incomplete('bench', cycles, args.cycles, dropped)
    return 0


if __name__ == '__main__':
    sys.exit(main())
