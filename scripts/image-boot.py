#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot a pvguest disk image (make image) under QEMU with UEFI firmware.

  image-boot.py run IMAGE            boot it, console on this terminal
  image-boot.py gate BASE            the image gate of make check: build the
                                     packages and an image, boot it, log in
                                     on the serial console and check the
                                     system from inside; prints KTAP

The disk is a virtio-blk device (pvblock drives it in the image) with
discard passed through to the image file, next to a virtio-balloon device.
"""

import argparse
import os
import re
import secrets
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pvgtest  # noqa: E402

FIRMWARE = ('/usr/share/ovmf/OVMF.fd', '/usr/share/qemu/OVMF.fd')
BOOT_TIMEOUT = 600      # firmware, GRUB, kernel and systemd, under TCG
CMD_TIMEOUT = 180
CSI = re.compile(r'\x1b\[[0-9;?]*[A-Za-z]')


def firmware():
    for f in FIRMWARE:
        if os.path.exists(f):
            return f
    sys.exit('image-boot: no UEFI firmware (%s): install ovmf'
             % ' or '.join(FIRMWARE))


def image_format(path):
    with open(path, 'rb') as f:
        return 'qcow2' if f.read(4) == b'QFI\xfb' else 'raw'


def qemu_cmd(image, accel, serial):
    """The QEMU command line of an image boot; serial: where ttyS0 goes."""
    if accel == 'kvm':
        cpu = ['-enable-kvm', '-cpu', 'host']
    else:
        cpu = ['-accel', 'tcg', '-cpu', 'max']
    return ['qemu-system-x86_64'] + cpu + [
        '-machine', 'q35', '-smp', '2', '-m', '1024', '-bios', firmware(),
        '-nodefaults', '-display', 'none', '-serial', serial,
        '-drive', 'file=%s,format=%s,if=none,id=root,discard=unmap,'
        'detect-zeroes=unmap,cache=unsafe' % (image, image_format(image)),
        '-device', 'virtio-blk-pci,drive=root,serial=pvguest-root',
        '-device', 'virtio-balloon-pci,id=balloon0',
        '-nic', 'user,model=virtio-net-pci']


def cmd_run(args):
    if not os.path.exists(args.image):
        sys.exit('image-boot: no image %s: make one with make image'
                 % args.image)
    accel = 'kvm' if args.accel in ('auto', 'kvm') and \
        pvgtest.kvm_usable() else 'tcg'
    if args.accel == 'kvm' and accel != 'kvm':
        sys.exit('image-boot: ACCEL=kvm but KVM is not usable here')
    pvgtest.say('booting %s (%s); leave QEMU with Ctrl-a x'
                % (args.image, 'KVM' if accel == 'kvm' else 'QEMU TCG'))
    os.execvp('qemu-system-x86_64', qemu_cmd(args.image, accel, 'mon:stdio'))


class Console:
    """The guest's serial console, on a pipe, with a log of all of it."""

    def __init__(self, cmd, log):
        self.log = open(log, 'w', errors='replace')
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.buf = ''
        self.seq = 0

    def expect(self, pattern, timeout):
        """Read until pattern matches ('.' matches newlines too); return
        the match and eat the text up to its end.  None on timeout or when
        QEMU is gone."""
        deadline = time.time() + timeout
        rx = re.compile(pattern, re.S)
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = deadline - time.time()
            if left <= 0:
                return None
            r, _, _ = select.select([self.p.stdout], [], [], min(left, 1))
            if r:
                data = os.read(self.p.stdout.fileno(), 65536)
                if not data:
                    return None
                text = data.decode(errors='replace').replace('\r', '')
                self.log.write(text)
                self.log.flush()
                self.buf += text

    def send(self, text):
        """Type text; when QEMU is gone, the next expect() says so."""
        try:
            self.p.stdin.write(text.encode())
            self.p.stdin.flush()
        except BrokenPipeError:
            pass

    def run(self, command, timeout=CMD_TIMEOUT):
        """Run a shell command; (exit status, output) or (None, '')."""
        self.seq += 1
        # The markers are printed by printf from two halves, so the echo of
        # the command line itself never matches them.
        self.send("printf '%%s%%s\\n' '@@PVG' 'B%d'; %s; "
                  "printf '%%s%%s %%s\\n' '@@PVG' 'E%d' \"$?\"\n"
                  % (self.seq, command, self.seq))
        m = self.expect(r'@@PVGB%d\n(.*?)@@PVGE%d (\d+)\n'
                        % (self.seq, self.seq), timeout)
        if not m:
            return None, ''
        # Without terminal escapes (bash's bracketed paste, systemctl's).
        return int(m.group(2)), CSI.sub('', m.group(1)).strip()

    def stop(self, timeout=120):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return self.p.wait()
        finally:
            self.log.close()
            for f in (self.p.stdin, self.p.stdout):
                try:
                    f.close()
                except BrokenPipeError:
                    pass


