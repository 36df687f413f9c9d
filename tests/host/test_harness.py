# SPDX-License-Identifier: GPL-2.0
"""Self-tests of the host harness: KTAP counting and console scanning.
The harness decides whether make check passes, so it is tested too."""

import contextlib
import io
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..',
                                'scripts'))
import pvgtest  # noqa: E402


def load_script(filename):
    """Import scripts/FILENAME, whose name is not a module name."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        filename.replace('-', '_').removesuffix('.py'),
        os.path.join(pvgtest.TOP, 'scripts', filename))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


class KtapTest(unittest.TestCase):
    def test_nested_counts(self):
        doc = '\n'.join([
            'KTAP version 1', '1..3',
            '    # Subtest: detect', '    1..2',
            '    ok 1 a', '    not ok 2 b', '    # why b failed',
            'not ok 1 detect',
            '    # Subtest: died', '    ok 1 x', 'not ok 2 died',
            '    # Subtest: kunit',
            '        # Subtest: s', '        ok 1 c1',
            '        ok 2 c2 # SKIP not here', '    ok 1 s',
            'ok 3 kunit', ''])
        r = pvgtest.parse_ktap(doc)
        self.assertEqual((r['passed'], r['failed'], r['skipped']), (3, 2, 1))
        self.assertEqual(r['failures'][0], ('detect: b', ['why b failed']))
        self.assertIn('died', r['failures'][1][0])

    def test_missing_results_fail(self):
        r = pvgtest.parse_ktap('KTAP version 1\n1..2\nok 1 a\n')
        self.assertEqual((r['passed'], r['failed']), (1, 1))

    def test_nothing_arrived_fails(self):
        self.assertEqual(pvgtest.parse_ktap('')['failed'], 1)

    def test_carriage_returns(self):
        r = pvgtest.parse_ktap('KTAP version 1\r\n1..1\r\nok 1 a\r\n')
        self.assertEqual((r['passed'], r['failed']), (1, 0))


class ConsoleTest(unittest.TestCase):
    def test_reports_found(self):
        text = '\n'.join([
            '[ 1.0] WARNING: CPU: 0 PID: 1 at kernel/x.c:3 foo+0x1/0x2',
            '[ 2.0] BUG: kernel NULL pointer dereference, address: 0',
            '[ 3.0] watchdog: BUG: soft lockup - CPU#0 stuck for 22s!',
            '[ 4.0] WARNING: possible circular locking dependency detected',
            '[ 5.0] rcu: INFO: rcu_preempt self-detected stall on CPU',
            '[ 6.0] INFO: task sh:1 blocked for more than 30 seconds.',
            '[ 7.0] Oops: general protection fault, probably for 0x1'])
        self.assertEqual(len(pvgtest.scan_console(text)), 7)

    def test_quiet_boot_is_clean(self):
        text = '\n'.join([
            '[ 0.08] rcu: \tRCU lockdep checking is enabled.',
            '[ 0.1] Lock dependency validator: Copyright (c) 2006 Red Hat',
            '[ 1.7] ok 1 pvguest-detect',
            '[ 2.0] pvguest: hypervisor tcg (QEMU TCG) at 0x40000000'])
        self.assertEqual(pvgtest.scan_console(text), [])


class SilentStopTest(unittest.TestCase):
    def run_case(self, rc, console, allow=()):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, 'console.log'), 'w') as f:
                f.write(console)
            return pvgtest.silent_stop(rc, d, allow)

    def test_only_silent_stops_are_retried(self):
        quiet = '[ 1.0] pvgtest: running detect\n'
        panic = quiet + '[ 2.0] Kernel panic - not syncing: Fatal exception\n'
        no_verdict = (pvgtest.L2_NO_VERDICT << 1) | 1
        self.assertTrue(self.run_case(0, quiet))
        self.assertTrue(self.run_case(no_verdict, quiet))
        self.assertFalse(self.run_case(no_verdict, panic))
        self.assertFalse(self.run_case((pvgtest.FAIL << 1) | 1, quiet))
        self.assertTrue(self.run_case(pvgtest.TIMEOUT, quiet))
        self.assertTrue(self.run_case(pvgtest.IDLE, quiet))
        stall = quiet + '[ 40.0] rcu: INFO: rcu_preempt self-detected stall on CPU\n'
        self.assertFalse(self.run_case(pvgtest.TIMEOUT, stall))
        self.assertFalse(self.run_case(pvgtest.IDLE, stall))
        # L2's stall is then its host's doing.
        self.assertTrue(self.run_case(pvgtest.L1_FAILED, stall))

    def test_allowed_reports_do_not_count(self):
        # A crash scenario's own panic, then a hang in the crash kernel:
        # silent, as far as anything the scenario did not ask for goes.
        crash = ('[ 9.0] Kernel panic - not syncing: sysrq triggered crash\n'
                 '[ 1.0] pvgtest: running crash-ops\n')
        allow = ['Kernel panic - not syncing: sysrq triggered crash']
        self.assertFalse(self.run_case(pvgtest.TIMEOUT, crash))
        self.assertTrue(self.run_case(pvgtest.TIMEOUT, crash, allow))
        oops = crash + '[ 2.0] Oops: general protection fault\n'
        self.assertFalse(self.run_case(pvgtest.TIMEOUT, oops, allow))


def l1_says(what, console, with_map=True):
    """what(outdir, kernel) for a boot whose L1 console is CONSOLE, with
    L2ShutdownTest.MAP as the kernel's System.map unless told not to."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        obj = os.path.join(d, 'obj')
        os.makedirs(os.path.join(obj, 'arch', 'x86', 'boot'))
        if with_map:
            with open(os.path.join(obj, 'System.map'), 'w') as f:
                f.write(L2ShutdownTest.MAP)
        with open(os.path.join(d, 'l1-console.log'), 'w') as f:
            f.write(console)
        return what(d, os.path.join(obj, 'arch', 'x86', 'boot', 'bzImage'))


class L2ShutdownTest(unittest.TestCase):
    """l2_shutdowns() on the lines nested-l1.sh printed for two real
    silent stops (6.12 nopv benchmark boots)."""

    CONSOLE = (
        'l1: L2 qemu exit status 0\r\n'
        'l1: L2 shutdown: vcpu 2 reason shutdown rip 0xffffffff8103cec9 '
        'info1 0x0000000000000000 info2 0x0000000000000000 intr_info '
        '0x80000b0e error_code 0x00000010\r\n'
        'l1: L2 shutdown: vcpu 1 reason shutdown rip 0xffffffff81057946 '
        'info1 0x0000000000000000 info2 0x0000000000000000 intr_info '
        '0x800000ec error_code 0x00000000\r\n'
        'l1: verdict 0x7e\r\n')
    MAP = ('ffffffff8103cea5 T __apic_text_start\n'
           'ffffffff8103cea5 T __default_send_IPI_shortcut\n'
           'ffffffff8103cf00 d some_data\n'
           'ffffffff810578bc t handle_softirqs\n')

    def run_case(self, console, with_map=True):
        return l1_says(pvgtest.l2_shutdowns, console, with_map)

    def test_decoded(self):
        self.assertEqual(self.run_case(self.CONSOLE), [
            'L2 vCPU 2 shut down (triple fault) at '
            '__default_send_IPI_shortcut+0x24 while taking exception 0x0e '
            '(error code 0x10)',
            'L2 vCPU 1 shut down (triple fault) at handle_softirqs+0x8a '
            'while taking interrupt 0xec'])

    def test_without_a_map_or_a_report(self):
        self.assertIn('at 0xffffffff81057946 while taking interrupt',
                      self.run_case(self.CONSOLE, with_map=False)[1])
        self.assertEqual(self.run_case('l1: verdict 0x7e\r\n'), [])


