# mica-logdirty: runs log-dirty rounds on a domain from dom0, as a live
# migration's pre-copy would, without sending anything (docs/migration.md);
# the dom0 image's domu-tiny test runs it against a busy Linux domU.
#
# This file is read before libmica's, so libmica's paths are spelt out.

LOGDIRTY_DIR    := dom0-tools/logdirty
LOGDIRTY_CFLAGS := $(HOST_CFLAGS) -Idom0-tools/libmica -Ihypervisor/include -Idom0-tools/include

$(BUILD)/mica-logdirty: $(LOGDIRTY_DIR)/mica-logdirty.c $(BUILD)/libmica/libmica.a \
        $(wildcard dom0-tools/libmica/*.h)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(LOGDIRTY_CFLAGS) -O2 -o $@ $< $(BUILD)/libmica/libmica.a

ALL_TARGETS += $(BUILD)/mica-logdirty
