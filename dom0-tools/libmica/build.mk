# libmica: dom0's access to Mica (privcmd, evtchn, domctl/sysctl; one
# header per module).  Two static libraries: one for the tools, one with
# the sanitizers for tests.  Uses the hypervisor's public headers.

MICA_LIB_DIR     := dom0-tools/libmica
MICA_LIB_SRCS    := $(addprefix $(MICA_LIB_DIR)/,privcmd.c evtchn.c domctl.c domctl_save.c xs.c)
MICA_LIB_CFLAGS  := $(HOST_CFLAGS) -I$(MICA_LIB_DIR) -Ihypervisor/include -Idom0-tools/include
MICA_LIB         := $(BUILD)/libmica/libmica.a
MICA_SAN_LIB     := $(BUILD)/libmica-san/libmica.a
MICA_LIB_HEADERS := $(wildcard $(MICA_LIB_DIR)/*.h) $(wildcard hypervisor/include/public/*.h) \
                    dom0-tools/include/xenstore_wire.h

$(BUILD)/libmica/%.o: $(MICA_LIB_DIR)/%.c $(MICA_LIB_HEADERS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(MICA_LIB_CFLAGS) -c -o $@ $<

$(BUILD)/libmica-san/%.o: $(MICA_LIB_DIR)/%.c $(MICA_LIB_HEADERS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(MICA_LIB_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(MICA_LIB): $(patsubst $(MICA_LIB_DIR)/%.c,$(BUILD)/libmica/%.o,$(MICA_LIB_SRCS))
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(MICA_SAN_LIB): $(patsubst $(MICA_LIB_DIR)/%.c,$(BUILD)/libmica-san/%.o,$(MICA_LIB_SRCS))
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

ALL_TARGETS += $(MICA_LIB)

# Host unit tests: argument checks and error mapping over a fake transport.
$(BUILD)/tests/libmica/test_libmica: tests/host/libmica/test_libmica.c $(MICA_SAN_LIB) $(MICA_LIB_HEADERS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(MICA_LIB_CFLAGS) $(SAN_FLAGS) -o $@ $< $(MICA_SAN_LIB)

HOST_TESTS += $(BUILD)/tests/libmica/test_libmica