class L2SilenceTest(unittest.TestCase):
    """l2_silences() and l2_reports() on heartbeat lines in the form
    nested-l1.sh prints while L2 is silent: the last look at each vCPU
    counts, and its RIP is named through the System.map."""

    CONSOLE = (
        'l1: alive 50 s, L2 QEMU cpu 900 ticks\r\n'
        'l1: alive 50 s, L2 silent 40 s, vcpu 0: S in kvm_vcpu_block, '
        '0 ticks in 0.5 s, 0 exits\r\n'
        'l1: alive 50 s, L2 silent 40 s, vcpu 1: R, 48 ticks in 0.5 s, '
        '3 exits, last intr at rip 0xffffffff810578c0\r\n'
        'l1: alive 60 s, L2 QEMU cpu 950 ticks\r\n'
        'l1: alive 60 s, L2 silent 50 s, vcpu 1: R, 50 ticks in 0.5 s, '
        '7 exits, last npf at rip 0xffffffff8103cea9\r\n'
        'l1: alive 60 s, L2 silent 50 s, vcpu 0: S in kvm_vcpu_block, '
        '0 ticks in 0.5 s, exits not traced\r\n'
        'l1: L2 qemu exit status 0\r\n')

    def run_case(self, console, what=pvgtest.l2_silences):
        return l1_says(what, console)

    def test_last_look_named(self):
        self.assertEqual(self.run_case(self.CONSOLE), [
            'L2 vCPU 0 after 50 s of L2 silence: S in kvm_vcpu_block, '
            '0 ticks in 0.5 s, exits not traced',
            'L2 vCPU 1 after 50 s of L2 silence: R, 50 ticks in 0.5 s, '
            '7 exits, last npf at rip __default_send_IPI_shortcut+0x4'])

    def test_no_symbol_far_past_the_last(self):
        far = self.CONSOLE.replace('0xffffffff8103cea9', '0xffffffffc0123456')
        self.assertIn('last npf at rip 0xffffffffc0123456',
                      self.run_case(far)[1])

    def test_with_shutdowns(self):
        both = L2ShutdownTest.CONSOLE + self.CONSOLE
        got = self.run_case(both, pvgtest.l2_reports)
        self.assertEqual(len(got), 4)
        self.assertTrue(got[0].startswith('L2 vCPU 2 shut down'))
        self.assertTrue(got[3].startswith('L2 vCPU 1 after 50 s'))
        self.assertEqual(self.run_case('l1: alive 10 s, L2 QEMU cpu 5 '
                                       'ticks\r\n'), [])


class NestedStatusTest(unittest.TestCase):
    """pvgtest.nested_status() asks nested-run.sh --l1-failed about L1's
    console after a boot that ended without a verdict."""

    def status(self, rc, l1_console):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            if l1_console is not None:
                with open(os.path.join(d, 'l1-console.log'), 'w') as f:
                    f.write(l1_console)
            with contextlib.redirect_stdout(io.StringIO()) as out:
                got = pvgtest.nested_status(rc, d)
            return got, out.getvalue()

    def test_a_failed_l1_behind_any_exit_is_an_l1_failure(self):
        beat = 'l1: alive 32 s, L2 QEMU cpu 3616 ticks\r\n'
        panic = (beat + '[ 36.39] BUG: TASK stack guard page was hit at '
                 '000000000806222e\r\n[ 36.45] Kernel panic - not syncing: '
                 'corrupted stack end detected inside scheduler\r\n')
        for rc in (0, 1, pvgtest.TIMEOUT, pvgtest.IDLE):
            got, out = self.status(rc, panic)
            self.assertEqual(got, pvgtest.L1_FAILED)
            self.assertIn('stack guard page was hit', out)
            self.assertIn('status %d' % rc, out)

    def test_other_exits_are_left_alone(self):
        panic = '[ 36.45] Kernel panic - not syncing: x\r\n'
        # No report, no console, or a verdict that came through.
        self.assertEqual(self.status(1, 'l1: alive 3 s\r\n'), (1, ''))
        self.assertEqual(self.status(1, None), (1, ''))
        # nested-run.sh's usage error: the console is an earlier boot's.
        self.assertEqual(self.status(2, panic), (2, ''))
        verdict = (pvgtest.PASS << 1) | 1
        self.assertEqual(self.status(verdict, panic), (verdict, ''))
        self.assertEqual(self.status(
            0, 'l1: verdict 0x7e\r\n' + panic), (0, ''))


class BootRetryingTest(unittest.TestCase):
    """boot_retrying() with a stand-in boot() that stops silently (exit 0,
    a quiet console) the first `stops` times and passes after that."""

    def run_case(self, stops, **kw):
        import tempfile
        passed = (pvgtest.PASS << 1) | 1
        calls = []

        def boot(accel, kernel, initrd, append, qemu_args, outdir, timeout,
                 agent, idle):
            self.assertEqual(idle, pvgtest.NESTED_IDLE)
            calls.append(outdir)
            os.makedirs(outdir)
            with open(os.path.join(outdir, 'console.log'), 'w') as f:
                f.write('[ 1.0] pvgtest: running bench\n')
            return (0 if len(calls) <= stops else passed), 1.0

        real = pvgtest.boot
        pvgtest.boot = boot
        try:
            with tempfile.TemporaryDirectory() as d:
                out = os.path.join(d, 'nopv')
                with contextlib.redirect_stdout(io.StringIO()):
                    rc, _ = pvgtest.boot_retrying(
                        '6.12/nopv', 'nested', 'k', 'i', '', [], out, 10,
                        **kw)
                tries = sorted(os.listdir(d))
        finally:
            pvgtest.boot = real
        return rc == passed, len(calls), tries

    def test_default_is_retries_more_boots(self):
        n = pvgtest.RETRIES
        self.assertEqual(self.run_case(n), (True, n + 1, ['nopv'] + [
            'nopv.try%d' % i for i in range(1, n + 1)]))
        self.assertEqual(self.run_case(n + 1)[:2], (False, n + 1))

    def test_retries_sets_the_count(self):
        self.assertEqual(self.run_case(5, retries=5)[:2], (True, 6))
        self.assertEqual(self.run_case(6, retries=5)[:2], (False, 6))
        self.assertEqual(self.run_case(1, retries=0)[:2], (False, 1))


