#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Block benchmark, run by run.sh for the suite "block"
# (scripts/bench-block.py boots the same kernel once per driver,
# alternating).  The host gives the guest two virtio-blk disks, found here
# by serial: bench-raw (a raw file in host tmpfs) and bench-null (QEMU's
# null-co backend, which costs the host next to nothing: what is left is
# the driver's and the virtio path's own cost).  The guest loads the
# driver under test, binds both disks to it, sets their I/O scheduler, and
# pvgtest.runs times runs these fio jobs on each disk (libaio, direct=1,
# time based, each after a ramp whose I/O is not counted):
#   4k random read QD1:    BENCH <disk>_randread_qd1_p50 us N
#                          BENCH <disk>_randread_qd1_p99 us N
#                          (total latency, submission to completion)
#   4k random read QD32:   BENCH <disk>_randread_qd32 iops N
#   4k random write QD32:  BENCH <disk>_randwrite_qd32 iops N
#   128k sequential read QD8:   BENCH <disk>_read_128k_qd8 mb_per_s N
#   128k sequential write QD8:  BENCH <disk>_write_128k_qd8 mb_per_s N
# where <disk> is raw or null; "BENCH error block: ..." for anything that
# did not work.  Each run checks that the disk's own counters moved at
# least the bytes fio reports, so the driver under test did the I/O.
# fio comes from the block tools layer the host appends to the initramfs.
#
# Kernel parameters:
#   pvgtest.blkbench=DRIVER   virtio_blk or pvblock
#   pvgtest.runs=N            measured runs (default 5)
#   pvgtest.blk_secs=N        seconds a job measures (default 4)
#   pvgtest.blk_ramp=T        fio ramp_time before each job, in fio's
#                             units (default 250ms)
#   pvgtest.blk_warmup=T      length of each job of a warm-up run on the
#                             first disk, not reported, in fio's units
#                             (default 500ms; 0: none)
#   pvgtest.blk_disks=a,b     subset of raw,null (default both)
#   pvgtest.blk_cpus=LIST     run fio on these CPUs only (fio cpus_allowed;
#                             default: wherever the scheduler puts it)
#   pvgtest.blk_sched=S       I/O scheduler to set on both disks (default
#                             none: the same block layer work whatever
#                             number of queues a driver asks for; "keep"
#                             leaves the kernel's choice)
. /tests/lib/ktap.sh

runs=$(param runs)
runs=${runs:-5}
drv=$(param blkbench)
secs=$(param blk_secs)
secs=${secs:-4}
ramp=$(param blk_ramp)
ramp=${ramp:-250ms}
disks=$(param blk_disks | tr ',' ' ')
disks=${disks:-raw null}
sched=$(param blk_sched)
sched=${sched:-none}
cpus=$(param blk_cpus)
warmup=$(param blk_warmup)
warmup=${warmup:-500ms}
errors=0

error() {
	echo "BENCH error block: $*"
	echo "pvg-bench: error: block: $*" >&2
	errors=$((errors + 1))
}

# sectors DISK: sectors read plus written so far (/sys/block/DISK/stat).
sectors() { awk '{ print $3 + $7 }' "/sys/block/$1/stat"; }

# jobfile DISK SECS RAMP: fio's job file for one run on /dev/DISK, the
# five jobs one after the other (stonewall), each after its own ramp.  One
# fio start a run: under TCG, loading fio and its libraries takes about a
# second.
jobfile() {
	cat <<EOF
[global]
filename=/dev/$1
ioengine=libaio
direct=1
time_based
runtime=$2
ramp_time=$3
norandommap
randrepeat=0
disk_util=0
lat_percentiles=1
percentile_list=50:99
stonewall
${cpus:+cpus_allowed=$cpus}
[randread_qd1]
rw=randread
bs=4k
iodepth=1
[randread_qd32]
rw=randread
bs=4k
iodepth=32
[randwrite_qd32]
rw=randwrite
bs=4k
iodepth=32
[read_128k_qd8]
rw=read
bs=128k
iodepth=8
[write_128k_qd8]
rw=write
bs=128k
iodepth=8
EOF
}

# The BENCH lines of one run from fio's terse (v3) lines, one a job:
# field 3 job name, 5 error, 6/47 KiB read/written, 7/48 read/write KiB/s,
# 8/49 read/write IOPS, 18-37 read total-latency percentiles (usec, as
# "50.000000%=N").  "ERROR ..." lines for what is missing or wrong, and
# "KIB N": the KiB fio moved in the measured parts.
TERSE='
$1 == "3" {
	if ($5 != 0) print "ERROR " $3 ": fio error " $5
	kib += $6 + $47
	if ($3 == "randread_qd1") {
		for (i = 18; i < 38; i++) {
			split($i, kv, "=")
			if (kv[1] == "50.000000%") v["randread_qd1_p50 us"] = kv[2]
			if (kv[1] == "99.000000%") v["randread_qd1_p99 us"] = kv[2]
		}
		qd1_iops = $8
	}
	if ($3 == "randread_qd32") v["randread_qd32 iops"] = $8
	if ($3 == "randwrite_qd32") v["randwrite_qd32 iops"] = $49
	if ($3 == "read_128k_qd8") v["read_128k_qd8 mb_per_s"] = sprintf("%.1f", $7 * 1.024 / 1000)
	if ($3 == "write_128k_qd8") v["write_128k_qd8 mb_per_s"] = sprintf("%.1f", $48 * 1.024 / 1000)
}
END {
	n = split("randread_qd1_p50 us,randread_qd1_p99 us,randread_qd32 iops," \
		"randwrite_qd32 iops,read_128k_qd8 mb_per_s,write_128k_qd8 mb_per_s", keys, ",")
	for (i = 1; i <= n; i++) {
		if (v[keys[i]] + 0 <= 0)
			print "ERROR no " keys[i] " (\"" v[keys[i]] "\")"
		else
			print "BENCH " d "_" keys[i] " " v[keys[i]]
	}
	print "INFO " d " randread_qd1 iops " qd1_iops
	print "KIB " kib + 0
}'

