#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# virtio-balloon without DEFLATE_ON_OOM: memory in the balloon is no longer
# the guest's, so MemTotal must shrink by exactly what the balloon holds
# and come back when it deflates or the driver lets go (the accounting the
# stock driver does, and the path 50-balloon.sh, which runs with
# deflate-on-oom=on, never takes).  Runs when the scenario asks for it:
#   pvgtest.balloon_total=DRIVER   the driver to load and bind
. /tests/lib/ktap.sh

drv=$(param balloon_total)
if [ -z "$drv" ]; then
	skip "balloon-total" "not asked for by this scenario (pvgtest.balloon_total=)"
	exit 0
fi
MiB=1048576
D=/sys/bus/virtio/drivers

host_ok || { fail "host agent answers" "$reply"; exit 0; }
balloon_use "$drv" || { fail "$drv drives the balloon device" "$reply"; exit 0; }
pass "$reply"
dev=$balloon_dev
feat=$(cat /sys/bus/virtio/devices/$dev/features)
[ "$(echo "$feat" | cut -c3)" = 0 ] &&
	pass "DEFLATE_ON_OOM not negotiated (feature bit 2)" ||
	fail "DEFLATE_ON_OOM not negotiated (feature bit 2)" "features $feat"

ram=$(balloon_actual)
t0=$(mem MemTotal)
i0=$(vmev balloon_inflate)
take=$((256 * MiB))
if host balloon-timed $((ram - take)) 90; then
	pass "inflated by 256 MiB in $(field ms "$reply") ms (host time)"
else
	fail "inflated by 256 MiB" "$reply"
	exit 0
fi
t1=$(mem MemTotal)
[ $((t0 - t1)) = $((take / 1024)) ] &&
	pass "MemTotal fell by exactly 256 MiB ($t0 -> $t1 KiB)" ||
	fail "MemTotal fell by exactly 256 MiB" "$t0 -> $t1 KiB"
[ $(($(vmev balloon_inflate) - i0)) = $((take / 4096)) ] &&
	pass "vmstat balloon_inflate grew by 65536 pages" ||
	fail "vmstat balloon_inflate grew by 65536 pages" "$i0 -> $(vmev balloon_inflate)"
if [ "$drv" = pvballoon ]; then
	s=$(cat $D/$drv/$dev/pvballoon/size_bytes)
	[ "$s" = $take ] && pass "pvballoon: size_bytes is 256 MiB" ||
		fail "pvballoon: size_bytes is 256 MiB" "size_bytes=$s"
fi

# Deflating by a size that is not a whole number of 2 MiB chunks: the
# balloon splits a chunk, and MemTotal follows to the page.
if host balloon-timed $((ram - take + 5 * MiB + 4096)) 90; then
	t2=$(mem MemTotal)
	[ $((t2 - t1)) = $(((5 * MiB + 4096) / 1024)) ] &&
		pass "deflating 5 MiB + 4 KiB gives MemTotal back to the page ($t1 -> $t2 KiB)" ||
		fail "deflating 5 MiB + 4 KiB gives MemTotal back to the page" "$t1 -> $t2 KiB"
else
	fail "deflated by 5 MiB + 4 KiB" "$reply"
fi

host balloon-timed "$ram" 90 && [ "$(mem MemTotal)" = "$t0" ] &&
	pass "deflated: MemTotal is back to $t0 KiB" ||
	fail "deflated: MemTotal is back to $t0 KiB" "$reply" "MemTotal $(mem MemTotal) KiB"

# Unbinding while inflated gives every page back, total included.
if host balloon-timed $((ram - take)) 90; then
	echo "$dev" >$D/$drv/unbind
	bi=$(vmev balloon_inflate) bd=$(vmev balloon_deflate)
	[ "$(mem MemTotal)" = "$t0" ] && [ "$bi" = "$bd" ] &&
		pass "unbind while inflated: MemTotal back to $t0 KiB, balloon_inflate = balloon_deflate" ||
		fail "unbind while inflated: MemTotal back, every page deflated" \
			"MemTotal $(mem MemTotal) KiB, balloon_inflate $bi, balloon_deflate $bd"
	echo "$dev" >$D/$drv/bind
	host wait-balloon $((ram - take)) 90 && [ $(($(mem MemTotal) + take / 1024)) = "$t0" ] &&
		pass "rebound: inflated again, MemTotal down by 256 MiB again" ||
		fail "rebound: inflated again, MemTotal down by 256 MiB again" "$reply" "MemTotal $(mem MemTotal) KiB"
	host balloon-timed "$ram" 90 || fail "deflated at the end" "$reply"
else
	fail "inflated by 256 MiB before unbinding" "$reply"
fi