class VerdictTest(unittest.TestCase):
    def test_codes(self):
        self.assertTrue(pvgtest.verdict((0x10 << 1) | 1)[0])
        self.assertFalse(pvgtest.verdict((0x11 << 1) | 1)[0])
        self.assertFalse(pvgtest.verdict(0)[0])
        self.assertFalse(pvgtest.verdict(1)[0])
        self.assertFalse(pvgtest.verdict(pvgtest.TIMEOUT)[0])
        self.assertFalse(pvgtest.verdict(pvgtest.IDLE)[0])
        self.assertIn('no output', pvgtest.verdict(pvgtest.IDLE)[1])


class NestedRunTest(unittest.TestCase):
    """nested-run.sh against a stand-in for the L1 QEMU that prints an L1
    verdict line on the L1 console and then hangs, as the TCG-emulated L1
    has been seen to do: the verdict must come through, not a timeout."""

    def run_fake_l1(self, line, hang, stale=None, delay=0, code=33,
                    idle=None, chatty=0, beats=0, env=None):
        import subprocess
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            bindir = os.path.join(d, 'bin')
            os.mkdir(bindir)
            fake = os.path.join(bindir, 'qemu-system-x86_64')
            with open(fake, 'w') as f:
                f.write('#!/bin/sh\n'
                        'for a; do case "$a" in file,id=s0,path=*)'
                        ' con=${a#*path=} ;; esac; done\n'
                        'sleep %d\n'
                        'printf "%%s\\r\\n" "%s" >"$con"\n'
                        'i=0; while [ $i -lt %d ]; do sleep 1;'
                        ' printf "l1: alive %%d s, L2 QEMU cpu 9 ticks\\r\\n"'
                        ' $i >>"$con"; i=$((i + 1)); done &\n'
                        'i=0; while [ $i -lt %d ]; do sleep 1.5;'
                        ' echo . >>"$con"; i=$((i + 1)); done\n'
                        '%s\n' % (delay, line, beats, chatty,
                                   'exec sleep 60' if hang else
                                   'exit %d' % code))
            os.chmod(fake, 0o755)
            for n in ('l1-vmlinuz', 'l2-kernel', 'l2-initrd'):
                open(os.path.join(d, n), 'w').close()
            if stale:
                with open(os.path.join(d, 'c1'), 'w') as f:
                    f.write(stale + '\r\n')
            subprocess.run('printf "" | gzip >%s/l1-base.cpio.gz' % d,
                           shell=True, check=True)
            env = dict(os.environ, PATH=bindir + ':' + os.environ['PATH'],
                       PVG_L1_GRACE='1', **(env or {}))
            cmd = [os.path.join(pvgtest.TOP, 'scripts', 'nested-run.sh'),
                   '--l1-dir', d, '--l2-kernel', d + '/l2-kernel',
                   '--l2-initrd', d + '/l2-initrd', '--l2-append', 'x',
                   '--l2-console', d + '/c2', '--l2-data', d + '/d2',
                   '--l1-console', d + '/c1', '--timeout', '50']
            if idle is not None:
                cmd += ['--idle', str(idle)]
            r = subprocess.run(cmd, env=env, stderr=subprocess.PIPE,
                               timeout=45)
            return r.returncode, r.stderr.decode()

    def test_verdict_of_a_hung_l1_passes_through(self):
        rc, err = self.run_fake_l1('l1: verdict 16', hang=True)
        self.assertEqual(rc, 33)
        self.assertIn('hung after reporting verdict 16', err)

    def test_l1_code_of_a_hung_l1_passes_through(self):
        rc, _ = self.run_fake_l1('l1: verdict 0x7e', hang=True)
        self.assertEqual(rc, (0x7e << 1) | 1)

    def test_normal_exit_is_untouched(self):
        rc, err = self.run_fake_l1('l1: verdict 16', hang=False)
        self.assertEqual((rc, err), (33, ''))

    def test_l1_lockup_stops_l1(self):
        rc, err = self.run_fake_l1(
            '[ 152.6] watchdog: BUG: soft lockup - CPU#0 stuck for 26s! '
            '[qemu-system-x86:105]', hang=True)
        self.assertEqual(rc, pvgtest.L1_FAILED)
        self.assertIn('the L1 kernel failed (', err)
        self.assertIn('soft lockup - CPU#0 stuck for 26s!', err)

    def test_l1_panic_that_ends_qemu_at_once_is_caught(self):
        # panic=-1 and -no-reboot: L1's QEMU is gone, status 0, before
        # the console is looked at.
        rc, err = self.run_fake_l1(
            '[ 24.5] Kernel panic - not syncing: Fatal exception in '
            'interrupt', hang=False, code=0)
        self.assertEqual(rc, pvgtest.L1_FAILED)
        self.assertIn('Fatal exception in interrupt) and stopped', err)

    def test_l1_lockup_after_the_verdict_is_not_a_failure(self):
        rc, _ = self.run_fake_l1(
            'l1: verdict 16\r\n[ 99.0] watchdog: BUG: soft lockup - CPU#1 '
            'stuck for 22s!', hang=False)
        self.assertEqual(rc, 33)

    def test_silent_l1_is_stopped_after_idle_seconds(self):
        rc, err = self.run_fake_l1('[ 3.0] l1: running: qemu', hang=True,
                                   idle=2)
        self.assertEqual(rc, pvgtest.IDLE)
        self.assertIn('no output from L1 or L2 for 2 s', err)

    def test_l1_that_stops_beating_is_stopped(self):
        # Three heartbeats, then L1 hangs: L1 stopped, whatever the idle
        # watch (longer here) would have said later.
        rc, err = self.run_fake_l1('[ 3.0] l1: running: qemu', hang=True,
                                   idle=20, beats=3,
                                   env=dict(PVG_L1_STILL='3'))
        self.assertEqual(rc, pvgtest.L1_FAILED)
        self.assertIn('the L1 kernel stopped (no heartbeat for 3 s; last: '
                      'l1: alive 2 s', err)

    def test_heartbeat_keeps_neither_watch_off(self):
        # L1 beats all along, L2 says nothing: wedged, not a stopped L1,
        # and stopped long before the 30 s of heartbeats end.
        import time
        start = time.time()
        rc, err = self.run_fake_l1('[ 3.0] l1: running: qemu', hang=True,
                                   idle=3, beats=30,
                                   env=dict(PVG_L1_STILL='2'))
        self.assertEqual(rc, pvgtest.IDLE)
        self.assertIn('no output from L1 or L2 for 3 s', err)
        self.assertLess(time.time() - start, 20)

    def test_no_heartbeat_no_l1_stop(self):
        # An L1 that never beat (before L2's QEMU, or an older L1) is
        # left to the idle watch.
        rc, err = self.run_fake_l1('[ 3.0] l1: running: qemu', hang=True,
                                   idle=4, env=dict(PVG_L1_STILL='1'))
        self.assertEqual(rc, pvgtest.IDLE)

    def test_output_keeps_the_idle_watch_off(self):
        # A line every 1.5 s for 6 s, then the verdict: longer than
        # --idle in all, never that long without output.
        rc, err = self.run_fake_l1('[ 3.0] l1: running: qemu', hang=False,
                                   idle=4, chatty=4)
        self.assertEqual((rc, err), (33, ''))

    def test_verdict_of_an_earlier_run_is_ignored(self):
        rc, err = self.run_fake_l1('l1: verdict 16', hang=False,
                                   stale='l1: verdict 17', delay=3)
        self.assertEqual((rc, err), (33, ''))


