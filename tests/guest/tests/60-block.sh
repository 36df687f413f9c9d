#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# virtio-blk: the driver under test against a real QEMU, which the test
# drives through the host agent (scripts/hostagent.py, "host" in ktap.sh):
# block_resize, query-blockstats, device_del, blkdebug breakpoints and the
# host's allocation of the disk images.  Runs when the scenario asks for it:
#   pvgtest.blk=DRIVER   pvblock or virtio_blk: modprobe it; its disks are
#                        pvdX or vdX, found by their serials
# The scenario (tests/scenarios/tcg-blk*) gives four disks, each a raw image
# the host made in the scenario's output directory:
#   pvgtest-data    data0: 4 queues, discard, write-zeroes, config-wce=on
#                   (1 GiB sparse, detect-zeroes=unmap, the host punches holes)
#   pvgtest-ro      ro0: read-only; every sector labelled "pvgtest sector N"
#   pvgtest-debug   dbg0: through blkdebug, which fails reads of sectors
#                   40000 and 60000 with EIO and takes breakpoints
#   pvgtest-remove  rm0: removed (device_del) while fio writes to it
# Generic checks run for both drivers; pvblock's debugfs statistics, fault
# injection and request timeouts only for pvblock (skips for virtio_blk).
. /tests/lib/ktap.sh

drv=$(param blk)
if [ -z "$drv" ]; then
	skip "block" "not asked for by this scenario (pvgtest.blk=)"
	exit 0
fi
# The block tools layer keeps the host's paths.  busybox sh runs its own
# applets before anything in PATH, so util-linux's blkdiscard (busybox's
# has no -z) goes by its full name.
export PATH=/bin:/usr/bin:/usr/sbin
BLKDISCARD=/usr/sbin/blkdiscard
MiB=1048576
BAD1=40000 BAD2=60000            # dbg0's failing sectors (the .qemu file)

pv=
[ "$drv" = pvblock ] && pv=1
# pvcheck DESC CONDITION...: a pvblock-only result; for virtio_blk a skip.
pvcheck() {
	desc=$1
	shift
	if [ -z "$pv" ]; then
		skip "pvblock: $desc" "$drv has no such statistics"
	elif eval "$*"; then
		pass "pvblock: $desc"
	else
		fail "pvblock: $desc" "condition: $*" "$(pvstate)"
	fi
}
# pvstat DISK KEY [QUEUE]: a pvblock counter (device total, or of queue qN).
pvstat() { counter "$2" "/sys/kernel/debug/pvblock/$1/${3:-stats}" 2>/dev/null; }
pvstate() {
	[ -n "$pv" ] || return 0
	for f in /sys/kernel/debug/pvblock/*/stats /sys/kernel/debug/pvblock/*/q[0-9]*; do
		echo "$f: $(tr '\n' ' ' <"$f" 2>/dev/null)"
	done
}
# bstat DEVID KEY: a query-blockstats counter of a device, from the host.
bstat() { host blockstats "$1" && field "$2" "$reply"; }
# alloc NAME: host bytes allocated to the image NAME.img.
alloc() { host allocated "$1" && field bytes "$reply"; }
mib() { echo $(($1 / MiB)); }
mounted() { grep -q " $1 " /proc/mounts; }
# irqs DISK: "vector:count" of each of the disk's virtio interrupt vectors
# but the config one (one a request queue, as virtio_blk asks for them).
irqs() {
	local v
	v=$(basename "$(readlink /sys/block/$1/device)")
	awk -v v="$v-" '
		index($NF, v) == 1 && $NF !~ /config/ {
			n = 0
			for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i
			printf "%s%s:%d", sep, $NF, n; sep = " "
		}' /proc/interrupts
}
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
# waitpid_s PID SECONDS: wait for a background job at most SECONDS (by
# the clock: under TCG a "sleep 0.1" loop runs slow); its exit status, or
# 124 (and it keeps running) when it did not end in time.
waitpid_s() {
	local end=$(($(now_ms) + $2 * 1000))
	while kill -0 "$1" 2>/dev/null; do
		[ "$(now_ms)" -ge $end ] && return 124
		sleep 0.1
	done
	wait "$1"
}
# fio_json FILE SECTION KEY: a number from fio's JSON output (first job;
# the jobs run with group_reporting), SECTION read or write, or "" for the
# job itself (error).
fio_json() {
	awk -v s="$2" -v k="\"$3\"" '
		s == "" && $1 == k { gsub(/[^0-9-]/, "", $3); print $3; exit }
		s != "" && $1 == "\"" s "\"" && $3 == "{" { in_s = 1; next }
		in_s && $1 == k { gsub(/[^0-9]/, "", $3); print $3; exit }' "$1"
}

