# Mica's PV test kernels (tests/guests): tiny dom0 kernels, one concern
# each, and the runner that boots them on Xen 4.17 (the oracle) or Mica.
#
#   make guests             build every test kernel into build/tests/guests/
#   make test-xen           run all of them on Debian's Xen 4.17 (must pass)
#   make test-guests-mica   run all of them on Mica (not part of `make test`)
#
# `make test` runs on Mica exactly the tests listed in
# tests/guests/mica-enabled.list, and nothing at all while it is empty.
# See docs/test-guests.md.

GUEST_OUT    := $(BUILD)/tests/guests
GUEST_NAMES  := $(sort $(basename $(notdir $(wildcard tests/guests/tests/*.c))))
GUEST_LIBSRC := $(sort $(wildcard tests/guests/lib/*.c tests/guests/lib/*.S))
GUEST_LIBOBJ := $(patsubst tests/guests/lib/%,$(GUEST_OUT)/lib/%.o,$(GUEST_LIBSRC))
GUEST_LDS    := tests/guests/lib/guest.lds
GUEST_ELFS   := $(patsubst %,$(GUEST_OUT)/%.elf,$(GUEST_NAMES))

GUEST_CC     ?= gcc
GUEST_LD     ?= ld
GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-builtin \
                -nostdlib -mno-red-zone -mcmodel=kernel -fno-pic -fno-pie \
                -fno-stack-protector -fno-asynchronous-unwind-tables \
                -fcf-protection=none -mgeneral-regs-only -mno-mmx -mno-sse \
                -fno-strict-aliasing -Ihypervisor/include -Itests/guests/lib
GUEST_LDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack \
                 --no-warn-rwx-segments -T $(GUEST_LDS)

$(GUEST_OUT)/lib/%.c.o: tests/guests/lib/%.c
	@mkdir -p $(dir $@)
	@echo "  GUESTCC $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/lib/%.S.o: tests/guests/lib/%.S
	@mkdir -p $(dir $@)
	@echo "  GUESTAS $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -MMD -MP -c $< -o $@

$(GUEST_OUT)/tests/%.o: tests/guests/tests/%.c
	@mkdir -p $(dir $@)
	@echo "  GUESTCC $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/%.elf: $(GUEST_OUT)/tests/%.o $(GUEST_LIBOBJ) $(GUEST_LDS)
	@echo "  GUESTLD $@"
	$(Q)$(GUEST_LD) $(GUEST_LDFLAGS) -o $@ $< $(GUEST_LIBOBJ)

-include $(GUEST_LIBOBJ:.o=.d) $(patsubst %,$(GUEST_OUT)/tests/%.d,$(GUEST_NAMES))

.PHONY: guests test-xen test-guests-mica
guests: $(GUEST_ELFS)

# The oracle: Debian's Xen 4.17.  Installed here if missing (it is only a
# test oracle, so it is not in scripts/deps/ and `make test` never needs it).
test-xen: deps
	$(Q)$(MAKE) --no-print-directory guests
	$(Q)[ -f /boot/xen-4.17-amd64.gz ] || { \
	    if [ "$$(id -u)" = 0 ]; then apt-get install -y xen-hypervisor-4.17-amd64; \
	    else sudo apt-get install -y xen-hypervisor-4.17-amd64; fi; }
	$(Q)tests/guests/run-guests --hypervisor xen

test-guests-mica: deps
	$(Q)$(MAKE) --no-print-directory ensure-config
	$(Q)$(MAKE) --no-print-directory all guests
	$(Q)tests/guests/run-guests --hypervisor mica

# Registered only when the list names at least one test: an empty run
# would prove nothing.
GUEST_MICA_ENABLED := $(strip $(shell sed -e 's/\#.*//' tests/guests/mica-enabled.list 2>/dev/null))
ifneq ($(GUEST_MICA_ENABLED),)
SYSTEM_TESTS += tests/guests/run-mica-enabled
SYSTEM_TESTS += tests/guests/run-mica-enabled-smp2
endif
# XPTI: representative kernels again with xpti=1 on two CPUs (about 1 min).
SYSTEM_TESTS += tests/guests/run-mica-xpti

# Keep objects between runs (they are intermediate to the pattern rules).
.SECONDARY: $(GUEST_LIBOBJ) $(patsubst %,$(GUEST_OUT)/tests/%.o,$(GUEST_NAMES))

# Kernels for tests that need several domains started at boot (Mica's
# "domU" module marker; Xen has no equivalent), run by run-multi-domain.
GUEST_MULTI_NAMES := $(sort $(basename $(notdir $(wildcard tests/guests/multi/*.c))))
GUEST_MULTI_ELFS  := $(patsubst %,$(GUEST_OUT)/multi/%.elf,$(GUEST_MULTI_NAMES))

$(GUEST_OUT)/multi/%.o: tests/guests/multi/%.c
	@mkdir -p $(dir $@)
	@echo "  GUESTCC $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/multi/%.elf: $(GUEST_OUT)/multi/%.o $(GUEST_LIBOBJ) $(GUEST_LDS)
	@echo "  GUESTLD $@"
	$(Q)$(GUEST_LD) $(GUEST_LDFLAGS) -o $@ $< $(GUEST_LIBOBJ)

-include $(patsubst %,$(GUEST_OUT)/multi/%.d,$(GUEST_MULTI_NAMES))

guests: $(GUEST_MULTI_ELFS)
SYSTEM_TESTS += tests/guests/run-multi-domain
# The multi-domain cases and a few kernels again with guests on two CPUs.
SYSTEM_TESTS += tests/guests/run-smp
# The SMP soak: domains built, pinned, moved and destroyed on both CPUs.
SYSTEM_TESTS += tests/guests/run-soak

# Benchmark kernels (bench/), built like the tests but not run by them.
GUEST_BENCH_NAMES := $(sort $(basename $(notdir $(wildcard tests/guests/bench/*.c))))

$(GUEST_OUT)/bench/%.o: tests/guests/bench/%.c
	@mkdir -p $(dir $@)
	@echo "  GUESTCC $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/bench/%.elf: $(GUEST_OUT)/bench/%.o $(GUEST_LIBOBJ) $(GUEST_LDS)
	@echo "  GUESTLD $@"
	$(Q)$(GUEST_LD) $(GUEST_LDFLAGS) -o $@ $< $(GUEST_LIBOBJ)

-include $(patsubst %,$(GUEST_OUT)/bench/%.d,$(GUEST_BENCH_NAMES))
guests: $(patsubst %,$(GUEST_OUT)/bench/%.elf,$(GUEST_BENCH_NAMES))

# Test kernels that run as domUs created by vmctl in dom0 (tests/dom0),
# linked with the split-driver front ends of pv-drivers/front (xenbus
# client, grant table, blkfront) on top of the library.  docs/pv-drivers.md.
PVFRONT_SRC    := $(sort $(wildcard pv-drivers/front/*.c))
PVFRONT_OBJ    := $(patsubst pv-drivers/front/%.c,$(GUEST_OUT)/pvfront/%.o,$(PVFRONT_SRC))
PVFRONT_CFLAGS := $(GUEST_CFLAGS) -Ipv-drivers/include -Ipv-drivers/front -Idom0-tools/include
GUEST_DOMU_NAMES := $(sort $(basename $(notdir $(wildcard tests/guests/domu/*.c))))
GUEST_DOMU_ELFS  := $(patsubst %,$(GUEST_OUT)/domu/%.elf,$(GUEST_DOMU_NAMES))

$(GUEST_OUT)/pvfront/%.o: pv-drivers/front/%.c
	@mkdir -p $(dir $@)
	@echo "  GUESTCC $<"
	$(Q)$(GUEST_CC) $(PVFRONT_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/domu/%.o: tests/guests/domu/%.c
	@mkdir -p $(dir $@)
	@echo "  GUESTCC $<"
	$(Q)$(GUEST_CC) $(PVFRONT_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/domu/%.elf: $(GUEST_OUT)/domu/%.o $(PVFRONT_OBJ) $(GUEST_LIBOBJ) $(GUEST_LDS)
	@echo "  GUESTLD $@"
	$(Q)$(GUEST_LD) $(GUEST_LDFLAGS) -o $@ $< $(PVFRONT_OBJ) $(GUEST_LIBOBJ)

-include $(PVFRONT_OBJ:.o=.d) $(patsubst %,$(GUEST_OUT)/domu/%.d,$(GUEST_DOMU_NAMES))
.SECONDARY: $(PVFRONT_OBJ) $(patsubst %,$(GUEST_OUT)/domu/%.o,$(GUEST_DOMU_NAMES))
guests: $(GUEST_DOMU_ELFS)

# The hypercall fuzzer's long run with random seeds (docs/fuzzing.md); not
# part of `make test`, which runs fixed seeds through run-multi-domain.
.PHONY: fuzz-long
fuzz-long:
	$(Q)tests/fuzz/hypercall-fuzz-long $(FUZZ_MINUTES)