# ---------------------------------------------------------------- host agent

import hostagent  # noqa: E402


class FakeQMP:
    """A QMP server on one end of a socket pair, in a thread: enough of
    QEMU 7.2's balloon for the agent.  The balloon's actual size walks to a
    new target after `delay` seconds; an event precedes every reply, to
    prove the client skips events."""

    def __init__(self, sock, ram=1 << 30, delay=0.05):
        import threading
        self.sock, self.ram, self.delay = sock, ram, delay
        self.actual, self.target, self.when = ram, ram, 0.0
        self.balloons = []
        self.props = {'guest-stats-polling-interval': 0}
        self.stats_update = 100
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def send(self, obj):
        import json
        self.sock.sendall(json.dumps(obj).encode() + b'\r\n')

    def serve(self):
        import json
        import time
        self.send({'QMP': {'version': {}, 'capabilities': []}})
        f = self.sock.makefile('rb')
        for line in f:
            req = json.loads(line)
            name, args = req['execute'], req.get('arguments', {})
            self.send({'event': 'BALLOON_CHANGE', 'data': {}})
            r = None
            if name == 'balloon':
                self.target, self.when = args['value'], time.monotonic()
                self.balloons.append(args['value'])
                r = {}
            elif name == 'query-balloon':
                if time.monotonic() - self.when >= self.delay:
                    self.actual = self.target
                r = {'actual': self.actual}
            elif name == 'qom-set':
                self.props[args['property']] = args['value']
                r = {}
            elif name == 'qom-get' and args['property'] == 'guest-stats':
                if self.props['guest-stats-polling-interval']:
                    self.stats_update += 1
                r = {'stats': {'stat-free-memory': 123,
                               'stat-total-memory': 456},
                     'last-update': self.stats_update}
            elif name == 'qom-get':
                r = self.props.get(args['property'])
            elif name == 'qmp_capabilities':
                r = {}
            if r is None:
                self.send({'id': req['id'], 'error': {
                    'class': 'GenericError', 'desc': 'no %s' % name}})
            else:
                self.send({'id': req['id'], 'return': r})


class AgentProtocolTest(unittest.TestCase):
    def test_request_parsing(self):
        self.assertEqual(hostagent.parse_request('#7 balloon 5\r'),
                         ('#7', 'balloon', ['5']))
        self.assertEqual(hostagent.parse_request('  rss  '), ('', 'rss', []))
        self.assertEqual(hostagent.parse_request('#3'), ('#3', '', []))

    def test_reply_is_one_line(self):
        self.assertEqual(hostagent.format_reply('#2', False, 'a\nb  c'),
                         '#2 err a b c\n')
        self.assertEqual(hostagent.format_reply('', True, ''), 'ok\n')

    def handler(self, **kw):
        import socket
        a, b = socket.socketpair()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        fake = FakeQMP(b, **kw)
        return hostagent.Handler(hostagent.QMP(a, timeout=5), os.getpid()), \
            fake

    def test_balloon_timed_waits_for_the_target(self):
        h, fake = self.handler(delay=0.2)
        r = h.handle('balloon-timed', ['536870912', '5'])
        ms = int(pvgtest.re.search(r'ms=(\d+)', r).group(1))
        self.assertGreaterEqual(ms, 200)
        self.assertIn('actual=536870912', r)
        self.assertEqual(fake.balloons, [536870912])
        # wait-balloon times from that balloon command, not from its start
        r = h.handle('wait-balloon', ['536870912', '5'])
        self.assertGreaterEqual(int(r.split()[0][3:]), ms)

    def test_wait_fails_after_its_timeout(self):
        h, _ = self.handler(delay=60)
        h.handle('balloon', ['1048576'])
        with self.assertRaisesRegex(hostagent.AgentError, 'timeout'):
            h.handle('wait-balloon', ['1048576', '0'])

    def test_errors_reach_the_guest(self):
        h, _ = self.handler()
        for cmd, args, msg in (('nope', [], 'unknown command'),
                               ('balloon', [], 'takes'),
                               ('balloon', ['x'], 'not a number'),
                               ('qom-get', ['balloon0', 'bogus'], 'QMP')):
            with self.assertRaisesRegex(hostagent.AgentError, msg):
                h.handle(cmd, args)

    def test_guest_stats_turn_polling_on(self):
        h, fake = self.handler()
        r = h.handle('guest-stats', ['balloon0', '5'])
        self.assertEqual(fake.props['guest-stats-polling-interval'], 1)
        self.assertIn('stat-free-memory=123', r)
        self.assertRegex(r, r'^last-update=\d+ ')

    def test_storm_alternates(self):
        h, fake = self.handler()
        r = h.handle('balloon-storm', ['1', '2', '1', '5'])
        self.assertEqual(fake.balloons, [1, 2, 1, 2, 1])
        self.assertIn('sent=5', r)

    def test_rss_is_read(self):
        h, _ = self.handler()
        self.assertGreater(int(h.handle('rss', [])[4:]), 0)


class AgentEndToEndTest(unittest.TestCase):
    """The Agent's sockets, with this test in QEMU's place: a fake QMP on
    one, the guest's serial line on the other."""

    def test_tagged_requests_and_replies(self):
        import socket
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            agent = hostagent.Agent(os.path.join(d, 'agent.log'),
                                    connect_timeout=10)
            args = agent.qemu_args()
            self.assertIn('chardev:pvgagent', args)
            agent.start()
            q = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            q.connect(agent.qmp_path)
            FakeQMP(q)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(agent.serial_path)
            s.settimeout(10)
            s.sendall(b'#1 ping\r\n\n#2 query-balloon\n#1 ok echoed\n'
                      b'#3 frobnicate\n')
            got = b''
            while got.count(b'\n') < 3:
                got += s.recv(4096)
            agent.stop()
            s.close()
            q.close()
            self.assertEqual(got.decode().splitlines(), [
                '#1 ok pong', '#2 ok actual=1073741824',
                "#3 err unknown command 'frobnicate'"])
            self.assertIsNone(agent.error)
            with open(os.path.join(d, 'agent.log')) as f:
                self.assertIn('3 requests served', f.read())
            self.assertFalse(os.path.exists(agent.dir))