if ! host_ok; then
	fail "host agent answers" "$reply"
	exit 0
fi
pass "host agent answers"
for t in fio mkfs.ext4 e2fsck resize2fs $BLKDISCARD pvg-uevent pvg-blkio; do
	command -v $t >/dev/null || missing="$missing $t"
done
if [ -n "$missing" ]; then
	fail "block tools in the initramfs" "missing:$missing (NAME.host needs \"initrd block\")"
	exit 0
fi

# The driver: modprobe (nothing else loads it: no udev here), then each
# disk by its serial, named like the driver names its disks.
mods=/lib/modules/$(uname -r)
if ! grep -qE "(^|/)$drv\.ko" $mods/modules.dep $mods/modules.builtin 2>/dev/null; then
	fail "$drv is in this kernel" "not in modules.dep nor modules.builtin"
	exit 0
fi
check "modprobe $drv" modprobe "$drv"
prefix=vd
[ -n "$pv" ] && prefix=pvd
for s in data ro debug remove; do
	d=$(disk_by_serial pvgtest-$s)
	b=$(basename "$(readlink /sys/block/$d/device/driver 2>/dev/null)")
	if [ -n "$d" ] && [ "$b" = "$drv" ] && [ "${d#$prefix}" != "$d" ]; then
		pass "disk pvgtest-$s is $d, driven by $drv"
	else
		fail "disk pvgtest-$s is a ${prefix}X disk driven by $drv" "disk '$d' driver '$b'" \
			"serials: $(for x in /sys/block/*/serial; do echo "$x=$(cat $x)"; done | tr '\n' ' ')"
		exit 0
	fi
	eval "$s=$d"
done
echo "# disks: data=$data ro=$ro debug=$debug remove=$remove"
# A random pattern, 1 MiB, for writes that must not read as zeroes (the
# host's detect-zeroes would turn zeroes into holes).
head -c $MiB /dev/urandom >/tmp/pattern
head -c $MiB /dev/zero >/tmp/zero

# 1. Queues: data0 offers 4, the driver takes one per CPU (2 here).
cpus=$(nproc)
want=4
[ "$cpus" -lt $want ] && want=$cpus
nq=$(ls -d /sys/block/$data/mq/[0-9]* 2>/dev/null | wc -l)
[ "$nq" = $want ] && pass "$data has $nq hardware queues (num-queues=4, $cpus CPUs)" ||
	fail "$data has $want hardware queues (num-queues=4, $cpus CPUs)" "$nq: $(ls /sys/block/$data/mq)"

# 2. fio with crc32c verification: two jobs, each pinned to a CPU and on its
# own half of the disk (so the other's writes cannot spoil its checks),
# random mixed reads and writes, 4-64 KiB, queue depth 16, O_DIRECT.  70% of
# 200 MiB each is written, then all of it read back and checked.
cat >/tmp/verify.fio <<EOF
[global]
filename=/dev/$data
ioengine=libaio
direct=1
iodepth=16
rw=randrw
rwmixread=30
bsrange=4k-64k
verify=crc32c
verify_fatal=1
io_size=200m
size=512m
[cpu0]
cpus_allowed=0
offset=0
[cpu1]
cpus_allowed=1
offset=512m
EOF
iq0=$(irqs $data)
sub0=$(pvstat $data submitted) cmp0=$(pvstat $data completed)
t0=$(now_ms)
fio --output-format=json --group_reporting /tmp/verify.fio >/tmp/fio.json 2>/tmp/fio.err
rc=$?
secs=$((($(now_ms) - t0) / 1000))
err=$(fio_json /tmp/fio.json "" error)
wrote=$(fio_json /tmp/fio.json write io_bytes)
read=$(fio_json /tmp/fio.json read io_bytes)
if [ $rc = 0 ] && [ "$err" = 0 ] && [ "${wrote:-0}" -ge $((256 * MiB)) ]; then
	pass "fio verify: $(mib $wrote) MiB written, $(mib $read) MiB read and checked (crc32c), no error, ${secs} s"
else
	fail "fio verify: at least 256 MiB written and read back without a verify error" \
		"exit $rc, error '$err', written '$wrote' bytes, read '$read'" "$(tail -5 /tmp/fio.err)"
fi
# Each job's CPU maps to its own queue, and each queue completes on its
# own interrupt vector: all of them must have fired.
iq1=$(irqs $data)
moved=0
for v in $iq1; do
	old=$(echo " $iq0" | tr ' ' '\n' | grep "^${v%:*}:" | cut -d: -f2)
	[ "${v##*:}" -gt "${old:-0}" ] && moved=$((moved + 1))
