# Mica top-level Makefile.
#
#   make               build the hypervisor (build/mica.gz) and the tools
#   make defconfig     write .config from configs/defconfig
#   make menuconfig    edit .config interactively
#   make olddefconfig  update .config after Kconfig changed
#   make iso           bootable ISO (build/mica.iso) with GRUB multiboot2
#   make run           build, then boot the demo in QEMU on this terminal
#   make test          every test; last line "N passed, N failed"
#   make deb           Debian packages in build/deb/ (docs/packaging.md)
#
# Each component adds itself through a build.mk fragment; see docs/build.md.

.DEFAULT_GOAL := all
SHELL := /bin/bash
TOP   := $(CURDIR)
BUILD := build
Q     := $(if $(V),,@)

HOSTCC      ?= gcc
HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror
SAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=undefined

# Host programs and test scripts that `make test` runs, in order.  Each
# fragment appends to these; scripts/run-tests explains the protocol.
ALL_TARGETS   :=
UNIT_TESTS    :=
HOST_TESTS    :=
SYSTEM_TESTS  :=

include scripts/kconfig.mk
include hypervisor/build.mk
include scripts/iso.mk
include packaging/build.mk
include $(sort $(wildcard dom0-tools/build.mk dom0-tools/*/build.mk \
                          pv-drivers/build.mk pv-drivers/*/build.mk \
                          xml-schemas/build.mk tests/*/build.mk))

.PHONY: all deps test test-unit test-host test-system run iso clean distclean
all: $(ALL_TARGETS)

# Installs the Debian packages listed in scripts/deps/*.list that are missing.
deps:
	$(Q)scripts/ensure-deps

# Build-only dependencies come first: `make test` and `make run` must work
# on a fresh Debian 12 machine.
test: deps
	$(Q)$(MAKE) --no-print-directory ensure-config
	$(Q)$(MAKE) --no-print-directory all iso $(UNIT_TESTS) $(HOST_TESTS)
	$(Q)scripts/run-tests $(UNIT_TESTS) $(HOST_TESTS) $(SYSTEM_TESTS)

test-unit: deps
	$(Q)$(MAKE) --no-print-directory $(UNIT_TESTS)
	$(Q)scripts/run-tests $(UNIT_TESTS)

test-host: deps
	$(Q)$(MAKE) --no-print-directory ensure-config
	$(Q)$(MAKE) --no-print-directory all $(HOST_TESTS)
	$(Q)scripts/run-tests $(HOST_TESTS)

test-system: deps
	$(Q)$(MAKE) --no-print-directory ensure-config
	$(Q)$(MAKE) --no-print-directory all iso
	$(Q)scripts/run-tests $(SYSTEM_TESTS)

# Debian's Linux as dom0 wants more memory than Mica's test kernels.
run: deps
	$(Q)$(MAKE) --no-print-directory ensure-config
	$(Q)$(MAKE) --no-print-directory all iso
	$(Q)MICA_QEMU_MEM=$${MICA_QEMU_MEM:-1024} scripts/run-qemu --interactive $(BUILD)/mica.iso

clean:
	rm -rf $(BUILD)

distclean: clean
	rm -f .config .config.old
