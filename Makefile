# SPDX-License-Identifier: GPL-2.0
#
# pvguest: build, boot and test a hypervisor-aware guest kernel made from
# Debian's linux-source packages plus the series in patches/<base>/.
#
#   make run     install what is missing, build, boot the guest, show pvguest
#   make check   every test, on both bases (BASE=... for one)
#   make deb     Debian packages of the pvguest kernel
#   make image   a bootable Debian 12 disk image with that kernel
#   make bench   benchmarks: pvguest against stock and nopv, pvballoon against
#                virtio_balloon and the host floor, pvblock against
#                virtio_blk; JSON results
#   make help    everything else

BASE    ?= 6.12
ACCEL   ?= auto
CONFIG  ?= guest
GATES   ?= all
# Where make bench writes its JSON results (one file per suite) and where
# make export looks for the table of its cover letter.
BENCH_OUT ?= out/bench/$(BASE)
# Which benchmarks make bench runs: ipi (paravirt operations, under KVM,
# scripts/bench.py), balloon (pvballoon, under TCG,
# scripts/bench-balloon.py) and block (pvblock, fio under TCG,
# scripts/bench-block.py), comma separated.
BENCH   ?= ipi,balloon,block
# How many times make bench BENCH=ipi boots a nested guest again after a
# silent stop or a failed L1 (scripts/bench.py --retries; unset, as often
# as make check does).
BENCH_RETRIES ?=
# make bench BENCH=ipi BENCH_CONTROL=1 boots pvguest twice a cycle and
# prints the ratio between the two boots (scripts/bench.py --control).
BENCH_CONTROL ?=
# make deb: the kernel config packaged, guest (small: guest.config plus
# image.config) or debian (Debian's own config plus our options: every
# driver Debian ships, an hour or more on 2 cores).
CONFIG_SOURCE ?= guest
DEB_OUT ?= out/deb/$(BASE)
# make image: disk size, raw or qcow2, root's password (empty: root logs in
# on the console without one, for test machines only) and the output path.
# make run IMAGE=path boots an image instead of the test kernel.
IMAGE_SIZE     ?= 2G
IMAGE_FORMAT   ?= raw
IMAGE_PASSWORD ?=
IMAGE_OUT      ?= out/image/pvguest-$(BASE).$(IMAGE_FORMAT)
IMAGE          ?=
comma := ,
# make check runs both bases unless BASE is given on the command line.
CHECK_BASES := $(if $(filter command line environment,$(origin BASE)),$(BASE),6.1 6.12)

S := scripts
PY := python3

.PHONY: all run check bench deps deb image refresh refresh-check tree build export \
	nested selftest clean distclean help

all: help

help:
	@echo 'pvguest targets:'
	@echo '  make run      build the $$(CONFIG) kernel for $$(BASE), boot it, show the pvguest report'
	@echo '  make check    all tests on both bases (or BASE=...), ends with "N passed, N failed"'
	@echo '  make bench    benchmark $$(BASE): BENCH=ipi boots it as pvguest, stock (pvguest=off)'
	@echo '                and nopv; BENCH=balloon compares pvballoon, virtio_balloon and the'
	@echo '                host floor; BENCH=block runs fio on pvblock and virtio_blk;'
	@echo '                prints tables, writes one JSON file per suite into $$(BENCH_OUT)'
	@echo '  make deb      Debian packages (bindeb-pkg) of the $$(BASE) kernel, release *-pvguest,'
	@echo '                into $$(DEB_OUT); CONFIG_SOURCE=guest (small) or debian (slow)'
	@echo '  make image    bootable Debian 12 disk image with that package, into $$(IMAGE_OUT)'
	@echo '                (needs root); make run IMAGE=path boots it'
	@echo '  make refresh  regenerate the patches that add our files (patches/gen/*.msg)'
	@echo '  make tree     fetch linux-source-$$(BASE) and apply the series at fuzz 0'
	@echo '  make build    build the $$(CONFIG) kernel (guest or test) for $$(BASE)'
	@echo '  make nested   build the nested-KVM L1 image (Debian cloud kernel + QEMU)'
	@echo '  make clean    remove build trees and logs; make distclean also the cache'
	@echo '  make export   write the $$(BASE) series for mailing into out/export/$$(BASE)'
	@echo 'variables: BASE=6.1|6.12 (default 6.12)  ACCEL=auto|kvm|tcg|nested  CONFIG=guest|test'
	@echo '           ONLY=scenario,...  GATES=all|none|lint,apply,export,distro,bisect'
	@echo '           BENCH=ipi,balloon,block (default all)  BENCH_OUT=dir (default out/bench/$$(BASE))'
	@echo '           BENCH_RETRIES=n (boots again after a silent nested stop; default as make check, 5)'
	@echo '           BENCH_CONTROL=1 (BENCH=ipi boots pvguest twice a cycle: an A/A control)'
	@echo '           CONFIG_SOURCE=guest|debian  IMAGE_SIZE=2G  IMAGE_FORMAT=raw|qcow2'
	@echo '           IMAGE_PASSWORD=...  IMAGE_OUT=path  IMAGE=path (for make run)'