done
[ $moved -ge $want ] && [ $moved = "$(echo $iq1 | wc -w)" ] &&
	pass "every queue's interrupt vector fired during fio ($iq0 -> $iq1)" ||
	fail "every queue's interrupt vector fired during fio" "$iq0 -> $iq1"
pvcheck "submitted and completed grew by fio's requests ($sub0 -> $(pvstat $data submitted))" \
	'[ "$(pvstat $data submitted)" -gt $((sub0 + 8000)) ] && [ "$(pvstat $data completed)" -gt $((cmp0 + 8000)) ]'
pvcheck "inflight is back to 0 after fio" '[ "$(pvstat $data inflight)" = 0 ]'
pvcheck "interrupts counted" '[ "$(pvstat $data interrupts)" -gt 0 ]'
idle=
for q in $(seq 0 $((want - 1))); do
	[ "$(pvstat $data submitted q$q)" -gt 0 ] 2>/dev/null || idle="$idle q$q"
done
pvcheck "every queue submitted requests (q0..q$((want - 1)))" '[ -z "$idle" ]'
pvcheck "the queues' submitted add up to the device's" \
	'[ "$(for q in /sys/kernel/debug/pvblock/$data/q*; do counter submitted $q; done | awk "{ s += \$1 } END { print s }")" = "$(pvstat $data submitted)" ]'

# 3. Thin provisioning on the raw disk: discards reach the host, which
# punches holes in the image; write-zeroes reads back as zeroes.
dmax=$(cat /sys/block/$data/queue/discard_max_bytes)
zmax=$(cat /sys/block/$data/queue/write_zeroes_max_bytes)
[ "${dmax:-0}" -gt 0 ] && [ "${zmax:-0}" -gt 0 ] &&
	pass "discard_max_bytes $dmax, write_zeroes_max_bytes $zmax" ||
	fail "discard_max_bytes and write_zeroes_max_bytes are nonzero" "$dmax, $zmax"
# (QEMU 7.2 does not count virtio-blk discards in query-blockstats: the
# image's allocation is the evidence.)
a0=$(alloc data0)
check "blkdiscard of the whole disk" $BLKDISCARD /dev/$data
a1=$(alloc data0)
[ -n "$a0" ] && [ -n "$a1" ] && [ "$a0" -ge $((200 * MiB)) ] && [ "$a1" -le $((a0 / 20)) ] &&
	pass "the host image shrank from $(mib $a0) to $(mib $a1) MiB" ||
	fail "the host image shrank to at most 5% after fio's writes (200 MiB or more)" "allocated $a0 -> $a1 bytes"
i=0
while [ $i -lt 64 ]; do
	pvg-blkio write /dev/$data $(((128 + i) * MiB)) $MiB /tmp/pattern || break
	i=$((i + 1))
done
a2=$(alloc data0)
[ $i = 64 ] && [ -n "$a2" ] && [ $((a2 - a1)) -ge $((63 * MiB)) ] && [ $((a2 - a1)) -le $((66 * MiB)) ] &&
	pass "64 MiB written at 128 MiB: the host image grew by $(mib $((a2 - a1))) MiB" ||
	fail "64 MiB written at 128 MiB: the host image grew by 64 MiB" "$i MiB written, allocated $a1 -> $a2 bytes"
check "blkdiscard of those 64 MiB" $BLKDISCARD -o $((128 * MiB)) -l $((64 * MiB)) /dev/$data
a3=$(alloc data0)
[ -n "$a3" ] && [ $((a2 - a3)) -ge $((58 * MiB)) ] &&
	pass "the host image shrank by $(mib $((a2 - a3))) of those 64 MiB" ||
	fail "the host image shrank by at least 58 of those 64 MiB" "allocated $a2 -> $a3 bytes"
# BLKZEROOUT over data: 4 MiB at 512 MiB, checked before and after.
ok=1
for i in 0 1 2 3; do
	pvg-blkio write /dev/$data $(((512 + i) * MiB)) $MiB /tmp/pattern || ok=0
done
for i in 0 3; do
	pvg-blkio read /dev/$data $(((512 + i) * MiB)) $MiB | cmp -s - /tmp/pattern || ok=0