class GuestHostHelperTest(unittest.TestCase):
    """ktap.sh's host helper under busybox sh, on a pty in place of ttyS2:
    a stale reply is skipped, err and silence are told apart."""

    def run_helper(self, script, answer):
        import pty
        import subprocess
        import threading
        if not os.path.exists('/bin/busybox'):
            self.skipTest('no /bin/busybox')
        master, slave = pty.openpty()
        tty = os.ttyname(slave)[len('/dev/'):]
        seen = []

        def serve():
            buf = b''
            while b'\n' not in buf:
                try:
                    buf += os.read(master, 1024)
                except OSError:
                    return
            seen.append(buf.decode().strip())
            tag = buf.split()[0].decode()
            if answer:
                os.write(master, answer.replace('TAG', tag).encode())
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        lib = os.path.join(pvgtest.TOP, 'tests', 'guest', 'lib', 'ktap.sh')
        with __import__('tempfile').TemporaryDirectory() as d:
            r = subprocess.run(
                ['/bin/busybox', 'sh', '-c',
                 '. %s; param() { [ "$1" = hostagent ] && echo %s; }; '
                 'cd %s; host_timeout=2; %s; echo "rc=$? reply=$reply"'
                 % (lib, tty, d, script)],
                stdout=subprocess.PIPE, text=True, timeout=30,
                env=dict(os.environ, TMPDIR=d))
        os.close(master)
        os.close(slave)
        return r.stdout.strip().splitlines()[-1], seen

    def test_reply_with_its_tag_is_taken(self):
        out, seen = self.run_helper('host balloon 5',
                                    '#0 ok stale\nTAG ok target=5\n')
        self.assertEqual(out, 'rc=0 reply=target=5')
        self.assertRegex(seen[0], r'^#\d+ balloon 5$')

    def test_err_and_silence(self):
        out, _ = self.run_helper('host rss', 'TAG err no QMP\n')
        self.assertEqual(out, 'rc=1 reply=no QMP')
        out, _ = self.run_helper('host rss', '')
        self.assertIn('rc=2 reply=no reply from the host agent', out)

    def test_a_timeout_shows_the_lines_that_did_not_match(self):
        # A reply lost or garbled on the way must say what did arrive.
        out, _ = self.run_helper('host rss', '#0 ok stale\n#1 o size=9\n')
        self.assertIn('rc=2 reply=no reply from the host agent', out)
        self.assertIn('(other lines meanwhile: #0 ok stale | #1 o size=9)',
                      out)


class IpiBenchTest(unittest.TestCase):
    def load(self):
        return load_script('bench.py')

    def test_each_configuration_boots_first_once_in_three_cycles(self):
        m = self.load()
        firsts = [m.cycle_order(c)[0][0] for c in (1, 2, 3, 4)]
        self.assertEqual(firsts, ['pvguest', 'stock', 'nopv', 'pvguest'])
        self.assertEqual(sorted(m.cycle_order(2)), sorted(m.BOOTS))

    def test_a_failed_late_boot_keeps_the_whole_cycles(self):
        m = self.load()
        calls = []

        def boot(name, extra, cycle):
            calls.append((cycle, name))
            if (cycle, name) == (3, 'pvguest'):
                raise m.BootFailed('bench: no results')
            return {'ipi': [len(calls)]}

        boots, whole, dropped = m.run_cycles(4, boot)
        self.assertEqual((whole, dropped), (3, [(3, 'bench: no results')]))
        # Cycle 3 booted nopv before the failure, and not stock after it;
        # cycle 4 booted in full.
        self.assertEqual(calls[6:], [(3, 'nopv'), (3, 'pvguest'),
                                     (4, 'pvguest'), (4, 'stock'),
                                     (4, 'nopv')])
        # Cycle 3's nopv boot (7) is left out with its cycle.
        self.assertEqual({n: b['ipi'] for n, b in boots.items()},
                         {'pvguest': [[1], [6], [9]],
                          'stock': [[2], [4], [10]],
                          'nopv': [[3], [5], [11]]})

    def test_a_failed_first_cycle_exits(self):
        m = self.load()

        def boot(name, extra, cycle):
            if name == 'stock':
                raise m.BootFailed('bench: no results')
            return {'ipi': [1]}

        with self.assertRaises(SystemExit):
            m.run_cycles(3, boot)

    def test_the_control_boots_in_every_cycle(self):
        m = self.load()
        self.assertEqual(m.configurations(False), m.BOOTS)
        confs = m.configurations(True)
        self.assertEqual(len(confs), 4)
        for cycle in (1, 2, 3, 4, 5):
            order = m.cycle_order(cycle, confs)
            self.assertIn(('pvguest-again', ''), order)
            self.assertEqual(sorted(order), sorted(confs))
        # The same arguments as pvguest's own boot.
        self.assertEqual(dict(confs)['pvguest-again'],
                         dict(confs)['pvguest'])
        # The default list is not changed by asking for the control.
        self.assertEqual(len(m.BOOTS), 3)

    def test_per_cycle_ratios_come_from_each_boots_median(self):
        m = self.load()
        ours = [[100, 90, 300], [200, 210, 190]]
        base = [[50, 60, 40], [400, 390, 410]]
        # Latency: base / ours, boot by boot (medians 100 and 200).
        self.assertEqual(m.per_cycle(ours, base, True), [0.5, 2.0])
        # Throughput: ours / base.
        self.assertEqual(m.per_cycle(ours, base, False), [2.0, 0.5])

    def test_interval_spans_one_for_the_same_values(self):
        m = self.load()
        boots = [[100, 130, 90, 160, 110], [150, 95, 120, 105, 140]]
        lo, hi = m.ratio_interval(boots, [list(b) for b in boots], True)
        self.assertLess(lo, 1.0)
        self.assertGreater(hi, 1.0)

    def test_interval_excludes_one_for_a_clear_win(self):
        m = self.load()
        ours = [[50, 52, 49, 51, 50], [48, 53, 50, 51, 49]]
        stock = [[100, 104, 98, 101, 99], [97, 103, 100, 102, 99]]
        lo, hi = m.ratio_interval(ours, stock, True)
        self.assertGreater(lo, 1.8)
        self.assertLess(hi, 2.2)
        # Throughput: higher is better, the same win the other way round.
        lo, hi = m.ratio_interval(stock, ours, False)
        self.assertGreater(lo, 1.8)

    def test_interval_is_reproducible(self):
        m = self.load()
        a, b = [[1, 2, 3], [2, 3, 4]], [[2, 3, 4], [3, 4, 5]]
        self.assertEqual(m.ratio_interval(a, b, True),
                         m.ratio_interval(a, b, True))


def run_main(m, argv):
    """m.main() with sys.argv set to argv and its output swallowed; the
    SystemExit it ends with, or None."""
    from unittest import mock
    with mock.patch.object(sys, 'argv', argv), \
            contextlib.redirect_stdout(io.StringIO()):
        try:
            m.main()
        except SystemExit as e:
            return e
    return None


def read_json(path):
    import json
    with open(path) as f:
        return json.load(f)