deps:
	@$(S)/deps.sh build run check

run: deps
ifneq ($(IMAGE),)
	@$(S)/deps.sh image
	@$(PY) $(S)/image-boot.py run --accel $(ACCEL) $(IMAGE)
else
	@$(PY) $(S)/pvgtest.py run --base $(BASE) --accel $(ACCEL) --config $(CONFIG)
endif

deb:
	@$(S)/deps.sh build deb
	@$(S)/deb.sh $(BASE) $(CONFIG_SOURCE) $(abspath $(DEB_OUT))

# Root is checked first: a user should not wait for make deb to learn it.
image:
	@$(S)/deps.sh image
	@[ "$$(id -u)" -eq 0 ] || { echo 'pvguest: error: make image needs root: mmdebstrap installs Debian into a chroot (run it as root or with sudo)' >&2; exit 1; }
	@$(MAKE) --no-print-directory deb
	@IMAGE_SIZE='$(IMAGE_SIZE)' IMAGE_FORMAT='$(IMAGE_FORMAT)' \
		IMAGE_PASSWORD='$(IMAGE_PASSWORD)' $(S)/image.sh $(abspath $(DEB_OUT)) $(abspath $(IMAGE_OUT))

check: deps selftest refresh-check
	@$(S)/deps.sh deb image
	@$(PY) $(S)/pvgtest.py check $(foreach b,$(CHECK_BASES),--base $(b)) --accel $(ACCEL) \
		$(if $(ONLY),--only $(ONLY)) --gates $(GATES)

bench: deps
	@for b in $(subst $(comma), ,$(BENCH)); do case $$b in \
	ipi) $(PY) $(S)/bench.py --base $(BASE) --accel $(ACCEL) --out $(BENCH_OUT) \
		$(if $(BENCH_RETRIES),--retries $(BENCH_RETRIES)) \
		$(if $(BENCH_CONTROL),--control) || exit 1 ;; \
	balloon) $(PY) $(S)/bench-balloon.py --base $(BASE) --out $(BENCH_OUT) || exit 1 ;; \
	block) $(PY) $(S)/bench-block.py --base $(BASE) --out $(BENCH_OUT) || exit 1 ;; \
	*) echo "make bench: unknown BENCH '$$b' (ipi, balloon, block)" >&2; exit 1 ;; \
	esac; done

selftest:
	@$(PY) -m unittest discover -s tests/host -p 'test_*.py' -q

refresh:
	@$(S)/refresh.sh

refresh-check:
	@$(S)/refresh.sh --check

tree:
	@$(S)/prepare-tree.sh $(BASE)

build: deps
	@$(S)/build.sh $(BASE) $(CONFIG)

export: deps
	@BENCH_OUT=$(abspath $(BENCH_OUT)) $(S)/export.sh $(BASE) out/export/$(BASE)

nested: deps
	@$(S)/nested-l1.sh cache/nested

clean:
	rm -rf build out

distclean: clean
	rm -rf cache
