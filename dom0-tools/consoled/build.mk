# micaconsoled, the PV console back end for dom0 (docs/consoled.md).
#
#   build/micaconsoled                   the daemon
#   build/tests/consoled/test_cons_ring  ring logic unit test (ASan/UBSan)
#
# This file is read before libmica's, so libmica's paths are spelt out.

CONSD_DIR    := dom0-tools/consoled
CONSD_SRC    := $(CONSD_DIR)/consoled.c $(CONSD_DIR)/cons_ring.c $(CONSD_DIR)/cons_pty.c
CONSD_CFLAGS := $(HOST_CFLAGS) -I$(CONSD_DIR) -Idom0-tools/libmica -Ihypervisor/include \
                -Idom0-tools/include

$(BUILD)/micaconsoled: $(CONSD_SRC) $(wildcard $(CONSD_DIR)/*.h) $(BUILD)/libmica/libmica.a \
        $(wildcard dom0-tools/libmica/*.h)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(CONSD_CFLAGS) -O2 -o $@ $(CONSD_SRC) $(BUILD)/libmica/libmica.a

$(BUILD)/tests/consoled/test_cons_ring: $(CONSD_DIR)/tests/test_cons_ring.c $(CONSD_DIR)/cons_ring.c \
        $(CONSD_DIR)/cons_ring.h tests/unit/unit.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(CONSD_CFLAGS) $(SAN_FLAGS) -Itests/unit -o $@ $< $(CONSD_DIR)/cons_ring.c

ALL_TARGETS += $(BUILD)/micaconsoled
UNIT_TESTS  += $(BUILD)/tests/consoled/test_cons_ring

$(BUILD)/tests/consoled/test_cons_pty: $(CONSD_DIR)/tests/test_cons_pty.c $(CONSD_DIR)/cons_pty.c \
        $(CONSD_DIR)/cons_pty.h tests/unit/unit.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(CONSD_CFLAGS) $(SAN_FLAGS) -Itests/unit -o $@ $< $(CONSD_DIR)/cons_pty.c

UNIT_TESTS  += $(BUILD)/tests/consoled/test_cons_pty