class Ktap:
    def __init__(self):
        self.n = 0
        self.failed = 0
        print('KTAP version 1', flush=True)

    def result(self, desc, ok, diag=()):
        self.n += 1
        print('%s %d %s' % ('ok' if ok else 'not ok', self.n, desc))
        if not ok:
            self.failed += 1
            for d in list(diag)[:20]:
                print('# %s' % d)
        sys.stdout.flush()
        return ok

    def end(self):
        print('1..%d' % self.n)
        return 1 if self.failed else 0


def allocated(path):
    return os.stat(path).st_blocks * 512


def check_inside(con, k, image, uuid, release):
    """The checks run in the booted system, as root on the console."""
    rc, out = con.run('systemctl is-system-running --wait')
    running = out.splitlines()[-1:] == ['running']
    failed = [] if running else \
        con.run('systemctl --failed --no-legend')[1].splitlines()
    k.result('the system reaches the running state', running,
             [out] + failed)
    rc, out = con.run('systemctl is-active multi-user.target')
    k.result('multi-user.target is active', out == 'active', [out])
    rc, out = con.run('uname -r; dpkg-query -W -f=\'${Version}\\n\' '
                      'linux-image-$(uname -r)')
    lines = out.splitlines()
    k.result('it runs the packaged kernel %s' % release, rc == 0 and
             lines[:1] == [release] and len(lines) == 2 and
             lines[1].endswith('+pvguest'), lines)
    rc, out = con.run('cat /sys/kernel/pvguest/hypervisor')
    k.result('/sys/kernel/pvguest/hypervisor reads tcg', out == 'tcg', [out])
    rc, out = con.run('grep -o "root=UUID=[-0-9a-f]*" /proc/cmdline; '
                      'findmnt -no SOURCE,UUID /; '
                      'readlink -f /dev/disk/by-uuid/%s' % uuid)
    lines = out.split()
    src = lines[1] if len(lines) > 1 else ''
    k.result('root is mounted by UUID %s, by-uuid link present' % uuid,
             len(lines) == 4 and lines[0] == 'root=UUID=' + uuid and
             lines[2] == uuid and lines[3] == src, lines)
    disk = re.sub(r'p?\d+$', '', os.path.basename(src))
    rc, out = con.run('basename "$(readlink -f /sys/class/block/%s/device/'
                      'driver)"' % (disk or 'none'))
    k.result('the root disk %s is driven by pvblock' % disk,
             disk.startswith('pvd') and out == 'pvblock', [src, out])
    rc, out = con.run('for d in /sys/bus/virtio/devices/*; do '
                      '[ "$(cat $d/device)" = 0x0005 ] && '
                      'basename "$(readlink -f $d/driver)"; done; true')
    k.result('the balloon device is bound to pvballoon', out == 'pvballoon',
             [out])
    rc, out = con.run('systemctl is-enabled fstrim.timer; '
                      'systemctl is-active fstrim.timer')
    k.result('fstrim.timer is enabled and active',
             out.split() == ['enabled', 'active'], [out])
    rc, out = con.run('for i in $(seq 60); do ip -4 -o addr show scope '
                      'global | grep -q . && break; sleep 1; done; '
                      'ip -4 -o addr show scope global')
    k.result('systemd-networkd configures the network by DHCP',
             re.search(r'\binet 10\.0\.2\.15/', out) is not None, [out])
    # Freed blocks go back to the host: write, delete, trim, and watch
    # the image file on the host.
    rc, out = con.run('dd if=/dev/urandom of=/var/tmp/pvg-fill bs=1M '
                      'count=128 status=none && sync')
    full = allocated(image)
    rc2, out2 = con.run('rm /var/tmp/pvg-fill && sync && fstrim -av')
    trimmed = allocated(image)
    print('# host image allocation: %d MiB after writing, %d MiB after '
          'fstrim' % (full >> 20, trimmed >> 20))
    k.result('fstrim -av on the root filesystem succeeds',
             rc == 0 and rc2 == 0 and re.search(r'^/: .* trimmed', out2,
                                                re.M) is not None,
             [out, out2])
    k.result('the trim gives the 128 MiB back to the host image',
             full - trimmed >= 100 << 20)
    rc, out = con.run('dmesg --level=emerg,alert,crit,err,warn')
    bad = pvgtest.scan_console(out)
    k.result('no kernel error reports in dmesg', not bad, bad[:5])