class BalloonBenchTest(unittest.TestCase):
    def load(self):
        return load_script('bench-balloon.py')

    def test_each_cycle_alternates_the_drivers_and_ends_with_the_floor(self):
        m = self.load()
        self.assertEqual([n for n, _ in m.cycle_order(m.DRIVERS, 1)],
                         ['stock', 'pvballoon', m.FLOOR])
        self.assertEqual([n for n, _ in m.cycle_order(m.DRIVERS, 2)],
                         ['pvballoon', 'stock', m.FLOOR])

    def test_a_failed_late_boot_keeps_the_whole_cycles(self):
        import tempfile
        from unittest import mock
        m = self.load()
        booted = []

        def boot(name, driver, args, kernel, initrd, cycle):
            booted.append((cycle, name))
            if (cycle, name) == (3, 'pvballoon'):
                raise m.bench.BootFailed('bench-balloon: no results')
            x = cycle * (100 if name == 'pvballoon' else 200)
            return {'balloon_inflate': [x], 'balloon_deflate': [x],
                    'balloon_rss': [1.0]}

        def floor(exe, runs):
            booted.append('floor')
            return {'dontneed_ms': [50.0], 'willneed_ms': [10.0],
                    'rss_per_byte': [1.0]}

        with tempfile.TemporaryDirectory() as d, \
                mock.patch.object(m, 'balloon_boot', boot), \
                mock.patch.object(m, 'run_floor', floor), \
                mock.patch.object(m, 'floor_tool', lambda: 'floor'), \
                mock.patch.object(m.bench, 'chosen_kernel',
                                  lambda tool, args: ('k', 'i')), \
                mock.patch.object(m.bench, 'initrd_has',
                                  lambda initrd, mod: True):
            e = run_main(m, ['bench-balloon.py', '--out', d, '--runs', '1',
                             '--cycles', '4'])
            self.assertIn('incomplete: 3 of 4 cycles (cycle 3: '
                          'bench-balloon: no results)', str(e.code))
            # Cycle 3's stock boot ran, and is left out with its cycle;
            # its floor did not run, and cycle 4 ran whole.
            self.assertEqual(booted[6:], [(3, 'stock'), (3, 'pvballoon'),
                                          (4, 'pvballoon'), (4, 'stock'),
                                          'floor'])
            self.assertEqual(booted.count('floor'), 3)
            rec = read_json(os.path.join(d, 'balloon_inflate.json'))[0]
            self.assertEqual((rec['ours'], rec['baseline_value'],
                              rec['ratio']), (200, 400, 2.0))

    def test_records_favour_the_faster_driver(self):
        m = self.load()
        med = {'pvballoon': {'balloon_inflate': 100, 'balloon_deflate': 50,
                             'balloon_rss': 1.0},
               'stock': {'balloon_inflate': 200, 'balloon_deflate': 25,
                         'balloon_rss': 0.5}}
        floor = {'dontneed_ms': 50, 'willneed_ms': 10, 'rss_per_byte': 1.0}
        recs = m.records(med, floor)
        self.assertEqual(recs['balloon_inflate'][0]['ratio'], 2.0)
        self.assertEqual(recs['balloon_deflate'][0]['ratio'], 0.5)
        self.assertEqual(recs['balloon_rss'][0]['ratio'], 2.0)
        self.assertEqual([r['baseline'] for r in recs['balloon_inflate']],
                         ['stock', 'host-floor'])
        self.assertEqual(recs['balloon_inflate'][1]['ratio'], 0.5)

    def test_floor_line(self):
        m = self.load()
        f = m.parse_floor('floor bytes=1073741824 dontneed_ms=300.5 '
                          'willneed_ms=50.0 rss_drop_kib=1048576')
        self.assertEqual((f['dontneed_ms'], f['rss_per_byte']), (300.5, 1.0))

    def test_initrd_module_lookup(self):
        import subprocess
        import tempfile
        m = self.load()
        with tempfile.TemporaryDirectory() as d:
            mods = os.path.join(d, 'root', 'lib', 'modules', '6.12.0')
            os.makedirs(mods)
            with open(os.path.join(mods, 'modules.dep'), 'w') as f:
                f.write('kernel/drivers/virtio/pvballoon/pvballoon.ko:\n')
            with open(os.path.join(mods, 'modules.builtin'), 'w') as f:
                f.write('kernel/drivers/virtio/virtio_balloon.ko\n')
            img = os.path.join(d, 'initrd.gz')
            subprocess.run('cd %s/root && find . | cpio -o -H newc --quiet '
                           '| gzip >%s' % (d, img), shell=True, check=True)
            self.assertTrue(m.bench.initrd_has(img, 'pvballoon'))
            self.assertTrue(m.bench.initrd_has(img, 'virtio_balloon'))
            self.assertFalse(m.bench.initrd_has(img, 'balloon'))


class BlockBenchTest(unittest.TestCase):
    def load(self):
        return load_script('bench-block.py')

    def test_a_failed_late_boot_keeps_the_whole_pairs(self):
        import tempfile
        from unittest import mock
        m = self.load()
        names = [x[0] for x in m.suites(['null'])]
        booted = []

        def boot(role, driver, runs, args, kernel, initrd, image, cycle):
            booted.append((cycle, role, runs))
            if cycle == 3 and role != 'stock':
                raise m.bench.BootFailed('bench-block: no results')
            x = float(cycle * (100 if role == 'stock' else 200))
            return {n: [x] * runs for n in names}

        with tempfile.TemporaryDirectory() as d, \
                mock.patch.object(m, 'block_boot', boot), \
                mock.patch.object(m.bench, 'chosen_kernel',
                                  lambda tool, args: ('k', 'i')), \
                mock.patch.object(m.bench, 'initrd_has',
                                  lambda initrd, mod: True), \
                mock.patch.object(m.pvgtest, 'initrd_with',
                                  lambda initrd, layers: initrd):
            e = run_main(m, ['bench-block.py', '--out', d, '--runs', '6',
                             '--boots', '3', '--disks', 'null',
                             '--image-dir', d])
            self.assertIn('incomplete: 2 of 3 cycles', str(e.code))
            self.assertEqual([b[2] for b in booted], [2] * 6)
            self.assertEqual(booted[-2:], [(3, 'stock', 2),
                                           (3, 'pvblock', 2)])
            recs = read_json(os.path.join(d, 'block_null.json'))
            self.assertEqual((recs[0]['ours'], recs[0]['baseline_value']),
                             (300.0, 150.0))

    def test_records_favour_the_better_driver(self):
        m = self.load()
        names = [s[0] for s in m.suites(['null'])]
        med = {'stock': dict.fromkeys(names, 100.0),
               'ours': dict.fromkeys(names, 50.0)}
        recs = m.records(med, ['null'])
        self.assertEqual(list(recs), ['null'])
        by_unit = {r['unit']: r['ratio'] for r in recs['null']}
        # Half the latency is better, half the IOPS or MB/s worse.
        self.assertEqual(by_unit, {'us': 2.0, 'IOPS': 0.5, 'MB/s': 0.5})
        r = recs['null'][0]
        self.assertEqual((r['ours'], r['baseline'], r['baseline_value']),
                         (50.0, 'virtio_blk', 100.0))
        self.assertTrue(r['name'].startswith('block_null: '))
        lines = m.targets(recs)
        self.assertEqual(len(lines), 5)
        self.assertTrue(lines[0].endswith(' met'))
        self.assertTrue(all(l.endswith('NOT MET') for l in lines[1:]))

    def test_runs_spread_over_boots(self):
        m = self.load()
        self.assertEqual(m.plan(5, 5), [1] * 5)
        self.assertEqual(m.plan(5, 2), [3, 2])
        self.assertEqual(m.plan(6, 3), [2, 2, 2])

    def test_disks_carry_their_serials(self):
        m = self.load()
        args = ' '.join(m.qemu_args('/dev/shm/x.raw', ['raw', 'null']))
        self.assertIn('serial=bench-raw', args)
        self.assertIn('serial=bench-null', args)
        self.assertIn('"driver":"null-co"', args)
        self.assertIn('"read-zeroes":true', args)
        self.assertNotIn('bench-raw', ' '.join(m.qemu_args('x', ['null'])))


