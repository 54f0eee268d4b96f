# Disagg — one entry point for building, running, testing and measuring.
#   make run      build everything, start a host with its service domains and demo guests
#   make test     every test project; ends with one line "N passed, N failed"
#   make bench    every benchmark under bench/ (make bench ONLY=ring runs one)
#   make publish  NativeAOT builds in out/aot, which make run and disagg host up then prefer
#   make chaos    the 10-minute fault run: every fault kind on every service domain (report in out/chaos)

SHELL := /bin/bash
.DEFAULT_GOAL := build
DOTNET ?= dotnet
CONFIG ?= Release
OUT := out/bin
RESULTS := out/test-results
DOTNET_FLAGS := -c $(CONFIG) --nologo -v q -clp:NoSummary
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Programs, in the order they exist. Each is an Exe project whose DisaggProgram is its name in out/bin.
PROGRAMS := kernel/Disagg.Kernel/Disagg.Kernel.csproj
PROGRAMS += services/toolstack/Disagg.Toolstack.csproj
PROGRAMS += services/xenstored/Disagg.Xenstored.csproj
PROGRAMS += services/netback/Disagg.Netback.csproj
PROGRAMS += services/blkback/Disagg.Blkback.csproj
PROGRAMS += services/qemu-dm/Disagg.QemuDm.csproj
TEST_PROJECTS := $(sort $(wildcard tests/*/*.Tests.csproj))
BENCHES := $(sort $(notdir $(patsubst %/,%,$(dir $(wildcard bench/*/run)))))

.PHONY: all deps build guests linux-guest test bench run publish fuzz chaos clean help

all: build

help:
	@sed -n '2,7p' Makefile

# Debian's S-mode U-Boot (tools/fetch-uboot.sh, cached outside the checkout; examples/uboot-hvm.cfg names the
# link in out/u-boot): without network its test skips.
UBOOT_CACHE := $(or $(DISAGG_CACHE),$(HOME)/.cache/disagg)/u-boot
deps:
	@tools/deps.sh
	@if tools/fetch-uboot.sh; then mkdir -p out/u-boot && ln -sfn $(UBOOT_CACHE)/u-boot.bin out/u-boot/u-boot.bin; \
	else echo "u-boot: not available; the U-Boot HVM test will skip"; fi

build: deps guests
	$(DOTNET) build Disagg.sln $(DOTNET_FLAGS)
	@echo "programs in $(OUT):" $$(cd $(OUT) 2>/dev/null && ls | grep -E '^disagg[a-z-]*$$' | tr '\n' ' ')

guests: deps
	$(MAKE) -s -C guests

# The unmodified Linux HVM guest: Debian's riscv64 kernel and busybox-static, fetched once into a cache
# outside the checkout (DISAGG_CACHE, default ~/.cache/disagg), and our initramfs (guests/linux).
LINUX_CACHE := $(or $(DISAGG_CACHE),$(HOME)/.cache/disagg)/linux
linux-guest:
	@tools/fetch-linux.sh
	@mkdir -p out/linux
	@python3 guests/linux/mkinitramfs.py $(LINUX_CACHE)/busybox out/linux/initramfs.cpio $(LINUX_CACHE)/modules
	@ln -sfn $(LINUX_CACHE)/Image out/linux/Image # examples/linux-hvm.cfg names both beside each other

# Each test project runs on its own so one crashing test host is counted, not hidden.
# Without network the Linux guest cannot be fetched; its boot tests then skip, saying so.
test: build
	@$(MAKE) -s linux-guest || echo "linux-guest: not available; the Linux HVM boot tests will skip"
	@rm -rf $(RESULTS); mkdir -p $(RESULTS)
	@status=0; for p in $(TEST_PROJECTS); do \
	  n=$$(basename $$p .csproj); echo "== $$n"; \
	  if ! $(DOTNET) test $$p -c $(CONFIG) --no-build --nologo \
	      --logger "trx;LogFileName=$(CURDIR)/$(RESULTS)/$$n.trx" \
	      --logger "console;verbosity=minimal" $(TEST_ARGS); then \
	    status=1; [ -f $(RESULTS)/$$n.trx ] || echo "0 1" > $(RESULTS)/$$n.count; \
	  fi; \
	done; \
	tools/test-summary.sh $(RESULTS) || status=1; exit $$status

bench: build
	@set -e; for b in $(if $(ONLY),$(ONLY),$(BENCHES)); do \
	  [ -x bench/$$b/run ] || { echo "no benchmark '$$b' (have: $(BENCHES))"; exit 2; }; \
	  echo "== bench $$b"; bench/$$b/run; \
	done

# With out/aot present (`make publish` ran once), the demo runs NativeAOT, republished first if a source changed.
run: build
	@if [ -f $(AOT_OUT)/.published ]; then $(MAKE) -s publish; fi
	@tools/run-demo.sh $(ARGS)

# NativeAOT builds of every program, same names, in out/aot (AOT_OUT). Never stale: the stamp depends on
# every source and project file (the sandbox launcher's C and the allow-lists too), so `make publish` rebuilds exactly when one changed, and `make run` (and
# `disagg host up` from out/bin) use out/aot only while its stamp is newer than the last build
# (tools/aot-choice.sh; services/toolstack/Host/ProgramChoice.cs).
AOT_OUT ?= out/aot
AOT_SOURCES := $(shell find kernel services shared -name bin -prune -o -name obj -prune -o \( -name '*.cs' -o -name '*.csproj' -o -name '*.c' -o -name '*.sh' -o -name '*.syscalls' \) -print 2>/dev/null) \
  Directory.Build.props Directory.Build.targets Directory.Packages.props global.json
publish: deps $(AOT_OUT)/.published

$(AOT_OUT)/.published: $(AOT_SOURCES)
	@mkdir -p $(AOT_OUT)
	@for p in $(PROGRAMS); do \
	  echo "publish: $$p (NativeAOT)"; \
	  $(DOTNET) publish $$p -c Release -r linux-x64 -p:PublishAot=true --nologo -v q -o $(AOT_OUT) || exit 1; \
	done
	@rm -f $(AOT_OUT)/*.dbg
	@touch $@
	@echo "programs in $(AOT_OUT) (NativeAOT):" $$(cd $(AOT_OUT) && ls | grep -E '^disagg[a-z-]*$$' | tr '\n' ' ')

fuzz: build
	@tools/fuzz.sh $(ARGS)

# Issue 15's 10-minute chaos run on a --fault-injection host; CHAOS_FOR/CHAOS_EVERY/CHAOS_SEED change it.
chaos: build
	@tools/chaos.sh $(ARGS)

clean:
	rm -rf artifacts out
	$(MAKE) -s -C guests clean
