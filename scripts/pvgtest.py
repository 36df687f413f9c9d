#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""pvguest host-side test harness.

  pvgtest.py run   --base B [--accel A] [--config guest]
      boot one guest and show the pvguest report from inside it
  pvgtest.py check --base B [--base B2 ...] [--accel A] [--only S1,S2]
      run every scenario of tests/scenarios/CFLIST on each base

A guest reports its verdict through QEMU's isa-debug-exit device: the host
never guesses success from console text.  Test results come as one KTAP
document on the guest's second serial port; the console is scanned for
kernel error reports (Oops, BUG, WARNING, KASAN, lockdep, soft lockup,
RCU stall, hung task), any of which fails the scenario.
"""

import argparse
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True         # no __pycache__ in scripts/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostagent  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get('PVG_BUILD', os.path.join(TOP, 'build'))
CACHE = os.environ.get('PVG_CACHE', os.path.join(TOP, 'cache'))
OUT = os.environ.get('PVG_OUT', os.path.join(TOP, 'out'))
SCEN = os.path.join(TOP, 'tests', 'scenarios')

PASS, FAIL = 0x10, 0x11
# Codes a nested L1 reports for its L2 (scripts/nested-l1.sh).
L2_NO_VERDICT, L2_QEMU_FAILED, L1_NO_KVM = 0x7e, 0x7c, 0x7d
TIMEOUT = 124
# nested-run.sh: the L1 kernel reported a lockup, stall or panic, or its
# heartbeat stopped
L1_FAILED = 4
# nested-run.sh: nothing more on any console (L1's heartbeat aside) for
# NESTED_IDLE seconds
IDLE = 6
# nested-run.sh: bad arguments, before L1's console of this boot is started
NESTED_USAGE = 2
# Boots again after a silent nested stop or a failed L1 (boot_retrying()).
# On a slow day one boot in four stopped so (2026-11-23: 8 of 28 nested
# boots of a cold make check, 6.12 kvm-host passing on its fourth and
# then last try); with six tries, the chance that a scenario fails for
# its host alone stays under one in a thousand.
RETRIES = 5
# Seconds a nested boot under boot_retrying() may print nothing, on L1's
# console or L2's two, before it counts as wedged.  A good boot never
# pauses that long here (7 s at most in a whole make check; whole nested
# scenarios take 20 to 65 s), and it is longer than the test kernel takes
# to report a hang of its own: soft lockups after 20 s, RCU stalls after
# 30 s and hung tasks within 60 s (scripts/configs/test.config).
NESTED_IDLE = 90

CONSOLE_PROBLEMS = [
    (r'Oops[:\s]|general protection fault', 'Oops'),
    (r'\bBUG: |kernel BUG at', 'BUG'),
    (r'WARNING: CPU: \d+ PID: \d+|WARNING: .* at [\w/.]+:\d+', 'WARNING'),
    (r'KASAN|UBSAN', 'sanitizer report'),
    (r'possible (circular|recursive) locking|inconsistent lock state|'
     r'possible irq lock inversion|suspicious RCU usage|'
     r'DEBUG_LOCKS_WARN_ON|INFO: lockdep is turned off', 'lockdep report'),
    (r'soft lockup|hard LOCKUP', 'lockup'),
    (r'rcu.*detected stall|self-detected stall', 'RCU stall'),
    (r'blocked for more than \d+ seconds', 'hung task'),
    (r'Kernel panic', 'panic'),
]


def say(msg):
    print('==> [%s] %s' % (time.strftime('%H:%M:%S'), msg), file=sys.stderr,
          flush=True)


def kvm_usable():
    """KVM is trusted only with a /dev/kvm node and vmx or svm in cpuinfo."""
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        return False
    try:
        with open('/proc/cpuinfo') as f:
            flags = f.read()
    except OSError:
        return False
    return re.search(r'^flags\s*:.*\b(vmx|svm)\b', flags, re.M) is not None


def pick_accel(requested, needs):
    """Map ACCEL and a scenario's need (tcg or kvm) to how it boots."""
    if needs == 'tcg':
        return 'tcg'
    if requested == 'auto':
        return 'kvm' if kvm_usable() else 'nested'
    if requested == 'tcg':
        return None                     # a KVM scenario cannot run on TCG
    if requested == 'kvm' and not kvm_usable():
        sys.exit('pvgtest: ACCEL=kvm but KVM is not usable here '
                 '(needs /dev/kvm and vmx or svm in /proc/cpuinfo); '
                 'use ACCEL=nested or ACCEL=auto')
    return requested


# ---------------------------------------------------------------- KTAP