done
w0=$(bstat data0 wr_operations)
if [ $ok = 1 ] && $BLKDISCARD -z -o $((512 * MiB)) -l $((4 * MiB)) /dev/$data 2>/tmp/err; then
	bad=
	for i in 0 1 2 3; do
		pvg-blkio read /dev/$data $(((512 + i) * MiB)) $MiB | cmp -s - /tmp/zero || bad="$bad $((512 + i))"
	done
	[ -z "$bad" ] && pass "BLKZEROOUT: 4 MiB that held data read back as zeroes" ||
		fail "BLKZEROOUT: 4 MiB that held data read back as zeroes" "MiB not zero:$bad"
	w1=$(bstat data0 wr_operations)
	[ -n "$w1" ] && [ $((w1 - w0)) -le 8 ] &&
		pass "BLKZEROOUT went to the host as write-zeroes ($((w1 - w0)) write requests, not 4 MiB of zero pages)" ||
		fail "BLKZEROOUT went to the host as write-zeroes" "wr_operations $w0 -> $w1"
else
	fail "BLKZEROOUT: 4 MiB that held data read back as zeroes" "pattern written: $ok; $(cat /tmp/err)"
fi

# 4. ext4: a checksummed tree survives unmount, fsck and remount.
mkdir -p /mnt/data
if check "mkfs.ext4 on $data" mkfs.ext4 -q -F /dev/$data &&
	check "mount $data" mount -t ext4 /dev/$data /mnt/data; then
	n=0
	for dir in 0 1 2 3 4 5 6 7 8 9; do
		mkdir -p /mnt/data/tree/$dir
		for f in $(seq 1 30); do
			head -c $(((n * 7919) % 65536 + 1)) /dev/urandom >/mnt/data/tree/$dir/f$f
			n=$((n + 1))
		done
	done
	(cd /mnt/data && find tree -type f | sort | xargs sha256sum) >/tmp/tree.sha
	check "unmount after writing $n files" umount /mnt/data
	check "e2fsck -fn finds $data clean" e2fsck -fn /dev/$data
	if check "mount $data again" mount -t ext4 /dev/$data /mnt/data; then
		out=$(cd /mnt/data && sha256sum -c /tmp/tree.sha 2>&1)
		[ $? = 0 ] && [ "$(echo "$out" | grep -c ': OK$')" = $n ] &&
			pass "all $n files read back with their checksums" ||
			fail "all $n files read back with their checksums" "$(echo "$out" | grep -v ': OK$' | head -5)"
	fi
fi

# 5. fstrim on the mounted ext4: the blocks of a deleted 64 MiB file go
# back to the host.
if mounted /mnt/data; then
	b0=$(alloc data0)
	i=0
	while [ $i -lt 64 ]; do cat /tmp/pattern; i=$((i + 1)); done >/mnt/data/big
	sync
	b1=$(alloc data0)
	rm /mnt/data/big
	sync
	out=$(fstrim -v /mnt/data 2>&1)
	rc=$?
	b2=$(alloc data0)
	[ -n "$b1" ] && [ $((b1 - b0)) -ge $((63 * MiB)) ] &&
		pass "a 64 MiB file grew the host image by $(mib $((b1 - b0))) MiB" ||
		fail "a 64 MiB file grew the host image by 64 MiB" "allocated $b0 -> $b1 bytes"
	[ $rc = 0 ] && [ -n "$b2" ] && [ $((b1 - b2)) -ge $((58 * MiB)) ] &&
		pass "fstrim after deleting it: the host image shrank by $(mib $((b1 - b2))) MiB ($out)" ||
		fail "fstrim after deleting it: the host image shrank by at least 58 MiB" \
			"fstrim exit $rc: $out" "allocated $b1 -> $b2 bytes"
fi

# 6. The write cache: cache_type follows the device's WCE (config-wce=on),
# the host's backend follows the guest's setting, and flushes reach the
# host only in write back mode.
ct=/sys/block/$data/cache_type
flushes() {
	f0=$(bstat data0 flush_operations)
	dd if=/tmp/pattern of=/mnt/data/flushme bs=64k count=4 conv=fsync 2>/dev/null
	sync
	f1=$(bstat data0 flush_operations)
}
if [ ! -w $ct ]; then
	fail "$ct is writable" "$(ls -l $ct 2>&1)"
