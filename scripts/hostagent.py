#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""pvguest host agent: lets in-guest tests ask the host to act through QMP.

A scenario that asks for it (tests/scenarios/NAME.host) boots with two
extra QEMU channels, both unix sockets this agent listens on and QEMU
connects to at start (so nothing the guest sends can be lost to a race):

  - a third serial port (the guest's /dev/ttyS2) carrying requests;
  - a QMP monitor, which the agent drives.

The guest learns the port from the kernel argument pvgtest.hostagent=ttyS2
(tests/guest/lib/ktap.sh: host CMD ARGS...).  The protocol is one ASCII
line each way, "\\n" terminated ("\\r" ignored):

  request   [#TAG ]CMD ARG...
  reply     [#TAG ]ok [KEY=VALUE ...]     or    [#TAG ]err REASON

The reply repeats the request's tag, so a guest that gave up waiting can
tell a late reply from the one it waits for.  Requests are served one at a
time, in order.  Sizes are bytes, times host milliseconds (monotonic clock).

  ping                              ok pong
  balloon BYTES                     ok target=BYTES       (QMP balloon: guest RAM size)
  query-balloon                     ok actual=BYTES
  wait-balloon BYTES TIMEOUT_S      ok ms=N actual=BYTES
      until query-balloon shows BYTES; ms counts from the last balloon
      command when it asked for BYTES, else from the start of the wait
  balloon-timed BYTES TIMEOUT_S     ok ms=N actual=BYTES  (balloon, then wait)
  balloon-storm B1 B2 MS COUNT      ok sent=COUNT ms=N    (B1, B2, B1, ... every MS ms)
  rss                               ok kib=N              (QEMU's VmRSS)
  wait-rss-below KIB TIMEOUT_S      ok ms=N kib=N
  guest-stats DEVID [TIMEOUT_S]     ok last-update=T stat-free-memory=N ...
      polling interval set to 1 s if it was off; waits for a fresh update
  qom-set PATH PROP VALUE           ok                    (VALUE: JSON or string)
  qom-get PATH PROP                 ok value=JSON

Block devices (the block scenarios, tests/guest/tests/60-block.sh):

  block-resize NODE BYTES           ok size=BYTES
      QMP block_resize of the block node NODE (a -blockdev node-name); the
      guest's disk learns its new capacity by a config change interrupt
  blockstats DEVID                  ok rd_operations=N flush_operations=N ...
      every integer counter query-blockstats has for the device DEVID (its
      backend: QEMU counts each guest request once, whatever the nodes below)
  block-cache DEVID                 ok writeback=0|1 direct=0|1 no-flush=0|1
      the cache mode query-block shows for the device's backend: writeback
      follows the guest's virtio-blk WCE setting (config-wce=on)
  allocated NAME                    ok bytes=N size=N
      host disk space of the scenario's image OUT/NAME.img ("disk NAME ..."
      in NAME.host): st_blocks * 512, and its size; for thin provisioning
  device-del DEVID TIMEOUT_S        ok ms=N
      QMP device_del, then wait for the DEVICE_DELETED event of DEVID: PCI
      hot-unplug through ACPI, so the guest's driver lets go of it first
  qemu-io NODE CMD ARG...           ok [out=TEXT]
      HMP "qemu-io NODE 'CMD ARG...'" on a block node (its node-name; QEMU
      7.2's "qemu-io -d DEVID" finds no backend on a virtio-blk-pci proxy),
      for a blkdebug node at or below it: "break EVENT TAG" suspends the
      next request that reaches EVENT (write_aio, read_aio: emitted by a raw
      format node over blkdebug), "resume TAG" lets it go on, "remove_break
      TAG".  qemu-io's complaints ("Error: ...", "Could not ...") are an
      err.  wait_break is refused: it polls with QEMU's big lock held, so
      under TCG the vCPU that would send the request never runs (seen: the
      guest froze and QMP stopped answering).
      Beware: while a request is suspended, a guest that resets the device
      hangs QEMU for good (virtio_blk_reset drains with the big lock held,
      so the monitor never reads the "resume").

A failed wait replies "err timeout ..." with what was last seen.  Every
request and reply is logged to the log file given to the agent.
"""

import json
import os
import re
import shutil
import socket
import struct
import tempfile
import threading
import time

# Requests that wait on the guest may not take longer than this.
MAX_TIMEOUT_S = 600
POLL_S = 0.002


class AgentError(Exception):
    """A request the agent could not carry out; its text goes to the guest."""


class QMP:
    """A minimal QMP client on a connected stream socket."""

    def __init__(self, sock, timeout=30):
        self.sock = sock
        self.timeout = timeout
        self.buf = b''
        self.events = []
        self.next_id = 0
        sock.settimeout(timeout)
        greeting = self._read()
        if 'QMP' not in greeting:
            raise AgentError('QMP: no greeting (got %r)' % greeting)
        self.cmd('qmp_capabilities')

    def _read(self):
        """One JSON message; events are kept in self.events."""
        while b'\n' not in self.buf:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise AgentError('QMP: no answer in %d s' % self.timeout)
            if not data:
                raise AgentError('QMP: QEMU closed the monitor')
            self.buf += data
        line, _, self.buf = self.buf.partition(b'\n')
        try:
            return json.loads(line.decode('utf-8', 'replace'))
        except ValueError:
            raise AgentError('QMP: unreadable message %r' % line[:200])

    def cmd(self, name, **args):
        """Run one command; its "return" value, or AgentError."""
        self.next_id += 1
        msg = {'execute': name, 'id': self.next_id}
        if args:
            msg['arguments'] = args
        self.sock.sendall(json.dumps(msg).encode() + b'\n')
        while True:
            r = self._read()
            if 'event' in r:
                self.events.append(r)
                del self.events[:-100]
                continue
            if r.get('id') != self.next_id:
                continue
            if 'error' in r:
                raise AgentError('QMP %s: %s' % (
                    name, r['error'].get('desc', r['error'])))
            return r.get('return')

    def wait_event(self, match, timeout):
        """The first event (kept or arriving within timeout seconds) for
        which match(event) is true, taken out of self.events; AgentError
        after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events:
                if match(e):
                    self.events.remove(e)
                    return e
            left = deadline - time.monotonic()
            if left <= 0:
                raise AgentError('timeout after %d s' % timeout)
            self.sock.settimeout(left)
            try:
                r = self._read()
            except AgentError:
                if time.monotonic() < deadline:
                    raise
                continue
            finally:
                self.sock.settimeout(self.timeout)
            if 'event' in r:
                self.events.append(r)
                del self.events[:-100]


def read_rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise AgentError('no VmRSS for pid %d' % pid)


def parse_request(line):
    """(tag, command, [args]) of a request line; tag '' when untagged."""
    words = line.strip().split()
    tag = ''
    if words and words[0].startswith('#'):
        tag = words.pop(0)
    if not words:
        return tag, '', []
    return tag, words[0], words[1:]


def format_reply(tag, ok, text):
    reply = ('ok' if ok else 'err') + (' ' + text if text else '')
    reply = ' '.join(reply.split())         # one line, whatever text held
    return (tag + ' ' + reply if tag else reply) + '\n'


def to_int(word, what, low=0, high=None):
    try:
        v = int(word, 0)
    except ValueError:
        raise AgentError('%s: not a number: %r' % (what, word))
    if v < low or (high is not None and v > high):
        raise AgentError('%s: %d out of range' % (what, v))
    return v


def qom_value(word):
    try:
        return json.loads(word)
    except ValueError:
        return word


class Handler:
    """Carries out requests against one QEMU: its QMP client and its pid.
    Separate from the socket plumbing so it can be tested alone."""

    def __init__(self, qmp, pid, clock=time.monotonic, files_dir=None):
        self.qmp = qmp
        self.pid = pid
        self.clock = clock
        self.files_dir = files_dir      # where the scenario's images are
        self.last_target = None         # (bytes, host time it was sent)

    def handle(self, cmd, args):
        """The reply text of one request (without ok), or AgentError."""
        fn = getattr(self, 'do_' + cmd.replace('-', '_'), None)
        if not cmd or fn is None:
            raise AgentError('unknown command %r' % cmd)
        return fn(*args) if self._arity_ok(fn, args) else None

    @staticmethod
    def _arity_ok(fn, args):
        import inspect
        sig = inspect.signature(fn)
        params = sig.parameters.values()
        need = sum(1 for p in params if p.default is inspect.Parameter.empty
                   and p.kind != p.VAR_POSITIONAL)
        most = (float('inf') if any(p.kind == p.VAR_POSITIONAL
                                    for p in params) else len(params))
        if not need <= len(args) <= most:
            raise AgentError('%s takes %s' % (fn.__name__[3:].replace(
                '_', '-'), ' '.join(p.upper() for p in sig.parameters)))
        return True

    def do_ping(self):
        return 'pong'

    def _balloon(self, value):
        self.qmp.cmd('balloon', value=value)
        self.last_target = (value, self.clock())

    def _actual(self):
        return self.qmp.cmd('query-balloon')['actual']

    def do_balloon(self, nbytes):
        v = to_int(nbytes, 'bytes', 1)
        self._balloon(v)
        return 'target=%d' % v

    def do_query_balloon(self):
        return 'actual=%d' % self._actual()

    def _wait(self, want, timeout_s, since):
        deadline = self.clock() + timeout_s
        while True:
            actual = self._actual()
            now = self.clock()
            if actual == want:
                return 'ms=%d actual=%d' % (round((now - since) * 1000),
                                            actual)
            if now > deadline:
                raise AgentError('timeout after %d ms: actual=%d want=%d' % (
                    round((now - since) * 1000), actual, want))
            time.sleep(POLL_S)

    def do_wait_balloon(self, nbytes, timeout_s):
        want = to_int(nbytes, 'bytes', 1)
        t = to_int(timeout_s, 'timeout', 0, MAX_TIMEOUT_S)
        since = self.clock()
        if self.last_target and self.last_target[0] == want:
            since = self.last_target[1]
        return self._wait(want, t, since)

    def do_balloon_timed(self, nbytes, timeout_s):
        want = to_int(nbytes, 'bytes', 1)
        t = to_int(timeout_s, 'timeout', 0, MAX_TIMEOUT_S)
        self._balloon(want)
        return self._wait(want, t, self.last_target[1])

    def do_balloon_storm(self, b1, b2, ms, count):
        targets = (to_int(b1, 'bytes', 1), to_int(b2, 'bytes', 1))
        period = to_int(ms, 'ms', 0, 10000) / 1000.0
        n = to_int(count, 'count', 1, 100000)
        if period * n > MAX_TIMEOUT_S:
            raise AgentError('storm longer than %d s' % MAX_TIMEOUT_S)
        start = self.clock()
        for i in range(n):
            self._balloon(targets[i % 2])
            # Keep to the schedule: sleep to the next slot, not a period.
            pause = start + (i + 1) * period - self.clock()
            if pause > 0:
                time.sleep(pause)
        return 'sent=%d ms=%d last=%d' % (n, round((self.clock() - start) *
                                                   1000), targets[(n - 1) % 2])

    def do_rss(self):
        return 'kib=%d' % read_rss_kib(self.pid)

    def do_wait_rss_below(self, kib, timeout_s):
        want = to_int(kib, 'kib', 0)
        t = to_int(timeout_s, 'timeout', 0, MAX_TIMEOUT_S)
        start = self.clock()
        while True:
            rss = read_rss_kib(self.pid)
            now = self.clock()
            if rss < want:
                return 'ms=%d kib=%d' % (round((now - start) * 1000), rss)
            if now - start > t:
                raise AgentError('timeout after %d ms: kib=%d want below %d'
                                 % (round((now - start) * 1000), rss, want))
            time.sleep(0.05)

    def _path(self, dev):
        return dev if dev.startswith('/') else '/machine/peripheral/' + dev

    def do_guest_stats(self, dev, timeout_s='10'):
        path = self._path(dev)
        t = to_int(timeout_s, 'timeout', 1, MAX_TIMEOUT_S)
        if not self.qmp.cmd('qom-get', path=path,
                            property='guest-stats-polling-interval'):
            self.qmp.cmd('qom-set', path=path,
                         property='guest-stats-polling-interval', value=1)
        # last-update has 1 s resolution: wait until it moves, so the stats
        # are newer than the request.
        first = self.qmp.cmd('qom-get', path=path, property='guest-stats')
        deadline = self.clock() + t
        while True:
            st = self.qmp.cmd('qom-get', path=path, property='guest-stats')
            if st.get('last-update', 0) > first.get('last-update', 0):
                break
            if self.clock() > deadline:
                raise AgentError('no fresh guest stats in %d s '
                                 '(last-update %s)' % (t, st.get(
                                     'last-update')))
            time.sleep(0.05)
        words = ['last-update=%d' % st['last-update']]
        for k, v in sorted(st.get('stats', {}).items()):
            words.append('%s=%d' % (k, v))
        return ' '.join(words)

    def do_qom_set(self, dev, prop, value):
        self.qmp.cmd('qom-set', path=self._path(dev), property=prop,
                     value=qom_value(value))
        return ''

    def do_qom_get(self, dev, prop):
        v = self.qmp.cmd('qom-get', path=self._path(dev), property=prop)
        return 'value=%s' % json.dumps(v, separators=(',', ':'))

    # ------------------------------------------------------------ block

    def do_block_resize(self, node, nbytes):
        v = to_int(nbytes, 'bytes', 512)
        self.qmp.cmd('block_resize', **{'node-name': node, 'size': v})
        return 'size=%d' % v

    def do_blockstats(self, dev):
        # 7.2 names a -device's backend by its QOM path, e.g.
        # /machine/peripheral/data0/virtio-backend; "device" is empty for
        # -blockdev nodes.
        for e in self.qmp.cmd('query-blockstats'):
            if self._qdev_match(dev, e):
                return ' '.join('%s=%d' % (k, v) for k, v in
                                sorted(e['stats'].items())
                                if isinstance(v, int) and
                                not isinstance(v, bool))
        raise AgentError('no block device %s in query-blockstats' % dev)

    def _qdev_match(self, dev, entry):
        path = self._path(dev).rstrip('/') + '/'
        qdev = (entry.get('qdev') or '').rstrip('/') + '/'
        return qdev.startswith(path) or entry.get('device') == dev

    def do_block_cache(self, dev):
        for e in self.qmp.cmd('query-block'):
            if self._qdev_match(dev, e) and 'inserted' in e:
                c = e['inserted']['cache']
                return 'writeback=%d direct=%d no-flush=%d' % (
                    c['writeback'], c['direct'], c['no-flush'])
        raise AgentError('no block device %s in query-block' % dev)

    def do_allocated(self, name):
        if not self.files_dir:
            raise AgentError('this scenario has no disk images')
        if not re.match(r'^[A-Za-z0-9_][A-Za-z0-9_.-]*$', name):
            raise AgentError('bad image name %r' % name)
        try:
            st = os.stat(os.path.join(self.files_dir, name + '.img'))
        except OSError as e:
            raise AgentError('%s.img: %s' % (name, e.strerror))
        return 'bytes=%d size=%d' % (st.st_blocks * 512, st.st_size)

    def do_device_del(self, dev, timeout_s):
        t = to_int(timeout_s, 'timeout', 1, MAX_TIMEOUT_S)
        # An event of an earlier removal of the same id must not count.
        self.qmp.events = [e for e in self.qmp.events
                           if e.get('event') != 'DEVICE_DELETED']
        start = self.clock()
        self.qmp.cmd('device_del', id=dev)
        try:
            self.qmp.wait_event(
                lambda e: e.get('event') == 'DEVICE_DELETED' and
                e.get('data', {}).get('device') == dev, t)
        except AgentError:
            raise AgentError('no DEVICE_DELETED for %s in %d s (the guest '
                             'did not release it)' % (dev, t))
        return 'ms=%d' % round((self.clock() - start) * 1000)

    def do_qemu_io(self, node, *words):
        if not words:
            raise AgentError('qemu-io takes NODE CMD ARG...')
        if words[0] == 'wait_break':
            raise AgentError('wait_break would hang QEMU (it polls with the '
                             'big lock held); not offered')
        if any(set(w) & set('"\\\'') for w in words):
            raise AgentError('no quotes in qemu-io commands')
        out = self.qmp.cmd('human-monitor-command', **{
            'command-line': 'qemu-io %s "%s"' % (node, ' '.join(words))})
        out = ' '.join((out or '').split())
        if re.search(r'Could not|[Ee]rror|[Uu]nknown|not found|[Ii]nvalid',
                     out):
            raise AgentError(out)
        return 'out=%s' % out if out else ''


class Agent:
    """Listens on two unix sockets for QEMU, then serves the guest's
    requests in a thread until stop().

    agent = Agent(logpath); qemu_args = agent.qemu_args(); agent.start()
    ... run QEMU ...; agent.stop()
    """

    def __init__(self, log, connect_timeout=60, files_dir=None):
        self.logpath = log
        self.files_dir = files_dir      # the scenario's disk images
        self.connect_timeout = connect_timeout
        # Unix socket paths are limited to 107 bytes: keep them short.
        self.dir = tempfile.mkdtemp(prefix='pvg-agent-')
        self.qmp_path = os.path.join(self.dir, 'qmp.sock')
        self.serial_path = os.path.join(self.dir, 'serial.sock')
        self.listeners = []
        for path in (self.qmp_path, self.serial_path):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.listen(1)
            self.listeners.append(s)
        self.conns = []
        self.stopping = False
        self.thread = None
        self.log = open(log, 'w', buffering=1)
        self.error = None
        self.requests = 0

    def qemu_args(self):
        """QEMU arguments: the serial port follows the two file serials of
        pvgtest.boot(), so the guest sees it as ttyS2."""
        return ['-chardev', 'socket,id=pvgagent,path=%s,server=off'
                % self.serial_path,
                '-serial', 'chardev:pvgagent',
                '-chardev', 'socket,id=pvgqmp,path=%s,server=off'
                % self.qmp_path,
                '-mon', 'chardev=pvgqmp,mode=control']

    KERNEL_ARG = 'pvgtest.hostagent=ttyS2'

    def note(self, msg):
        self.log.write('%s %s\n' % (time.strftime('%H:%M:%S'), msg))

    def start(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _accept(self, listener):
        listener.settimeout(1)
        deadline = time.monotonic() + self.connect_timeout
        while not self.stopping:
            try:
                conn, _ = listener.accept()
                self.conns.append(conn)
                return conn
            except socket.timeout:
                if time.monotonic() > deadline:
                    raise AgentError('QEMU did not connect to %s'
                                     % listener.getsockname())
        raise AgentError('stopped')

    def _run(self):
        try:
            qsock = self._accept(self.listeners[0])
            ssock = self._accept(self.listeners[1])
            cred = ssock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                    struct.calcsize('3i'))
            pid = struct.unpack('3i', cred)[0]
            handler = Handler(QMP(qsock), pid, files_dir=self.files_dir)
            self.note('connected to QEMU pid %d' % pid)
            self._serve(ssock, handler)
        except (AgentError, OSError) as e:
            if not self.stopping:
                self.error = str(e)
                self.note('agent stopped: %s' % e)

    def _serve(self, ssock, handler):
        ssock.settimeout(1)
        buf = b''
        while not self.stopping:
            try:
                data = ssock.recv(4096)
            except socket.timeout:
                continue
            if not data:
                self.note('guest port closed')
                return
            buf += data
            while b'\n' in buf:
                raw, _, buf = buf.partition(b'\n')
                line = raw.decode('ascii', 'replace').strip()
                if not line:
                    continue
                tag, cmd, args = parse_request(line)
                if cmd in ('ok', 'err'):
                    continue            # our own reply, echoed back
                self.requests += 1
                start = time.monotonic()
                try:
                    reply = format_reply(tag, True, handler.handle(cmd, args))
                except AgentError as e:
                    reply = format_reply(tag, False, str(e))
                self.note('<- %s' % line)
                self.note('-> %s (%.0f ms)' % (
                    reply.strip(), (time.monotonic() - start) * 1000))
                ssock.sendall(reply.encode('ascii', 'replace'))

    def stop(self):
        self.stopping = True
        for s in self.conns + self.listeners:
            try:
                s.close()
            except OSError:
                pass
        if self.thread:
            self.thread.join(5)
        self.note('%d requests served' % self.requests)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