def boot_and_check(k, image, uuid, release, password, outdir):
    os.makedirs(outdir, exist_ok=True)
    cmd = qemu_cmd(image, 'tcg', 'stdio')
    with open(os.path.join(outdir, 'command'), 'w') as f:
        f.write(' '.join(cmd) + '\n')
    start = time.time()
    con = Console(cmd, os.path.join(outdir, 'console.log'))
    try:
        up = con.expect(r'pvguest login: ', BOOT_TIMEOUT) is not None
        boot_s = time.time() - start
        if not k.result('the image boots under TCG to a login prompt', up,
                        ['no login prompt in %d s; see %s' % (
                            BOOT_TIMEOUT, outdir)]):
            return None
        print('# boot to login prompt: %.1f s' % boot_s)
        con.send('root\n')
        if password:
            con.expect(r'Password: ', 60)
            con.send(password + '\n')
        shell = con.expect(r'root@pvguest:~# ', 120) is not None
        if not k.result('root logs in on the serial console with '
                        'IMAGE_PASSWORD', shell):
            return None
        con.run('dmesg -n 1; stty -echo; export TERM=dumb')
        check_inside(con, k, image, uuid, release)
        con.send('poweroff\n')
        rc = con.stop()
        k.result('the system powers off', rc == 0, ['QEMU exit %d' % rc])
        return boot_s
    finally:
        if con.p.poll() is None:
            con.p.kill()
            con.stop()


def step(k, desc, cmd, env=None):
    """Run a build step; its progress goes to stderr."""
    start = time.time()
    r = subprocess.run(cmd, stdout=sys.stderr, env=env)
    secs = time.time() - start
    k.result('%s (%.0f s)' % (desc, secs), r.returncode == 0,
             ['%s exited %d' % (cmd[0], r.returncode)])
    return r.returncode == 0, secs


def cmd_gate(args):
    k = Ktap()
    base = args.base
    if os.geteuid() != 0:
        k.result('make deb, make image and a boot of the image # SKIP '
                 'make image needs root (mmdebstrap chroot)', True)
        return k.end()
    debdir = os.path.join(pvgtest.BUILD, base, 'deb-guest', 'out')
    outdir = os.path.join(pvgtest.OUT, 'image', base)
    image = os.path.join(pvgtest.BUILD, base, 'image', 'pvguest.raw')
    password = 'pvg-' + secrets.token_hex(6)
    scripts = os.path.join(pvgtest.TOP, 'scripts')
    ok, _ = step(k, 'make deb: packages of the small config for %s' % base,
                 [os.path.join(scripts, 'deb.sh'), base, 'guest', debdir])
    if not ok:
        return k.end()
    env = dict(os.environ, IMAGE_SIZE='2G', IMAGE_FORMAT='raw',
               IMAGE_PASSWORD=password)
    ok, build_s = step(k, 'make image: Debian 12 image with the package',
                       [os.path.join(scripts, 'image.sh'), debdir, image],
                       env)
    if not ok:
        return k.end()
    with open(image + '.uuid') as f:
        uuid = f.read().strip()
    with open(os.path.join(debdir, 'RELEASE')) as f:
        release = f.read().strip()
    boot_s = boot_and_check(k, image, uuid, release, password, outdir)
    if boot_s is not None:
        print('# image build %.0f s, boot to login %.1f s' % (build_s,
                                                             boot_s))
    return k.end()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('run')
    r.add_argument('image')
    r.add_argument('--accel', default='auto', choices=['auto', 'kvm', 'tcg'])
    g = sub.add_parser('gate')
    g.add_argument('base')
    args = ap.parse_args()
    return cmd_run(args) if args.cmd == 'run' else cmd_gate(args)


if __name__ == '__main__':
    sys.exit(main())