elif mounted /mnt/data; then
	c0=$(cat $ct)
	[ "$c0" = "write back" ] && pass "cache_type reads \"write back\"" ||
		fail "cache_type reads \"write back\"" "'$c0'"
	flushes
	[ -n "$f1" ] && [ "$f1" -gt "${f0:-0}" ] &&
		pass "write back: fsync and sync reach the host as flushes ($f0 -> $f1)" ||
		fail "write back: fsync and sync reach the host as flushes" "flush_operations $f0 -> $f1"
	echo "write through" >$ct
	c1=$(cat $ct)
	host block-cache data0
	hc=$(field writeback "$reply")
	[ "$c1" = "write through" ] && [ "$(cat /sys/block/$data/queue/write_cache)" = "write through" ] &&
		[ "$hc" = 0 ] &&
		pass "cache_type set to \"write through\": the queue and the host's backend follow" ||
		fail "cache_type set to \"write through\": the queue and the host's backend follow" \
			"cache_type '$c1', queue/write_cache '$(cat /sys/block/$data/queue/write_cache)', host writeback=$hc"
	flushes
	[ -n "$f1" ] && [ "$f1" = "$f0" ] &&
		pass "write through: no flush reaches the host" ||
		fail "write through: no flush reaches the host" "flush_operations $f0 -> $f1"
	echo "$c0" >$ct
	host block-cache data0
	[ "$(cat $ct)" = "$c0" ] && [ "$(field writeback "$reply")" = 1 ] &&
		pass "cache_type restored to \"$c0\"" ||
		fail "cache_type restored to \"$c0\"" "'$(cat $ct)', host: $reply"
fi

