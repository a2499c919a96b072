# rescue-init: build, test and try it out. See README.md.
#
#   make            build rescue-init (static, musl, release) and mkimage
#   make test       unit tests, namespace tests (root) and VM tests (QEMU)
#   make demo       boot an image in QEMU on this terminal (Ctrl-A X quits)
#   make install    install into $(DESTDIR)$(PREFIX) (PREFIX=/usr/local); make uninstall
#   make kernel     fetch the Debian test kernel into target/test-kernel/
#   make bench      the benchmarks below (Markdown to stdout and target/bench/)
#   make bench-mkimage   mkimage pack vs find|cpio|gzip/pigz/zstd and bsdtar
#   make bench-handoff   rescue-init's kexec handoff vs busybox sh + kexec-tools
#   make bench-devices   /init to devices settled: built-in coldplug vs udev
#   make bench-rear      ReaR's stock rescue initrd vs the kit's (needs rear)
#   make bench-e2e       the user's journey, stock ReaR vs the kit (not in `make bench`)
#
# KERNEL=/path/to/vmlinuz uses that kernel instead of the Debian one.
# APPEND='...' adds kernel command line parameters to `make demo`.

CARGO   ?= cargo
MUSL    := x86_64-unknown-linux-musl
KERNEL  ?=
APPEND  ?=
HELPER  := $(CARGO) run -q -p rescue-tests --bin rescue-test-helper --
# BENCH_REPS=N (default 3) repetitions; BENCH_REAL_MB=N (default 200, 0 skips)
# host libraries copied as the second mkimage tree.
BENCH   := $(CARGO) run -q -p rescue-tests --bin rescue-bench --

ifneq ($(strip $(KERNEL)),)
export RESCUE_TEST_KERNEL := $(abspath $(KERNEL))
endif

.PHONY: all init mkimage test test-unit test-ns test-vm test-e2e kernel demo clean fuzz install uninstall

# GNU installation directories. rescue-init is the /init that mkimage puts
# into images, not a command people run first: it lives in LIBDIR, with a
# link in SBINDIR for the applets people do run (handoff check, kexec).
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR  ?= $(PREFIX)/lib
DATADIR ?= $(PREFIX)/share
DOCDIR  ?= $(DATADIR)/doc/rescue-init
KITDIR  ?= $(DATADIR)/rescue-init/rear
INIT_BIN    := target/$(MUSL)/release/rescue-init
MKIMAGE_BIN := target/release/mkimage
KIT_FILES   := build-rescue-init.sh finalize-handoff.sh pack-initramfs.sh README.md

all: init mkimage

init:
	$(CARGO) build --release --target $(MUSL) -p rescue-init

mkimage:
	$(CARGO) build --release -p mkimage

test: test-unit test-ns test-vm

test-unit:
	$(CARGO) test -p rescue-init -p mkimage
	$(CARGO) test -p rescue-tests --lib --bins

test-ns: all
	@if [ -f tests/tests/ns.rs ]; then \
		echo "$(CARGO) test -p rescue-tests --test ns"; \
		$(CARGO) test -p rescue-tests --test ns; \
	else \
		echo "test-ns: tests/tests/ns.rs does not exist yet, skipped"; \
	fi

test-vm: all kernel
	$(CARGO) test -p rescue-tests --test vm -- --test-threads=1

# Stage lines and timings on stderr; logs and disks stay in target/e2e/.
test-e2e: all
	$(CARGO) test -p rescue-tests --test e2e -- --nocapture --test-threads=1

kernel:
	$(HELPER) kernel

demo: all
	@kernel=$$($(HELPER) kernel-path) && \
	image=$$($(HELPER) image demo) && \
	echo "Booting $$image with $$kernel. Ctrl-A X quits QEMU." && \
	qemu-system-x86_64 -accel tcg -m 512 -nographic -no-reboot \
		-kernel "$$kernel" -initrd "$$image" \
		-append "console=ttyS0 panic=-1 $(APPEND)"

# Side-by-side benchmarks (medians of BENCH_REPS runs; see tests/src/bin/bench/).
.PHONY: bench bench-mkimage bench-handoff bench-devices bench-rear bench-e2e
bench: bench-mkimage bench-handoff bench-devices bench-rear

bench-mkimage: mkimage
	$(BENCH) mkimage

bench-handoff: all kernel
	$(BENCH) handoff

bench-devices: all kernel
	$(BENCH) devices

bench-rear: all kernel
	$(BENCH) rear

bench-e2e: all
	$(BENCH) e2e

clean:
	$(CARGO) clean

# Installs what `make` built; the ReaR kit is only copied: enable it with
# $(KITDIR)/install.sh (the Debian package does that itself).
install:
	@for f in $(INIT_BIN) $(MKIMAGE_BIN); do \
		[ -x $$f ] || { echo "make install: $$f is missing: run make first" >&2; exit 1; }; done
	install -D -m 0755 $(INIT_BIN) $(DESTDIR)$(LIBDIR)/rescue-init/rescue-init
	install -d $(DESTDIR)$(SBINDIR)
	ln -sfr $(DESTDIR)$(LIBDIR)/rescue-init/rescue-init $(DESTDIR)$(SBINDIR)/rescue-init
	install -D -m 0755 $(MKIMAGE_BIN) $(DESTDIR)$(BINDIR)/mkimage
	install -D -m 0755 contrib/rear/install.sh $(DESTDIR)$(KITDIR)/install.sh
	install -m 0644 $(addprefix contrib/rear/,$(KIT_FILES)) $(DESTDIR)$(KITDIR)/
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/rescue-init $(DESTDIR)$(BINDIR)/mkimage
	rm -rf $(DESTDIR)$(LIBDIR)/rescue-init $(DESTDIR)$(DATADIR)/rescue-init $(DESTDIR)$(DOCDIR)

# Fuzz every parser for FUZZ_SECONDS each (cargo-fuzz, libFuzzer). Needs
# `cargo install cargo-fuzz`; RUSTC_BOOTSTRAP lets the stable toolchain take
# the sanitizer flags cargo-fuzz passes. Not part of `make test`.
FUZZ_SECONDS  ?= 30
FUZZ_TARGETS  := cmdline kv mountinfo handoff iso inittab
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p fuzz/corpus/$$t && \
		(cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run $$t corpus/$$t seeds/$$t -- \
			-max_total_time=$(FUZZ_SECONDS)) || exit 1; \
	done
	cd mkimage/fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run list -- -max_total_time=$(FUZZ_SECONDS)
	mkdir -p mkimage/fuzz/corpus/manifest && cd mkimage/fuzz && RUSTC_BOOTSTRAP=1 \
		cargo fuzz run manifest corpus/manifest ../tests/manifests -- -max_total_time=$(FUZZ_SECONDS)