class MemtouchTest(unittest.TestCase):
    def test_detects_corruption(self):
        import subprocess
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            exe = os.path.join(d, 'pvg-memtouch')
            r = subprocess.run(['gcc', '-O2', '-Wall', '-Werror', '-o', exe,
                                os.path.join(pvgtest.TOP, 'tests', 'guest',
                                             'pvg-memtouch.c')])
            if r.returncode:
                self.skipTest('no gcc')
            ok = subprocess.run([exe, '-s', '0', '4'], stdout=subprocess.PIPE,
                                text=True)
            self.assertEqual(ok.returncode, 0)
            self.assertIn('mib=4 ', ok.stdout)
            for flags in (['-C'], ['-C', '-p']):
                bad = subprocess.run([exe] + flags + ['4'],
                                     stderr=subprocess.PIPE, text=True)
                self.assertEqual(bad.returncode, 1)
                self.assertIn('mismatch', bad.stderr)


# ---------------------------------------------------------------- block

class FakeBlockQMP(FakeQMP):
    """Enough of QEMU 7.2's block QMP for the agent's block commands: a
    device data0 whose counters and size can be read, and device_del that
    sends DEVICE_DELETED (for its virtio backend first, as QEMU does)."""

    def serve(self):
        import json
        self.size = 1 << 30
        self.hmp = []
        self.send({'QMP': {'version': {}, 'capabilities': []}})
        f = self.sock.makefile('rb')
        qdev = '/machine/peripheral/data0/virtio-backend'
        for line in f:
            req = json.loads(line)
            name, args = req['execute'], req.get('arguments', {})
            r, events = None, []
            if name == 'qmp_capabilities':
                r = {}
            elif name == 'block_resize' and args['node-name'] == 'data0':
                self.size, r = args['size'], {}
            elif name == 'query-blockstats':
                r = [{'device': '', 'qdev': '/machine/peripheral/other/x',
                      'stats': {'flush_operations': 99}},
                     {'device': '', 'qdev': qdev, 'node-name': 'data0',
                      'stats': {'flush_operations': 7, 'wr_operations': 3,
                                'account_invalid': True,
                                'timed_stats': []}}]
            elif name == 'query-block':
                r = [{'device': '', 'qdev': qdev, 'inserted': {
                    'cache': {'writeback': False, 'direct': False,
                              'no-flush': False}}}]
            elif name == 'device_del' and args['id'] == 'data0':
                r = {}
                events = [{'event': 'DEVICE_DELETED', 'data': {
                    'path': qdev}}, {'event': 'DEVICE_DELETED', 'data': {
                        'device': 'data0',
                        'path': '/machine/peripheral/data0'}}]
            elif name == 'human-monitor-command':
                self.hmp.append(args['command-line'])
                r = ('Could not resume request: No such file or directory\r\n'
                     if 'resume' in args['command-line'] else '')
            if r is None:
                self.send({'id': req['id'], 'error': {
                    'class': 'GenericError', 'desc': 'no %s' % name}})
            else:
                self.send({'id': req['id'], 'return': r})
            for e in events:
                self.send(e)


class AgentBlockTest(unittest.TestCase):
    def handler(self, files_dir=None):
        import socket
        a, b = socket.socketpair()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        fake = FakeBlockQMP(b)
        return hostagent.Handler(hostagent.QMP(a, timeout=5), os.getpid(),
                                 files_dir=files_dir), fake

    def test_resize_and_stats(self):
        h, fake = self.handler()
        self.assertEqual(h.handle('block-resize', ['data0', '2147483648']),
                         'size=2147483648')
        self.assertEqual(fake.size, 2 << 30)
        # Only the integer counters, of the right device.
        self.assertEqual(h.handle('blockstats', ['data0']),
                         'flush_operations=7 wr_operations=3')
        self.assertEqual(h.handle('block-cache', ['data0']),
                         'writeback=0 direct=0 no-flush=0')
        with self.assertRaisesRegex(hostagent.AgentError, 'no block device'):
            h.handle('blockstats', ['nope'])

    def test_device_del_waits_for_its_event(self):
        h, _ = self.handler()
        self.assertRegex(h.handle('device-del', ['data0', '5']), r'^ms=\d+$')
        with self.assertRaisesRegex(hostagent.AgentError, 'QMP device_del'):
            h.handle('device-del', ['other', '1'])

    def test_qemu_io(self):
        h, fake = self.handler()
        self.assertEqual(h.handle('qemu-io', ['dbg0', 'break', 'write_aio',
                                              'T1']), '')
        self.assertEqual(fake.hmp, ['qemu-io dbg0 "break write_aio T1"'])
        with self.assertRaisesRegex(hostagent.AgentError, 'Could not'):
            h.handle('qemu-io', ['dbg0', 'resume', 'T1'])
        for bad in (['dbg0', 'wait_break', 'T1'], ['dbg0', 'x"y'], ['dbg0']):
            with self.assertRaises(hostagent.AgentError):
                h.handle('qemu-io', bad)

    def test_allocated_stays_in_its_directory(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, 'data0.img'), 'wb') as f:
                f.write(b'x' * 8192)
                f.truncate(1 << 20)
            h, _ = self.handler(files_dir=d)
            r = h.handle('allocated', ['data0'])
            self.assertIn('size=1048576', r)
            self.assertGreaterEqual(int(r.split()[0][6:]), 8192)
            for bad in ('../data0', '/etc/passwd', 'missing'):
                with self.assertRaises(hostagent.AgentError):
                    h.handle('allocated', [bad])
        h, _ = self.handler()
        with self.assertRaisesRegex(hostagent.AgentError, 'no disk images'):
            h.handle('allocated', ['data0'])


class CflistTest(unittest.TestCase):
    """CFLIST: timeouts, and "manual" scenarios only when asked for."""

    def test_manual(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, 'CFLIST'), 'w') as f:
                f.write('a tcg\nb kvm 300 manual\nc kvm manual\n')
            old, pvgtest.SCEN = pvgtest.SCEN, d
            try:
                self.assertEqual(pvgtest.scenarios(), [('a', 'tcg', 0)])
                self.assertEqual(pvgtest.scenarios(True), [
                    ('a', 'tcg', 0), ('b', 'kvm', 300), ('c', 'kvm', 0)])
                for bad in ('x kvm soon\n', 'x kvm 1 2\n', 'x gpu\n'):
                    with open(os.path.join(d, 'CFLIST'), 'w') as f:
                        f.write(bad)
                    with self.assertRaises(SystemExit):
                        pvgtest.scenarios(True)
            finally:
                pvgtest.SCEN = old