# run_disk NAME DISK: one run of the jobs on DISK; its BENCH lines are
# printed only when all of them worked (so every metric has as many values
# as runs) and the disk's own counters moved at least the bytes fio
# reports (so the driver under test did the I/O).
run_disk() {
	local before after out kib moved
	before=$(sectors "$2")
	if ! fio --output-format=terse "/tmp/block-$1.fio" >/tmp/fio.out 2>/tmp/fio.err; then
		error "$1 ($2): fio failed: $(tail -3 /tmp/fio.err | tr '\n' ' ')"
		return 1
	fi
	after=$(sectors "$2")
	out=$(awk -F';' -v d="$1" "$TERSE" /tmp/fio.out)
	if echo "$out" | grep -q '^ERROR '; then
		error "$1 ($2): $(echo "$out" | sed -n 's/^ERROR //p' | tr '\n' ' ')" \
			"$(tail -3 /tmp/fio.err | tr '\n' ' ')"
		return 1
	fi
	kib=$(echo "$out" | sed -n 's/^KIB //p')
	moved=$(((after - before) / 2))
	if [ "$moved" -lt "$kib" ]; then
		error "$1 ($2): the disk moved $moved KiB, fio says $kib"
		return 1
	fi
	echo "$out" | sed -n -e 's/^BENCH /pvg-bench: block: /p' \
		-e 's/^INFO /pvg-bench: block: /p' >&2
	echo "$out" | grep '^BENCH '
}

if [ -z "$drv" ]; then
	error "no driver named (pvgtest.blkbench=)"
	exit 1
fi
if ! command -v fio >/dev/null; then
	error "no fio in this initramfs"
	exit 1
fi
if ! virtio_use "$drv" 0x0002 virtio-blk; then
	error "$reply"
	exit 1
fi
names=
for d in $disks; do
	if ! dev=$(disk_by_serial "bench-$d"); then
		error "no disk with serial bench-$d (serials: $(cat /sys/block/*/serial 2>/dev/null | tr '\n' ' '))"
		exit 1
	fi
	cur=$(basename "$(readlink "/sys/block/$dev/device/driver" 2>/dev/null)")
	if [ "$cur" != "$drv" ]; then
		error "$dev (bench-$d) is driven by '$cur', not $drv"
		exit 1
	fi
	if [ "$sched" != keep ] && ! echo "$sched" >"/sys/block/$dev/queue/scheduler"; then
		error "$dev: cannot set the I/O scheduler to $sched"
		exit 1
	fi
	# Which CPUs submit to which hardware queue: blk-mq lists only the
	# queues some CPU maps to.
	map=
	for q in /sys/block/$dev/mq/*; do
		map="$map${map:+/}${q##*/}:$(cat "$q/cpu_list")"
	done
	echo "BENCH info block $d $dev driver=$drv queues=$(ls "/sys/block/$dev/mq" | wc -l)" \
		"cpus=$(echo "$map" | tr -d ' ')" \
		"scheduler=$(sed 's/.*\[\(.*\)\].*/\1/' "/sys/block/$dev/queue/scheduler")" \
		"size_mib=$(($(cat "/sys/block/$dev/size") / 2048))"
	jobfile "$dev" "$secs" "$ramp" >"/tmp/block-$d.fio"
	names="$names $d=$dev"
done

# Warm-up: the first run of a boot is slower than the next ones (by a
# quarter for QD1 latency here), more than the ramp absorbs.
case $warmup in 0 | 0ms | 0s) warmup= ;; esac
if [ -n "$warmup" ]; then
	nd=${names# }
	nd=${nd%% *}
	echo "pvg-bench: block: warm-up, $warmup jobs on ${nd#*=}" >&2
	jobfile "${nd#*=}" "$warmup" 0 >/tmp/block-warmup.fio
	if ! fio --output-format=terse /tmp/block-warmup.fio >/tmp/fio.out 2>/tmp/fio.err; then
		error "warm-up: fio failed: $(tail -3 /tmp/fio.err | tr '\n' ' ')"
		exit 1
	fi
fi
echo "pvg-bench: block: $drv, $runs runs of ${secs} s jobs (ramp $ramp):$names" >&2
i=0
while [ $i -lt "$runs" ]; do
	i=$((i + 1))
	for nd in $names; do
		run_disk "${nd%=*}" "${nd#*=}" || break 2
	done
done
[ $errors -eq 0 ]