def parse_ktap(text):
    """Count leaf results of a (nested) KTAP document.

    Returns dict(passed, failed, skipped, failures=[(name, [diag])]).
    A result line is a leaf when no deeper result came before it since the
    previous result at its level.  A parent that failed although none of
    its leaves did (a script that died) counts as one failure; so does a
    top-level plan that promised more results than arrived.
    """
    res = dict(passed=0, failed=0, skipped=0, failures=[])
    has_children = {}
    failed_below = {}
    plan = None
    top = 0
    last_fail = None
    path = {}
    for raw in text.splitlines():
        line = raw.rstrip('\r')
        m = re.match(r'^(\s*)1\.\.(\d+)\s*$', line)
        if m and not m.group(1) and plan is None:
            plan = int(m.group(2))
            continue
        m = re.match(r'^(\s*)# Subtest: (.*)$', line)
        if m:
            path[len(m.group(1))] = m.group(2).strip()
            continue
        m = re.match(r'^(\s*)(not ok|ok)\s+\d+\s*(?:-\s*)?(.*)$', line)
        if not m:
            d = re.match(r'^\s*#\s?(.*)$', line)
            if d and last_fail is not None:
                last_fail[1].append(d.group(1))
            continue
        ind, ok, desc = len(m.group(1)), m.group(2) == 'ok', m.group(3)
        name, _, directive = desc.partition(' # ')
        parents = [path[i] for i in sorted(path) if i <= ind]
        full = ': '.join(parents[-1:] + [name.strip()])
        leaf = not has_children.get(ind, False)
        below = failed_below.get(ind, 0)
        # This result closes everything deeper that came before it.
        for d in (has_children, failed_below, path):
            for i in [i for i in d if i > ind]:
                del d[i]
        has_children[ind] = False
        failed_below[ind] = 0
        for i in range(ind):
            has_children[i] = True
        if ind == 0:
            top += 1
        last_fail = None
        if leaf and directive.upper().startswith('SKIP'):
            res['skipped'] += 1
        elif leaf and ok:
            res['passed'] += 1
        elif leaf or (not ok and below == 0):
            res['failed'] += 1
            last_fail = (full if leaf else
                         full + ' (died before reporting a failure)', [])
            res['failures'].append(last_fail)
        if not ok:
            for i in range(ind):
                failed_below[i] = failed_below.get(i, 0) + 1
    if plan is None:
        res['failed'] += 1
        res['failures'].append(('ktap: no KTAP document arrived', []))
    elif top < plan:
        res['failed'] += 1
        res['failures'].append(
            ('ktap: %d of %d top-level results arrived' % (top, plan), []))
    return res


def scan_console(text):
    found = []
    for line in text.splitlines():
        for pat, what in CONSOLE_PROBLEMS:
            if re.search(pat, line):
                found.append('%s: %s' % (what, line.strip()[:160]))
                break
    return found


def console_problems(outdir, allow=()):
    """scan_console() of a boot's console.log, without the reports that
    match one of the scenario's allow regexes (a panic it causes itself)."""
    with open(os.path.join(outdir, 'console.log'), errors='replace') as f:
        return [p for p in scan_console(f.read())
                if not any(re.search(a, p) for a in allow)]


# SVM EXITINTINFO event types (the event a vCPU was taking when it exited)
EVENT_TYPES = {0: 'interrupt', 2: 'NMI', 3: 'exception', 4: 'software interrupt'}
# symbolize(): an address this far past the nearest symbol is in none.
MAX_FUNCTION = 0x10000


def symbolize(addr, system_map):
    """'symbol+0xoff' for a kernel text address from System.map, or the
    address itself when the map is missing or has no symbol below it."""
    best = None
    try:
        with open(system_map) as f:
            for line in f:
                a, kind, name = line.split()[:3]
                a = int(a, 16)
                # At one address, the last name: section markers such
                # as __cpuidle_text_start sort before the function.
                if kind in 'tTwW' and a <= addr and (best is None or
                                                     a >= best[0]):
                    best = (a, name)
    except OSError:
        pass
    # Past the last function (module or user addresses): no symbol fits.
    if best and addr - best[0] < MAX_FUNCTION:
        return '%s+%#x' % (best[1], addr - best[0])
    return '%#x' % addr


def l1_console(outdir, kernel):
    """(text of OUTDIR's L1 console, or '' when there is none; the path of
    the System.map beside KERNEL's build tree)."""
    try:
        with open(os.path.join(outdir, 'l1-console.log'),
                  errors='replace') as f:
            text = f.read()
    except OSError:
        text = ''
    return text, os.path.join(os.path.dirname(kernel), '..', '..', '..',
                              'System.map')


