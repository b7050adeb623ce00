# The hypervisor image: freestanding C and assembly, linked at Mica's
# Xen-compatible virtual address, shipped as build/mica.gz.

HV_SRC_DIRS := hypervisor/common hypervisor/common/decompress hypervisor/arch/x86 hypervisor/arch/x86/boot hypervisor/arch/x86/pv
HV_SRCS     := $(sort $(foreach d,$(HV_SRC_DIRS),$(wildcard $(d)/*.c $(d)/*.S)))
HV_OBJDIR   := $(BUILD)/hv
HV_OBJS     := $(patsubst hypervisor/%,$(HV_OBJDIR)/%.o,$(HV_SRCS))
HV_LDS      := hypervisor/arch/x86/mica.lds

HV_CC       ?= gcc
HV_LD       ?= ld
HV_INCLUDES := -Ihypervisor/include -Ihypervisor/arch/x86/include -I$(BUILD)/include
# -mindirect-branch=...: every indirect call and jump of the C code goes
# through Mica's own thunks (arch/x86/indirect_thunk.S, Spectre v2).
# -mfunction-return=thunk-extern: every return too, through the one RET in
# __x86_return_thunk (same file; Xen 4.17's RETURN_THUNK).
HV_CFLAGS   := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wstrict-prototypes \
               -Wno-unused-parameter \
               -ffreestanding -fno-builtin -nostdinc -isystem $(shell $(HV_CC) -print-file-name=include) \
               -fpie -fno-stack-protector -fno-omit-frame-pointer \
               -fno-asynchronous-unwind-tables -fno-strict-aliasing \
               -mno-red-zone -mno-mmx -mno-sse -mno-sse2 -mno-80387 \
               -fcf-protection=none -mgeneral-regs-only \
               -mindirect-branch=thunk-extern -mindirect-branch-register \
               -mfunction-return=thunk-extern \
               -include $(AUTOCONF_H) $(HV_INCLUDES) -D__MICA__
HV_ASFLAGS  := -D__ASSEMBLY__ $(HV_INCLUDES) -include $(AUTOCONF_H) -D__MICA__
HV_LDFLAGS  := -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack \
               --no-warn-rwx-segments -T $(HV_LDS)

# build.mk itself: a change of flags (as the thunk options were) rebuilds every object.
$(HV_OBJDIR)/%.c.o: hypervisor/%.c $(AUTOCONF_H) hypervisor/build.mk
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(HV_CC) $(HV_CFLAGS) -MMD -MP -c $< -o $@

$(HV_OBJDIR)/%.S.o: hypervisor/%.S $(AUTOCONF_H) hypervisor/build.mk
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(HV_CC) $(HV_ASFLAGS) -MMD -MP -c $< -o $@

-include $(HV_OBJS:.o=.d)

# mica-syms keeps the symbols for gdb and addr2line; mica.gz is what GRUB loads.
$(BUILD)/mica-syms: $(HV_OBJS) $(HV_LDS)
	@echo "  LD      $@"
	$(Q)$(HV_LD) $(HV_LDFLAGS) -o $@ $(HV_OBJS)

$(BUILD)/mica: $(BUILD)/mica-syms
	$(Q)objcopy --strip-debug $< $@

$(BUILD)/mica.gz: $(BUILD)/mica
	@echo "  GZIP    $@"
	$(Q)gzip -9nc $< > $@.tmp && mv $@.tmp $@

.PHONY: hypervisor
hypervisor: $(BUILD)/mica.gz
ALL_TARGETS += $(BUILD)/mica.gz

# Spectre v2: no indirect branch in the image outside the thunks but the
# listed ones (tests/host/spec/check-indirect-branches; needs the image,
# which `make test-host` builds first).
HOST_TESTS += tests/host/spec/check-indirect-branches
# Return thunk: no RET in the image outside the thunks, none before the
# jump to the linked address (tests/host/spec/check-return-thunk).
HOST_TESTS += tests/host/spec/check-return-thunk
# Spectre v1: the evaluate_nospec() barrier sites spec_ctrl.c patches
# (tests/host/spec/check-branch-harden).
HOST_TESTS += tests/host/spec/check-branch-harden
