# Host-compiled unit tests of hypervisor logic, run under ASan and UBSan.
#
# tests/unit/test_<name>.c becomes build/tests/unit/test_<name>.  The code
# under test is named in the test file itself, on a line
#     unit-sources: hypervisor/common/foo.c hypervisor/common/bar.c
# and is compiled for the host with MICA_HOST_TEST defined.

UNIT_DIR     := $(BUILD)/tests/unit
UNIT_SRCS    := $(sort $(wildcard tests/unit/test_*.c))
UNIT_PROGS   := $(patsubst tests/unit/%.c,$(UNIT_DIR)/%,$(UNIT_SRCS))
UNIT_CFLAGS  := $(HOST_CFLAGS) $(SAN_FLAGS) -DMICA_HOST_TEST \
                -Ihypervisor/include -Ihypervisor/arch/x86/include \
                -I$(BUILD)/include -Itests/unit -include $(AUTOCONF_H)

unit_sources_of = $(shell sed -n 's/.*unit-sources:\(.*\)/\1/p' $(1) | sed 's/\*\///')
# Sources a test #includes itself (to reach static functions): rebuilt on change only.
#     unit-includes: hypervisor/common/foo.c
unit_includes_of = $(shell sed -n 's/.*unit-includes:\(.*\)/\1/p' $(1) | sed 's/\*\///')

define UNIT_PROG_RULE
$(UNIT_DIR)/$(1): tests/unit/$(1).c $(call unit_sources_of,tests/unit/$(1).c) $(call unit_includes_of,tests/unit/$(1).c) tests/unit/unit.h $(AUTOCONF_H)
	@mkdir -p $$(dir $$@)
	@echo "  HOSTCC  $$@"
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) -MMD -MP -o $$@ tests/unit/$(1).c $(call unit_sources_of,tests/unit/$(1).c)
endef
$(foreach t,$(UNIT_SRCS),$(eval $(call UNIT_PROG_RULE,$(basename $(notdir $(t))))))

UNIT_TESTS += $(UNIT_PROGS)
-include $(UNIT_PROGS:=.d)
