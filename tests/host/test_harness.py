# SPDX-License-Identifier: GPL-2.0
"""Self-tests of the host harness: KTAP counting and console scanning.
The harness decides whether make check passes, so it is tested too."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..',
                                'scripts'))
import pvgtest  # noqa: E402


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
    def run_case(self, rc, console):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, 'console.log'), 'w') as f:
                f.write(console)
            return pvgtest.silent_stop(rc, d)

    def test_only_silent_stops_are_retried(self):
        quiet = '[ 1.0] pvgtest: running detect\n'
        panic = quiet + '[ 2.0] Kernel panic - not syncing: Fatal exception\n'
        no_verdict = (pvgtest.L2_NO_VERDICT << 1) | 1
        self.assertTrue(self.run_case(0, quiet))
        self.assertTrue(self.run_case(no_verdict, quiet))
        self.assertFalse(self.run_case(no_verdict, panic))
        self.assertFalse(self.run_case((pvgtest.FAIL << 1) | 1, quiet))
        self.assertTrue(self.run_case(pvgtest.TIMEOUT, quiet))
        stall = quiet + '[ 40.0] rcu: INFO: rcu_preempt self-detected stall on CPU\n'
        self.assertFalse(self.run_case(pvgtest.TIMEOUT, stall))


class VerdictTest(unittest.TestCase):
    def test_codes(self):
        self.assertTrue(pvgtest.verdict((0x10 << 1) | 1)[0])
        self.assertFalse(pvgtest.verdict((0x11 << 1) | 1)[0])
        self.assertFalse(pvgtest.verdict(0)[0])
        self.assertFalse(pvgtest.verdict(1)[0])
        self.assertFalse(pvgtest.verdict(pvgtest.TIMEOUT)[0])


if __name__ == '__main__':
    unittest.main()


class NestedRunTest(unittest.TestCase):
    """nested-run.sh against a stand-in for the L1 QEMU that prints an L1
    verdict line on the L1 console and then hangs, as the TCG-emulated L1
    has been seen to do: the verdict must come through, not a timeout."""

    def run_fake_l1(self, line, hang, stale=None, delay=0):
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
                        '%s\n' % (delay, line, 'exec sleep 60' if hang else
                                   'exit 33'))
            os.chmod(fake, 0o755)
            for n in ('l1-vmlinuz', 'l2-kernel', 'l2-initrd'):
                open(os.path.join(d, n), 'w').close()
            if stale:
                with open(os.path.join(d, 'c1'), 'w') as f:
                    f.write(stale + '\r\n')
            subprocess.run('printf "" | gzip >%s/l1-base.cpio.gz' % d,
                           shell=True, check=True)
            env = dict(os.environ, PATH=bindir + ':' + os.environ['PATH'],
                       PVG_L1_GRACE='1')
            cmd = [os.path.join(pvgtest.TOP, 'scripts', 'nested-run.sh'),
                   '--l1-dir', d, '--l2-kernel', d + '/l2-kernel',
                   '--l2-initrd', d + '/l2-initrd', '--l2-append', 'x',
                   '--l2-console', d + '/c2', '--l2-data', d + '/d2',
                   '--l1-console', d + '/c1', '--timeout', '50']
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

    def test_verdict_of_an_earlier_run_is_ignored(self):
        rc, err = self.run_fake_l1('l1: verdict 16', hang=False,
                                   stale='l1: verdict 17', delay=3)
        self.assertEqual((rc, err), (33, ''))