# 7. Resize: the host grows the image under the mounted ext4; the guest
# sees the new size without a reboot, with a change uevent RESIZE=1, and
# resize2fs grows the filesystem online.
if mounted /mnt/data; then
	s0=$(cat /sys/block/$data/size)
	new=$((s0 * 512 + 512 * MiB))
	k0=$(df -k /mnt/data | awk 'NR == 2 { print $2 }')
	rs0=$(pvstat $data resizes)
	rm -f /tmp/uevent.ready
	pvg-uevent -r /tmp/uevent.ready -t 30 ACTION=change DEVNAME=$data RESIZE=1 >/tmp/uevent.out 2>&1 &
	upid=$!
	i=0
	while [ ! -e /tmp/uevent.ready ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	if host block-resize data0 $new; then
		i=0
		while [ "$(cat /sys/block/$data/size)" = "$s0" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		s1=$(cat /sys/block/$data/size)
		[ "$s1" = $((new / 512)) ] &&
			pass "block_resize to $(mib $new) MiB: $data has $s1 sectors after $((i * 100)) ms" ||
			fail "block_resize to $(mib $new) MiB: $data has $((new / 512)) sectors" "size $s0 -> $s1"
		waitpid_s $upid 30 && pass "uevent: $(cat /tmp/uevent.out)" ||
			fail "a change uevent with RESIZE=1 for $data" "$(cat /tmp/uevent.out)"
		if check "resize2fs grows the mounted ext4" resize2fs /dev/$data; then
			k1=$(df -k /mnt/data | awk 'NR == 2 { print $2 }')
			[ "$k1" -gt $((k0 + 400 * 1024)) ] &&
				pass "df shows $((k1 / 1024)) MiB, was $((k0 / 1024)) MiB" ||
				fail "df shows the grown filesystem" "$k0 -> $k1 KiB"
		fi
		pvcheck "resizes counted ($rs0 -> $(pvstat $data resizes))" '[ "$(pvstat $data resizes)" = $((rs0 + 1)) ]'
	else
		fail "block_resize data0 to $(mib $new) MiB" "$reply"
		kill $upid 2>/dev/null
	fi
	check "unmount $data" umount /mnt/data
	check "e2fsck -fn finds the grown filesystem clean" e2fsck -fn /dev/$data
fi

# 8. The read-only disk: the flag, a refused write that never reaches the
# host, and reads of the host's labelled sectors.
[ "$(cat /sys/block/$ro/ro)" = 1 ] && pass "$ro is read-only (/sys/block/$ro/ro)" ||
	fail "$ro is read-only (/sys/block/$ro/ro)" "ro=$(cat /sys/block/$ro/ro)"
w0=$(bstat ro0 wr_operations)
if pvg-blkio write /dev/$ro 4096 4096 /tmp/pattern 2>/tmp/err; then
	fail "a write to $ro fails" "the write succeeded"
else
	pass "a write to $ro fails ($(cat /tmp/err))"
fi
w1=$(bstat ro0 wr_operations)
[ -n "$w1" ] && [ "$w1" = "${w0:-x}" ] && pass "no write reached the host ($w1 write requests)" ||
	fail "no write reached the host" "wr_operations $w0 -> $w1"
# label N: the first line of sector N, read with O_DIRECT.
label() { pvg-blkio read /dev/$ro $(($1 * 512)) 512 2>/dev/null | head -1; }
last=$(($(cat /sys/block/$ro/size) - 1))
bad=
for s in 0 1 4097 12345 $last; do
	[ "$(label $s)" = "pvgtest sector $s" ] || bad="$bad $s:'$(label $s)'"
done
[ -z "$bad" ] && pass "$ro reads back the host's sector labels (0 to $last)" ||
	fail "$ro reads back the host's sector labels" "wrong:$bad"

# 9. Errors: blkdebug fails reads of sectors $BAD1 and $BAD2 with EIO.
# Exactly those fail, their neighbours read, and a filesystem over them
# reports the error to the reader without hanging.  The rules only touch
# reads of these two sectors: the later checks keep away from them.
rd() { timeout 30 pvg-blkio read /dev/$debug $(($1 * 512)) 512 >/dev/null 2>/tmp/err; }
e0=$(pvstat $debug errors)
ok=1 why=
for s in $BAD1 $BAD2; do
	rd $s && { ok=0; why="$why sector $s read;"; }
	grep -q 'Input/output error' /tmp/err || { ok=0; why="$why sector $s: $(cat /tmp/err);"; }
done
[ $ok = 1 ] && pass "reading sectors $BAD1 and $BAD2 fails with EIO" ||
	fail "reading sectors $BAD1 and $BAD2 fails with EIO" "$why"
pvcheck "errors grew by the 2 failed reads ($e0 -> $(pvstat $debug errors))" \
	'[ "$(pvstat $debug errors)" = $((e0 + 2)) ]'
bad=
for s in $((BAD1 - 1)) $((BAD1 + 1)) $((BAD2 - 1)) $((BAD2 + 1)) 0; do
	rd $s || bad="$bad $s"
done
[ -z "$bad" ] && pass "their neighbours read fine" || fail "their neighbours read fine" "failed:$bad"
mkdir -p /mnt/dbg
# 4 KiB blocks: the metadata and the journal take the first 8 MiB
# (sector 16520 on), the bad sectors lie in file data.
if check "mkfs.ext4 on $debug" mkfs.ext4 -q -F -b 4096 -E nodiscard /dev/$debug &&
	check "mount $debug" mount -t ext4 /dev/$debug /mnt/dbg; then
	# Files of 1 MiB until the filesystem is full: two of them hold the
	# failing sectors.
	n=0
	while dd if=/dev/zero of=/mnt/dbg/f$n bs=1M count=1 conv=fsync 2>/dev/null; do n=$((n + 1)); done
	umount /mnt/dbg && mount -t ext4 /dev/$debug /mnt/dbg # empty the page cache
	t0=$(now_ms)
	failed= hung= nf=0 neio=0
	for f in $(seq 0 $n); do
		[ -e /mnt/dbg/f$f ] || continue
		timeout 60 cat /mnt/dbg/f$f >/dev/null 2>/tmp/err
		case $? in
		0) ;;
		124 | 143) hung="$hung f$f" ;;
		*)
			nf=$((nf + 1))
			grep -q 'Input/output error' /tmp/err && neio=$((neio + 1))
			failed="$failed f$f: $(cat /tmp/err);"
			;;
		esac
	done
	secs=$((($(now_ms) - t0) / 1000))
	[ -z "$hung" ] && [ $nf = 2 ] && [ $neio = 2 ] &&
		pass "ext4 on $debug: reading its $n files, the 2 over the bad sectors fail with EIO (${secs} s)" ||
		fail "ext4 on $debug: reading its $n files, the 2 over the bad sectors fail with EIO" \
			"failed:$failed" "hung:$hung" "$(dmesg | grep -i 'error' | tail -3)"
	dmesg | grep -qE "I/O error, dev $debug, sector" &&
		pass "the kernel logged the I/O errors of $debug" ||
		fail "the kernel logged the I/O errors of $debug" "$(dmesg | tail -3)"
	check "unmount $debug" umount /mnt/dbg
fi

# 10. pvblock's fault injection: a device marked broken is reset and the
# I/O in flight retried; bad status bytes fail exactly N requests.
if [ -z "$pv" ]; then
	skip "pvblock: inject_break resets the device, fio still verifies" "$drv has no fault injection"
	skip "pvblock: inject_status fails exactly the next requests with EIO" "$drv has no fault injection"
elif [ ! -w /sys/kernel/debug/pvblock/$data/inject_break ]; then
	fail "pvblock: debugfs fault injection (inject_break, inject_status)" "$(ls /sys/kernel/debug/pvblock/$data 2>&1)"