def l2_reports(outdir, kernel):
    """What L1 said of the L2 vCPUs of a nested boot that failed."""
    return l2_shutdowns(outdir, kernel) + l2_silences(outdir, kernel)


def l2_silences(outdir, kernel):
    """What L1's heartbeat said last of each L2 vCPU while L2 was silent
    (scripts/nested-l1.sh), one line each, the RIP of its last exit
    through KERNEL's System.map."""
    text, system_map = l1_console(outdir, kernel)
    last = {}
    for m in re.finditer(r'^l1: alive \d+ s, L2 silent (\d+) s, '
                         r'vcpu (\d+): ([^\r\n]*)', text, re.M):
        last[int(m.group(2))] = (m.group(1), m.group(3))
    out = []
    for vcpu in sorted(last):
        quiet, what = last[vcpu]
        what = re.sub(r'rip 0x([0-9a-f]+)', lambda r: 'rip %s' % symbolize(
            int(r.group(1), 16), system_map), what)
        out.append('L2 vCPU %d after %s s of L2 silence: %s'
                   % (vcpu, quiet, what))
    return out


def l2_shutdowns(outdir, kernel):
    """What L1's console says of L2 vCPUs that shut down (triple fault;
    scripts/nested-l1.sh), one line each: the vCPU, where it was (through
    the System.map beside KERNEL's build tree) and the event it was
    taking."""
    text, system_map = l1_console(outdir, kernel)
    out = []
    for m in re.finditer(r'^l1: L2 shutdown: vcpu (\d+) reason shutdown rip '
                         r'0x([0-9a-f]+) .*intr_info 0x([0-9a-f]+) '
                         r'error_code 0x([0-9a-f]+)', text, re.M):
        vcpu, rip, info, err = (m.group(1), int(m.group(2), 16),
                                int(m.group(3), 16), int(m.group(4), 16))
        if info >> 31:
            event = 'while taking %s %#04x' % (
                EVENT_TYPES.get((info >> 8) & 7, 'event'), info & 0xff)
            if info & (1 << 11):
                event += ' (error code %#x)' % err
        else:
            event = 'taking no event'
        out.append('L2 vCPU %s shut down (triple fault) at %s %s'
                   % (vcpu, symbolize(rip, system_map), event))
    return out


# ---------------------------------------------------------------- booting

def read_list(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [l.strip() for l in f
                if l.strip() and not l.lstrip().startswith('#')]


def split_qemu_args(args):
    """Pull -cpu, -smp and -m out of a QEMU argument list."""
    opts, rest, i = {}, [], 0
    while i < len(args):
        if args[i] in ('-cpu', '-smp', '-m') and i + 1 < len(args):
            opts[args[i]] = args[i + 1]
            i += 2
        else:
            rest.append(args[i])
            i += 1
    return opts, rest


def boot(accel, kernel, initrd, append, qemu_args, outdir, timeout,
         agent=False, idle=0):
    """Boot one guest; returns (exit code, seconds).  Logs in outdir.
    agent: serve the guest's requests to the host (scripts/hostagent.py:
    a third serial port and QMP; not under nested KVM), logged in
    outdir/agent.log.  idle: under nested KVM, stop the boot with IDLE
    when it has printed nothing for that many seconds (0: never)."""
    os.makedirs(outdir, exist_ok=True)
    console = os.path.join(outdir, 'console.log')
    data = os.path.join(outdir, 'data.log')
    for f in (console, data):
        open(f, 'w').close()
    opts, rest = split_qemu_args(qemu_args)
    smp, mem = opts.get('-smp', '2'), opts.get('-m', '256')
    host = None
    if accel == 'nested':
        if agent:
            sys.exit('pvgtest: the host agent needs QEMU started here; '
                     'it cannot reach a nested L2 guest')
        cmd = [os.path.join(TOP, 'scripts', 'nested-run.sh'),
               '--l1-dir', os.path.join(CACHE, 'nested'),
               '--l2-kernel', kernel, '--l2-initrd', initrd,
               '--l2-append', append, '--l2-cpu', opts.get('-cpu', 'host'),
               '--l2-smp', smp, '--l2-mem', mem,
               '--l2-console', console, '--l2-data', data,
               '--l1-console', os.path.join(outdir, 'l1-console.log'),
               '--timeout', str(timeout), '--idle', str(idle)]
        for a in rest:
            cmd += ['--l2-qemu-arg', a]
    else:
        if accel == 'kvm':
            cmd = ['qemu-system-x86_64', '-enable-kvm',
                   '-cpu', opts.get('-cpu', 'host')]
        else:
            cmd = ['qemu-system-x86_64', '-accel', 'tcg',
                   '-cpu', opts.get('-cpu', 'max')]
        if agent:
            host = hostagent.Agent(os.path.join(outdir, 'agent.log'),
                                   files_dir=outdir)
            append += ' ' + host.KERNEL_ARG
        cmd += ['-smp', smp, '-m', mem, '-nodefaults', '-display', 'none',
                '-no-reboot', '-nic', 'none',
                '-kernel', kernel, '-initrd', initrd, '-append', append,
                '-serial', 'file:' + console, '-serial', 'file:' + data] + (
                    host.qemu_args() if host else []) + [
                '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04'] + rest
    with open(os.path.join(outdir, 'command'), 'w') as f:
        f.write(' '.join(shlex.quote(c) for c in cmd) + '\n')
    start = time.time()
    if host:
        host.start()
    try:
        rc = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                            timeout=timeout + 30).returncode
    except subprocess.TimeoutExpired:
        rc = TIMEOUT
    finally:
        if host:
            host.stop()
            if host.error:
                print('    note: host agent: %s (%s)' % (
                    host.error, os.path.join(outdir, 'agent.log')))
    if accel != 'nested' and time.time() - start > timeout:
        rc = TIMEOUT
    if accel == 'nested':
        rc = nested_status(rc, outdir)
    return rc, time.time() - start