class ScenarioArgsTest(unittest.TestCase):
    """A scenario's command line and QEMU arguments: CFcommon.boot for
    all, CFreboot.* only for a chain with a reboot step."""

    def args(self, boot, qemu='-m 512\n'):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            for name, text in (('CFcommon.boot', 'common=1\n'),
                               ('CFreboot.boot', '# c\nramoops.x=1\n'),
                               ('CFreboot.qemu', '-action reboot=reset\n'),
                               ('x.boot', boot), ('x.qemu', qemu)):
                with open(os.path.join(d, name), 'w') as f:
                    f.write(text)
            old, pvgtest.SCEN = pvgtest.SCEN, d
            try:
                return pvgtest.scenario_args('x', '/o')
            finally:
                pvgtest.SCEN = old

    def test_reboot_chain(self):
        for boot in ('pvgtest.chain=suspend,reboot,kexec\n',
                     'a=1 pvgtest.chain=reboot\n'):
            append, qargs = self.args(boot, '-m 512\n-drive file=@OUT@/d\n')
            words = append.split()
            self.assertEqual(words[:4], ['console=ttyS0', 'panic=-1',
                                         'pvgtest.mode=test', 'common=1'])
            self.assertEqual(words[4], 'ramoops.x=1')
            self.assertIn(boot.split()[-1], words[5:])
            self.assertEqual(qargs, ['-action', 'reboot=reset', '-m', '512',
                                     '-drive', 'file=/o/d'])

    def test_no_reboot_step(self):
        for boot in ('pvgtest.chain=suspend,kexec,crash\n',
                     'pvgtest.chain=rebooted\n', 'x=reboot\n', ''):
            append, qargs = self.args(boot)
            self.assertNotIn('ramoops.x=1', append)
            self.assertEqual(qargs, ['-m', '512'])


class HostSpecTest(unittest.TestCase):
    """NAME.host requests: disks, initramfs layers, and their errors."""

    def spec(self, text):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, 'x.host'), 'w') as f:
                f.write(text)
            old, pvgtest.SCEN = pvgtest.SCEN, d
            try:
                return pvgtest.host_services('x')
            finally:
                pvgtest.SCEN = old

    def test_requests(self):
        s = self.spec('# c\nagent\ninitrd block\ndisk a 1G\n'
                      'disk b 16M sectors\nallow Kernel panic - x\n')
        self.assertEqual(s, dict(agent=True, layers=['block'], disks=[
            ('a', 1 << 30, 'zero'), ('b', 16 << 20, 'sectors')],
            allow=['Kernel panic - x']))
        self.assertEqual(self.spec(''), dict(agent=False, disks=[],
                                             layers=[], allow=[]))
        for bad in ('agnet\n', 'disk a\n', 'disk a 1T\n', 'disk ../a 1M\n',
                    'disk a 1M ones\n', 'initrd\n', 'allow\n',
                    'allow (unclosed\n'):
            with self.assertRaises(SystemExit):
                self.spec(bad)

    def test_disks_are_fresh(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, 'a.img')
            with open(p, 'wb') as f:
                f.write(b'old data')
            pvgtest.make_disk(p, 1 << 20, 'zero')
            st = os.stat(p)
            self.assertEqual(st.st_size, 1 << 20)
            with open(p, 'rb') as f:
                self.assertEqual(f.read(8), bytes(8))
            pvgtest.make_disk(p, 4096, 'sectors')
            with open(p, 'rb') as f:
                data = f.read()
            self.assertEqual(len(data), 4096)
            self.assertTrue(data[512 * 7:].startswith(b'pvgtest sector 7\n'))
            self.assertEqual(data[512 * 7 + 17:512 * 8], bytes(512 - 17))

    def test_layers_are_appended(self):
        import gzip
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, 'tools'))
            base = os.path.join(d, 'initramfs-test.cpio.gz')
            for path, text in ((base, b'base'), (os.path.join(
                    d, 'tools', 'initramfs-block.cpio.gz'), b'layer')):
                with gzip.open(path, 'wb') as f:
                    f.write(text)
            old, pvgtest.BUILD = pvgtest.BUILD, d
            try:
                self.assertEqual(pvgtest.initrd_with(base, []), base)
                out = pvgtest.initrd_with(base, ['block'])
                self.assertEqual(out, os.path.join(
                    d, 'initramfs-test+block.cpio.gz'))
                # Concatenated gzip members read back as one stream.
                with gzip.open(out) as f:
                    self.assertEqual(f.read(), b'baselayer')
                with self.assertRaises(SystemExit):
                    pvgtest.initrd_with(base, ['nope'])
                # "kernel": the kernel itself, as /boot/vmlinuz.
                kernel = os.path.join(d, 'bzImage')
                with open(kernel, 'wb') as f:
                    f.write(b'not really a kernel')
                out = pvgtest.initrd_with(base, ['kernel'], kernel)
                with gzip.open(out) as f:
                    data = f.read()
                self.assertTrue(data.startswith(b'base070701'))
                self.assertIn(b'boot/vmlinuz\0', data)
                self.assertIn(b'not really a kernel', data)
            finally:
                pvgtest.BUILD = old


class UeventTest(unittest.TestCase):
    def test_times_out_without_a_match(self):
        import subprocess
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            exe = os.path.join(d, 'pvg-uevent')
            r = subprocess.run(['gcc', '-O2', '-Wall', '-Werror', '-o', exe,
                                os.path.join(pvgtest.TOP, 'tests', 'guest',
                                             'pvg-uevent.c')])
            if r.returncode:
                self.skipTest('no gcc')
            ready = os.path.join(d, 'ready')
            r = subprocess.run([exe, '-r', ready, '-t', '0.2',
                                'PVGTEST=never'], stderr=subprocess.PIPE,
                               text=True)
            if r.returncode == 2:
                self.skipTest('no netlink uevent socket here: %s' % r.stderr)
            self.assertEqual(r.returncode, 1)
            self.assertTrue(os.path.exists(ready))
            self.assertIn('no matching uevent', r.stderr)


class ImageConsoleTest(unittest.TestCase):
    """The image gate drives a shell on the guest's serial console: output
    between its markers, over several lines and without terminal escapes,
    and the command's exit status."""

    def setUp(self):
        import tempfile
        m = load_script('image-boot.py')
        self.tmp = tempfile.TemporaryDirectory()
        self.con = m.Console(['bash', '--norc', '--noprofile', '-i'],
                             os.path.join(self.tmp.name, 'console.log'))

    def tearDown(self):
        self.con.send('exit\n')
        self.con.stop(10)
        self.tmp.cleanup()

    def test_output_and_status(self):
        rc, out = self.con.run(r"printf 'a\nb\n\033[Kc\n'")
        self.assertEqual((rc, out), (0, 'a\nb\nc'))
        self.assertEqual(self.con.run('(exit 3)'), (3, ''))
        # The echoed command line holds no complete marker.
        rc, out = self.con.run('echo @@PVG; echo E')
        self.assertEqual((rc, out), (0, '@@PVG\nE'))

    def test_gone_shell_is_a_timeout(self):
        self.con.send('exit\n')
        self.assertEqual(self.con.run('true', timeout=5), (None, ''))


if __name__ == '__main__':
    unittest.main()