else
	# The writes are held to 16 MiB/s so that fio is still writing when
	# the break lands: unthrottled, 64 MiB can be done before it does.
	r0=$(pvstat $data resets) s0=$(pvstat $data submitted)
	fio --name=brk --filename=/dev/$data --ioengine=libaio --direct=1 --iodepth=16 \
		--rw=randwrite --bs=16k --size=64m --rate=,16m --verify=crc32c --verify_fatal=1 \
		--output-format=json >/tmp/brk.json 2>/tmp/brk.err &
	fpid=$!
	i=0
	while [ "$(pvstat $data submitted)" -lt $((s0 + 64)) ] && kill -0 $fpid 2>/dev/null &&
		[ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 $fpid 2>/dev/null &&
		pass "pvblock: break injected while fio writes ($(($(pvstat $data submitted) - s0)) requests in)" ||
		fail "pvblock: break injected while fio writes" "fio had already exited" "$(tail -3 /tmp/brk.err)"
	echo 1 >/sys/kernel/debug/pvblock/$data/inject_break
	waitpid_s $fpid 120
	rc=$?
	[ $rc = 0 ] && [ "$(fio_json /tmp/brk.json "" error)" = 0 ] &&
		pass "pvblock: fio verifies across an injected break (exit 0)" ||
		fail "pvblock: fio verifies across an injected break" "exit $rc" "$(tail -3 /tmp/brk.err)"
	pvcheck "inject_break: resets grew ($r0 -> $(pvstat $data resets))" '[ "$(pvstat $data resets)" -gt "${r0:-0}" ]'
	pvcheck "inflight is back to 0 after the reset" '[ "$(pvstat $data inflight)" = 0 ]'
	b0=$(pvstat $ro bad_status)
	echo 3 >/sys/kernel/debug/pvblock/$ro/inject_status
	nf=0
	for s in 10 20 30 40; do
		pvg-blkio read /dev/$ro $((s * 512)) 512 >/dev/null 2>&1 || nf=$((nf + 1))
	done
	[ $nf = 3 ] && [ "$(label 40)" = "pvgtest sector 40" ] &&
		pass "pvblock: inject_status 3 fails exactly the next 3 reads" ||
		fail "pvblock: inject_status 3 fails exactly the next 3 reads" "$nf of 4 failed"
	pvcheck "bad_status grew by 3 ($b0 -> $(pvstat $ro bad_status))" '[ "$(pvstat $ro bad_status)" = $((b0 + 3)) ]'
fi

# 11. Request timeouts (pvblock): blkdebug suspends a write at the host;
# with io_timeout at 2 s the request must fail within 10 s (one re-arm,
# then EIO), and the host's late completion is counted and ignored.
if [ -z "$pv" ]; then
	skip "timeouts: a request the host never completes fails with EIO" "virtio_blk has no timeout handler"
else
	# (The block layer shows io_timeout only for drivers with a timeout
	# handler: virtio_blk has none.)
	tmo=/sys/block/$debug/queue/io_timeout
	old=$(cat $tmo)
	echo 2000 >$tmo
	[ "$(cat $tmo)" = 2000 ] && pass "timeouts: io_timeout of $debug set to 2000 ms (was $old)" ||
		fail "timeouts: io_timeout of $debug set to 2000 ms" "reads '$(cat $tmo 2>&1)'"
	t0c=$(pvstat $debug timeouts) a0c=$(pvstat $debug aborted) l0c=$(pvstat $debug late)
	if host qemu-io dbg0 break write_aio pvgtmo; then
		t0=$(now_ms)
		pvg-blkio write /dev/$debug $((1000 * 4096)) 4096 /tmp/pattern 2>/tmp/tmo.err &
		dpid=$!
		waitpid_s $dpid 15
		rc=$?
		ms=$(($(now_ms) - t0))
		if [ $rc = 124 ]; then
			fail "timeouts: the suspended write fails within 15 s" "still waiting after $ms ms"
		elif [ $rc != 0 ] && grep -q 'Input/output error' /tmp/tmo.err; then
			pass "timeouts: the suspended write failed with EIO after $ms ms"
		else
			fail "timeouts: the suspended write fails with EIO" "exit $rc after $ms ms: $(cat /tmp/tmo.err)"
		fi
		pvcheck "timeouts and aborted counted" \
			'[ "$(pvstat $debug timeouts)" -gt "${t0c:-0}" ] && [ "$(pvstat $debug aborted)" -gt "${a0c:-0}" ]'
		host qemu-io dbg0 resume pvgtmo && pass "host resumed the suspended write" ||
			fail "host resumed the suspended write" "$reply"
		[ $rc = 124 ] && waitpid_s $dpid 30
		i=0
		while [ "$(pvstat $debug late)" = "$l0c" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		pvcheck "the late completion is counted ($l0c -> $(pvstat $debug late))" \
			'[ "$(pvstat $debug late)" -gt "${l0c:-0}" ]'
		check "$debug works after the timeout (fio verify, 8 MiB)" \
			fio --name=after --filename=/dev/$debug --ioengine=libaio --direct=1 --iodepth=8 \
			--rw=randwrite --bs=4k --size=8m --verify=crc32c --verify_fatal=1
	else
		fail "timeouts: host sets a blkdebug breakpoint on write_aio" "$reply"
	fi
	echo "$old" >$tmo
fi

# 12. Surprise removal: QEMU unplugs rm0 (device_del, ACPI) while fio
# writes to it.  fio must end with errors, not hang; the disk goes away and
# the guest keeps working.
fio --name=rm --filename=/dev/$remove --ioengine=libaio --direct=1 --iodepth=16 \
	--rw=randwrite --bs=16k --time_based --runtime=120 --output-format=json \
	>/tmp/rm.json 2>/tmp/rm.err &
fpid=$!
sleep 3
if ! kill -0 $fpid 2>/dev/null; then
	fail "fio runs on $remove before the removal" "$(tail -3 /tmp/rm.err)"
elif host device-del rm0 60; then
	pass "host removed rm0 during fio (DEVICE_DELETED after $(field ms "$reply") ms)"
	t0=$(now_ms)
	waitpid_s $fpid 30
	rc=$?
	ms=$(($(now_ms) - t0))
	if [ $rc = 124 ]; then
		fail "fio ends after the removal" "still running $ms ms later"
		kill -9 $fpid
	elif [ $rc != 0 ]; then
		pass "fio ended with errors $ms ms after the removal (exit $rc: $(grep -m1 -i error /tmp/rm.err | cut -c1-100))"
	else
		fail "fio ends with errors after the removal" "exit 0"
	fi
	[ ! -e /sys/block/$remove ] && pass "$remove is gone from /sys/block" ||
		fail "$remove is gone from /sys/block" "$(ls /sys/block)"
else
	fail "host removed rm0 during fio" "$reply"
	kill $fpid
fi
check "the guest keeps working: fio verify on $data after the removal" \
	fio --name=alive --filename=/dev/$data --ioengine=libaio --direct=1 --iodepth=8 \
	--rw=randwrite --bs=4k --size=8m --verify=crc32c --verify_fatal=1

# 13. Polled I/O: the driver reloaded with one poll queue (both drivers
# take poll_queues=), io_uring with IOPOLL on the data disk.  This is also
# a module unload with every disk in use before.
for m in $(awk -v p="/dev/$prefix" 'index($1, p) == 1 { print $2 }' /proc/mounts); do
	umount "$m"
done
if check "rmmod $drv and modprobe $drv poll_queues=1" \
	sh -c "rmmod $drv && modprobe $drv poll_queues=1"; then
	i=0
	while [ -z "$(disk_by_serial pvgtest-data)" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	data=$(disk_by_serial pvgtest-data)
	p0=$(pvstat $data polled)
	poll=$(cat /sys/block/$data/queue/io_poll 2>/dev/null)
	[ "$poll" = 1 ] && pass "$data takes polled I/O (queue/io_poll 1)" ||
		fail "$data takes polled I/O" "queue/io_poll '$poll'"
	if fio --name=poll --filename=/dev/$data --ioengine=io_uring --hipri --direct=1 \
		--iodepth=8 --rw=randread --bs=4k --size=64m --time_based --runtime=2 \
		--output-format=json >/tmp/poll.json 2>/tmp/poll.err &&
		[ "$(fio_json /tmp/poll.json "" error)" = 0 ]; then
		pass "fio io_uring with IOPOLL: $(fio_json /tmp/poll.json read total_ios) reads"
	else
		fail "fio io_uring with IOPOLL" "$(tail -3 /tmp/poll.err)"
	fi
	pvcheck "polled completions counted (${p0:-0} -> $(pvstat $data polled))" \
		'[ "$(pvstat $data polled)" -gt "${p0:-0}" ]'
fi

# 14. Kernel reports.
r=$(dmesg | grep -E 'BUG:|Oops|WARNING:|blocked for more than|Call Trace:' | head -5)
[ -z "$r" ] && pass "dmesg has no BUG, Oops, WARNING or hung task" ||
	fail "dmesg has no BUG, Oops, WARNING or hung task" "$r"
echo "# $(pvstate | tr '\n' ' ')"