def nested_status(rc, outdir):
    """nested-run.sh's exit status rc, or L1_FAILED when the boot ended
    without a verdict and L1's console shows the L1 kernel failing.
    nested-run.sh looks at that console itself, but once (6.1, 2026-11-22)
    L1's QEMU exited with status 1 as L1 panicked, and the panic was not
    in the console when it looked; asking again here, by the same rule
    (nested-run.sh --l1-failed), lets boot_retrying() boot again.  A
    usage error comes before the console of this boot is started: left
    alone."""
    console = os.path.join(outdir, 'l1-console.log')
    if rc in (L1_FAILED, NESTED_USAGE) or carries_verdict(rc) or \
            not os.path.exists(console):
        return rc
    r = subprocess.run([os.path.join(TOP, 'scripts', 'nested-run.sh'),
                        '--l1-failed', console],
                       stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    if r.returncode:
        return rc
    print('    note: nested-run.sh ended with status %d, but the L1 kernel '
          'failed (%s)' % (rc, r.stdout.decode(errors='replace').strip()))
    return L1_FAILED


def silent_stop(rc, outdir, allow=()):
    """A nested boot that stopped, or hung, with no verdict and a console
    free of kernel error reports other than those the scenario allows (a
    hung L2 kernel reports a hung task, lockup or stall within the
    timeout), or one whose L1 kernel failed: whatever L2 printed then, its
    host stopped under it."""
    if rc == L1_FAILED:
        return True
    if rc not in (0, TIMEOUT, IDLE) and not (
            rc & 1 and rc >> 1 == L2_NO_VERDICT):
        return False
    return not console_problems(outdir, allow)


def boot_retrying(label, accel, kernel, initrd, append, qemu_args, outdir,
                  timeout, agent=False, allow=(), retries=RETRIES):
    """boot() a test guest; under nested KVM, boot again after a silent
    stop.  Returns (exit code, seconds) of the last boot.

    Nested KVM under TCG sometimes resets or wedges a guest without a word:
    no verdict, nothing on the console, even before our tests run; or the
    L1 kernel locks up or crashes under it.  A crash of the kernel under
    test prints (panic, Oops, BUG, lockup, stall; the reports that match
    a regex in ALLOW do not count) and fails at once; a silent stop or a
    failed L1 (a report on L1's console, or L1's heartbeat gone: see
    nested-run.sh) gets up to RETRIES more boots (unless told otherwise), each
    announced, with the logs of each try kept as OUTDIR.tryN.  A wedged
    boot is stopped after NESTED_IDLE seconds without output rather than
    at the timeout.  Under nested KVM every console byte also costs L1 a
    trapped serial write, so the console is kept to warnings and worse,
    which is what the scan needs."""
    if accel == 'nested':
        append += ' loglevel=5'
    for old in glob.glob(outdir + '.try*'):     # from an earlier run
        shutil.rmtree(old)
    rc, secs = boot(accel, kernel, initrd, append, qemu_args, outdir, timeout,
                    agent, NESTED_IDLE)
    for attempt in range(1, retries + 1):
        if accel != 'nested' or not silent_stop(rc, outdir, allow):
            break
        keep = '%s.try%d' % (outdir, attempt)
        why = verdict(rc)[1]
        if rc != L1_FAILED:
            why = 'the nested guest stopped silently (%s)' % why
        why = '; '.join([why] + l2_reports(outdir, kernel))
        print('    note: %s: %s; booting again (logs of that try kept in %s)'
              % (label, why, keep))
        os.rename(outdir, keep)
        rc, secs = boot(accel, kernel, initrd, append, qemu_args, outdir,
                        timeout, agent, NESTED_IDLE)
    return rc, secs


def carries_verdict(rc):
    """Whether a QEMU exit status is a verdict written to isa-debug-exit
    ((v << 1) | 1): the guest's, or one its nested L1 reports."""
    return bool(rc & 1) and rc > 1


def verdict(rc):
    """(passed?, meaning) of a QEMU exit status."""
    if rc == TIMEOUT:
        return False, 'timed out'
    if rc == L1_FAILED:
        return False, ('the nested L1 kernel failed: lockup, stall or '
                       'panic on its console, or its heartbeat stopped '
                       '(l1-console.log)')
    if rc == IDLE:
        return False, ('wedged: no output from L1 or L2 for %d s'
                       % NESTED_IDLE)
    if carries_verdict(rc):
        v = rc >> 1
        return v == PASS, {
            PASS: 'guest reported pass', FAIL: 'guest reported failures',
            L2_NO_VERDICT: 'L2 guest stopped without a verdict (crash?)',
            L2_QEMU_FAILED: 'L2 QEMU failed to start',
            L1_NO_KVM: 'nested L1 has no usable /dev/kvm',
        }.get(v, 'unknown verdict %#x' % v)
    return False, 'guest stopped without a verdict (exit %d: crash or panic?)' % rc


# ---------------------------------------------------------------- builds

def sh(*cmd):
    r = subprocess.run(list(cmd))
    if r.returncode:
        sys.exit('pvgtest: %s failed' % os.path.basename(cmd[0]))


def built_kernel(base, config, fragment=None, build=True):
    """Build (incrementally, unless build is false: then the kernel must
    exist), pack its initramfs and return (bzImage, initramfs)."""
    cmd = [os.path.join(TOP, 'scripts', 'build.sh'), base, config]
    name = config
    if fragment:
        cmd.append(fragment)
        with open(fragment, 'rb') as f:
            import hashlib
            name = '%s-%s' % (config, hashlib.sha256(f.read()).hexdigest()[:8])
    obj = os.path.join(BUILD, base, 'obj-' + name)
    kernel = os.path.join(obj, 'arch', 'x86', 'boot', 'bzImage')
    if build:
        sh(*cmd)
    elif not os.path.exists(kernel):
        sys.exit('pvgtest: %s does not exist: build it first' % kernel)
    initrd = os.path.join(BUILD, base, 'initramfs-%s.cpio.gz' % name)
    sh(os.path.join(TOP, 'scripts', 'mkinitramfs.sh'), obj, initrd)
    return kernel, initrd


def ensure_nested():
    sh(os.path.join(TOP, 'scripts', 'nested-l1.sh'),
       os.path.join(CACHE, 'nested'))


# ---------------------------------------------------------------- commands

def cmd_run(args):
    accel = pick_accel(args.accel, 'kvm')
    if accel is None:
        accel = 'tcg'
    kernel, initrd = built_kernel(args.base, args.config)
    if accel == 'nested':
        ensure_nested()
    say('booting the %s kernel, %s config (%s)' % (args.base, args.config,
        {'nested': 'KVM nested in a TCG guest', 'kvm': 'KVM',
         'tcg': 'QEMU TCG'}[accel]))
    outdir = os.path.join(OUT, 'run', args.base)
    rc, secs = boot(accel, kernel, initrd,
                    'console=ttyS0 panic=-1 quiet pvgtest.mode=demo',
                    ['-smp', '4' if accel != 'tcg' else '2',
                     '-device', 'virtio-balloon-pci,id=balloon0,'
                     'deflate-on-oom=on,free-page-reporting=on'], outdir,
                    args.timeout)
    with open(os.path.join(outdir, 'console.log'), errors='replace') as f:
        text = f.read()
    m = re.search(r'===== pvguest report =====.*?=====+', text, re.S)
    print(m.group(0).replace('\r', '') if m else text[-3000:])
    ok, meaning = verdict(rc)
    say('guest stopped after %.1f s: %s (logs in %s)' % (secs, meaning,
                                                        outdir))
    return 0 if ok and m else 1


def scenarios(with_manual=False):
    """(name, needs, timeout or 0) of each CFLIST line; the lines marked
    "manual" only when with_manual is true."""
    out = []
    for line in read_list(os.path.join(SCEN, 'CFLIST')):
        words = line.split()
        name, needs = words[:2]
        if needs not in ('tcg', 'kvm'):
            sys.exit('pvgtest: CFLIST: %s needs "%s" (tcg or kvm)'
                     % (name, needs))
        manual = 'manual' in words[2:]
        rest = [w for w in words[2:] if w != 'manual']
        timeout = rest[0] if rest else '0'
        if len(rest) > 1 or not timeout.isdigit():
            sys.exit('pvgtest: CFLIST: %s: "%s" is not a number of seconds '
                     'and "manual"' % (name, ' '.join(words[2:])))
        if with_manual or not manual:
            out.append((name, needs, int(timeout)))
    return out


HOST_SERVICES = ('agent', 'disk', 'initrd', 'allow')
DISK_FILLS = ('zero', 'sectors')


def parse_size(word):
    """Bytes of a size: a number with an optional K, M or G (binary)."""
    m = re.match(r'^(\d+)([KMG]?)$', word)
    if not m:
        raise ValueError('size "%s" is not a number with K, M or G' % word)
    return int(m.group(1)) << {'': 0, 'K': 10, 'M': 20, 'G': 30}[m.group(2)]


def host_services(name):
    """What a scenario asks of the host (NAME.host, one request a line):

      agent                  run scripts/hostagent.py for the guest's tests
      disk NAME SIZE [FILL]  a fresh raw image OUT/NAME.img before each boot
                             (OUT: the scenario's output directory, @OUT@ in
                             NAME.qemu), SIZE bytes with K, M or G; FILL
                             "zero" (default): sparse, all holes; "sectors":
                             every 512-byte sector starts with the line
                             "pvgtest sector N" (N its number), zeros after
      initrd LAYER           append build/tools/initramfs-LAYER.cpio.gz
                             (scripts/mkinitramfs.sh) to the initramfs;
                             "initrd kernel": the kernel being tested, as
                             /boot/vmlinuz (for kexec in the guest)
      allow REGEX            console lines matching REGEX are not kernel
                             error reports (a panic the scenario causes)

    Returns dict(agent=bool, disks=[(name, bytes, fill)], layers=[...],
    allow=[regex...])."""
    spec = dict(agent=False, disks=[], layers=[], allow=[])
    where = name + '.host'
    for line in read_list(os.path.join(SCEN, where)):
        w = line.split()
        try:
            if w == ['agent']:
                spec['agent'] = True
            elif w[0] == 'disk' and len(w) in (3, 4):
                fill = w[3] if len(w) == 4 else 'zero'
                if not re.match(r'^[A-Za-z0-9_][A-Za-z0-9_.-]*$', w[1]):
                    raise ValueError('bad disk name "%s"' % w[1])
                if fill not in DISK_FILLS:
                    raise ValueError('fill "%s" is not one of %s'
                                     % (fill, ', '.join(DISK_FILLS)))
                spec['disks'].append((w[1], parse_size(w[2]), fill))
            elif w[0] == 'initrd' and len(w) == 2:
                spec['layers'].append(w[1])
            elif w[0] == 'allow' and len(w) >= 2:
                regex = line.split(None, 1)[1]
                try:
                    re.compile(regex)
                except re.error as e:
                    raise ValueError('allow: bad regex "%s": %s' % (regex, e))
                spec['allow'].append(regex)
            else:
                raise ValueError('unknown request "%s" (known: %s)'
                                 % (line, ', '.join(HOST_SERVICES)))
        except ValueError as e:
            sys.exit('pvgtest: %s: %s' % (where, e))
    return spec


def make_disk(path, size, fill):
    """A new raw image: sparse, or each sector labelled (see host_services).
    Every boot starts from a fresh one, whatever the last boot wrote."""
    if os.path.exists(path):
        os.unlink(path)
    with open(path, 'wb') as f:
        if fill == 'sectors':
            for n in range(size // 512):
                label = b'pvgtest sector %d\n' % n
                f.write(label + bytes(512 - len(label)))
        f.truncate(size)


def kernel_layer(kernel, initrd):
    """A cpio archive holding KERNEL as /boot/vmlinuz, next to INITRD,
    remade when the kernel is newer."""
    out = re.sub(r'(\.cpio\.gz)?$', '', initrd, count=1) + '-kernel.cpio.gz'
    if os.path.exists(out) and os.path.getmtime(kernel) <= os.path.getmtime(out):
        return out
    with tempfile.TemporaryDirectory() as root:
        os.mkdir(os.path.join(root, 'boot'))
        shutil.copy(kernel, os.path.join(root, 'boot', 'vmlinuz'))
        with open(out + '.tmp', 'wb') as o:
            cpio = subprocess.Popen(['cpio', '-o', '-H', 'newc', '-R', '0:0',
                                     '--quiet'], cwd=root,
                                    stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE)
            gz = subprocess.Popen(['gzip', '-1'], stdin=cpio.stdout, stdout=o)
            cpio.stdout.close()
            cpio.communicate(b'boot\nboot/vmlinuz\n')
            if cpio.wait() or gz.wait():
                sys.exit('pvgtest: cannot pack %s into %s' % (kernel, out))
    os.rename(out + '.tmp', out)
    return out


def initrd_with(initrd, layers, kernel=None):
    """The initramfs with the named layers appended (the kernel unpacks
    concatenated cpio archives in order): INITRD+LAYER....cpio.gz next to
    it, remade when a part is newer; initrd itself when there are none.
    Layer "kernel" is KERNEL as /boot/vmlinuz (kernel_layer())."""
    if not layers:
        return initrd
    parts = [initrd] + [kernel_layer(kernel, initrd) if l == 'kernel' else
                        os.path.join(BUILD, 'tools', 'initramfs-%s.cpio.gz'
                                     % l) for l in layers]
    for part in parts:
        if not os.path.exists(part):
            sys.exit('pvgtest: %s missing (scripts/mkinitramfs.sh makes it)'
                     % part)
    out = re.sub(r'(\.cpio\.gz)?$', '', initrd, count=1)
    out += ''.join('+' + l for l in layers) + '.cpio.gz'
    if os.path.exists(out) and all(os.path.getmtime(p) <= os.path.getmtime(out)
                                   for p in parts):
        return out
    with open(out + '.tmp', 'wb') as o:
        for part in parts:
            with open(part, 'rb') as i:
                shutil.copyfileobj(i, o, 1 << 20)
    os.rename(out + '.tmp', out)
    return out


def scenario_args(name, outdir):
    """Scenario NAME's kernel command line and extra QEMU arguments.
    Every scenario gets CFcommon.boot; one whose lifecycle chain has a
    reboot step gets CFreboot.boot and CFreboot.qemu as well, before its
    own.  @OUT@ in NAME.qemu stands for outdir."""
    frag = os.path.join(SCEN, name)
    own = read_list(frag + '.boot')
    steps = [w.split('=', 1)[1].split(',') for line in own
             for w in line.split() if w.startswith('pvgtest.chain=')]
    parts = [os.path.join(SCEN, 'CFreboot')] if any(
        'reboot' in s for s in steps) else []
    append = ' '.join(['console=ttyS0 panic=-1 pvgtest.mode=test'] +
                      read_list(os.path.join(SCEN, 'CFcommon.boot')) +
                      [a for p in parts for a in read_list(p + '.boot')] +
                      own)
    qargs = []
    for line in [l for p in parts + [frag] for l in read_list(p + '.qemu')]:
        qargs += [a.replace('@OUT@', os.path.abspath(outdir))
                  for a in shlex.split(line)]
    return append, qargs


def run_scenario(base, name, needs, accel, kernels, timeout):
    frag = os.path.join(SCEN, name)
    key = frag if read_list(frag) else None
    if key not in kernels:
        kernels[key] = built_kernel(base, 'test', key)
    kernel, initrd = kernels[key]
    outdir = os.path.join(OUT, 'check', base, name)
    append, qargs = scenario_args(name, outdir)
    spec = host_services(name)
    if accel == 'nested' and spec['disks']:
        sys.exit('pvgtest: %s: disk images need QEMU started here, not in '
                 'a nested L1' % name)
    os.makedirs(outdir, exist_ok=True)
    for disk, size, fill in spec['disks']:
        make_disk(os.path.join(outdir, disk + '.img'), size, fill)
    initrd = initrd_with(initrd, spec['layers'], kernel)
    rc, secs = boot_retrying('%s/%s' % (base, name), accel, kernel, initrd,
                             append, qargs, outdir, timeout,
                             agent=spec['agent'], allow=spec['allow'])
    # Images of a passing boot are of no more use (up to a few hundred MiB
    # each); a failing boot's stay for a look.
    if verdict(rc)[0]:
        for disk, _, _ in spec['disks']:
            os.unlink(os.path.join(outdir, disk + '.img'))
    with open(os.path.join(outdir, 'data.log'), errors='replace') as f:
        res = parse_ktap(f.read())
    problems = console_problems(outdir, spec['allow'])
    ok, meaning = verdict(rc)
    for desc, good, diag in (
            ('boot: verdict through isa-debug-exit', ok,
             [meaning] + l2_reports(outdir, kernel)),
            ('boot: console free of kernel error reports', not problems,
             problems[:5])):
        if good:
            res['passed'] += 1
        else:
            res['failed'] += 1
            res['failures'].append((desc, diag))
    res['seconds'] = secs
    res['accel'] = accel
    return res


# Quality gates: scripts that print KTAP, run per base before the boots.
# (name, script and arguments, bases it runs on: None for all)
GATES = [
    ('lint', ['lint.sh'], None),
    ('apply', ['apply-check.sh'], None),
    ('export', ['export.sh', '{base}', os.path.join(OUT, 'export', '{base}')],
     None),
    ('distro', ['distro-build.sh'], None),
    ('bisect', ['bisect-build.sh'], ('6.12',)),
    # make deb, make image and a boot of the image (scripts/image-boot.py)
    ('image', ['image-boot.py', 'gate', '{base}'], ('6.12',)),
]


def run_gate(script, base):
    args = [a.format(base=base) for a in script[1:]] or [base]
    start = time.time()
    r = subprocess.run([os.path.join(TOP, 'scripts', script[0])] + args,
                       stdout=subprocess.PIPE, text=True)
    res = parse_ktap(r.stdout)
    if r.returncode and not res['failed']:
        res['failed'] += 1
        res['failures'].append(('%s exited %d' % (script[0], r.returncode),
                                []))
    res['seconds'], res['accel'] = time.time() - start, '-'
    return res


def report_failures(res):
    for desc, diag in res['failures']:
        print('    FAIL %s' % desc)
        for d in diag:
            if d:
                print('        %s' % d)


def cmd_check(args):
    only = set(args.only.split(',')) if args.only else None
    todo = [s for s in scenarios(with_manual=bool(only))
            if not only or s[0] in only]
    if only and len(todo) != len(only):
        sys.exit('pvgtest: unknown scenario in --only: %s'
                 % ', '.join(sorted(only - {s[0] for s in todo})))
    rows, skipped = [], []
    for base in args.base:
        kernels = {}
        kernels[None] = built_kernel(base, 'test')
        for gate, script, bases in GATES:
            if gate not in args.gates or (bases and base not in bases):
                continue
            say('%s gate on %s' % (gate, base))
            res = run_gate(script, base)
            rows.append((gate, base, res))
            report_failures(res)
        for name, needs, own_timeout in todo:
            accel = pick_accel(args.accel, needs)
            if accel is None:
                skipped.append('%s/%s (needs KVM, ACCEL=tcg)' % (base, name))
                continue
            if accel == 'nested':
                ensure_nested()
            say('scenario %s on %s (%s)' % (name, base, accel))
            res = run_scenario(base, name, needs, accel, kernels,
                               args.timeout or own_timeout or
                               (240 if accel == 'nested' else 120))
            rows.append((name, base, res))
            report_failures(res)
    print()
    print('%-22s %-5s %-7s %7s %7s %8s' % ('scenario', 'base', 'accel',
                                          'passed', 'failed', 'seconds'))
    for name, base, r in rows:
        print('%-22s %-5s %-7s %7d %7d %8.1f' % (name, base, r['accel'],
                                                r['passed'], r['failed'],
                                                r['seconds']))
    for s in skipped:
        print('skipped: %s' % s)
    passed = sum(r['passed'] for _, _, r in rows)
    failed = sum(r['failed'] for _, _, r in rows)
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed or not rows else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('run')
    r.add_argument('--base', default='6.12')
    r.add_argument('--config', default='guest')
    r.add_argument('--accel', default='auto',
                   choices=['auto', 'kvm', 'tcg', 'nested'])
    r.add_argument('--timeout', type=int, default=420)
    c = sub.add_parser('check')
    c.add_argument('--base', action='append', required=True)
    c.add_argument('--accel', default='auto',
                   choices=['auto', 'kvm', 'tcg', 'nested'])
    c.add_argument('--only', default='')
    c.add_argument('--timeout', type=int, default=0)
    c.add_argument('--gates', default='all',
                   help='comma-separated gates to run before the boots '
                        '(%s), "all" or "none"' % ','.join(g[0] for g in GATES))
    args = ap.parse_args()
    if args.cmd == 'check':
        names = [g[0] for g in GATES]
        args.gates = (names if args.gates == 'all' else
                      [] if args.gates == 'none' else args.gates.split(','))
        unknown = set(args.gates) - set(names)
        if unknown:
            sys.exit('pvgtest: unknown gate(s): %s' % ', '.join(sorted(unknown)))
    return cmd_run(args) if args.cmd == 'run' else cmd_check(args)


if __name__ == '__main__':
    sys.exit(main())
