#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# KUnit suites built into the kernel ran at boot; report every test case
# from /sys/kernel/debug/kunit/<suite>/results.  pvgtest.kunit=S1,S2 names
# suites that must be there.
. /tests/lib/ktap.sh

k=/sys/kernel/debug/kunit
if [ ! -d $k ]; then
	skip "kunit" "kernel built without CONFIG_KUNIT_DEBUGFS"
	exit 0
fi
for s in $(param kunit | tr ',' ' '); do
	[ -r $k/$s/results ] && pass "suite $s is built in" ||
		fail "suite $s is built in" "suites: $(ls $k | tr '\n' ' ')"
done
for dir in $k/*/; do
	suite=$(basename "$dir")
	# Test cases are the results indented one level; the last, unindented
	# line is the suite's own result.
	grep -E '^[[:space:]]+(not )?ok [0-9]+ ' "$dir/results" | while read -r st rest; do
		case "$st" in
		ok) desc=${rest#* }; case "$desc" in
			*"# SKIP"*) skip "$suite: ${desc%% #*}" "${desc#*# SKIP}" ;;
			*) pass "$suite: $desc" ;;
			esac ;;
		not) desc=${rest#ok * }; fail "$suite: $desc" \
			"$(grep -B8 "not ok [0-9]* $desc\$" "$dir/results" | grep '#' | tail -6)" ;;
		esac
	done
	tail -1 "$dir/results" | grep -q "^ok " || fail "$suite: suite result" "$(tail -1 "$dir/results")"
done
