# xenstored: the xenstore daemon, its tests, fuzz target and benchmark.
#
#   build/xenstored                      the daemon (plain build)
#   build/tests/xenstored/xenstored-san  the daemon under ASan/UBSan, used by
#                                        the interop and garbage-client tests
#   build/tests/xenstored/test_*         unit tests (ASan/UBSan)
#   build/tests/xenstored/fuzz_request   libFuzzer target (clang)
#   build/bench/xenstored-rps-client     load generator for bench/xenstored-rps

XSD_DIR      := dom0-tools/xenstored
XSD_OUT      := $(BUILD)/tests/xenstored
XSD_CORE     := buf.c path.c perms.c node.c store.c txn.c ops.c proto.c log.c \
                daemon.c handlers.c ring.c ring_conn.c domain_dev.c
XSD_CORE_SRC := $(addprefix $(XSD_DIR)/,$(XSD_CORE))
XSD_SRC      := $(XSD_CORE_SRC) $(XSD_DIR)/server.c $(XSD_DIR)/domain_xen.c $(XSD_DIR)/main.c
XSD_HDRS     := $(wildcard $(XSD_DIR)/*.h) dom0-tools/include/xenstore_wire.h
XSD_CFLAGS   := $(HOST_CFLAGS) -Idom0-tools/include -I$(XSD_DIR)

# The daemon proper talks to Mica through libmica (privcmd, evtchn, domctl).
XSD_MICA_CFLAGS := -I$(MICA_LIB_DIR) -Ihypervisor/include

$(BUILD)/xenstored: $(XSD_SRC) $(XSD_HDRS) $(MICA_LIB) $(MICA_LIB_HEADERS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(XSD_CFLAGS) $(XSD_MICA_CFLAGS) -O2 -o $@ $(XSD_SRC) $(MICA_LIB)

$(XSD_OUT)/xenstored-san: $(XSD_SRC) $(XSD_HDRS) $(MICA_SAN_LIB) $(MICA_LIB_HEADERS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(XSD_CFLAGS) $(XSD_MICA_CFLAGS) $(SAN_FLAGS) -o $@ $(XSD_SRC) $(MICA_SAN_LIB)

XSD_UNIT_SRCS  := $(sort $(wildcard $(XSD_DIR)/tests/test_*.c))
XSD_UNIT_PROGS := $(patsubst $(XSD_DIR)/tests/%.c,$(XSD_OUT)/%,$(XSD_UNIT_SRCS))

$(XSD_OUT)/test_%: $(XSD_DIR)/tests/test_%.c $(XSD_CORE_SRC) $(XSD_HDRS) tests/unit/unit.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(XSD_CFLAGS) $(SAN_FLAGS) -Itests/unit -o $@ $< $(XSD_CORE_SRC)

# Host tests that talk to a running daemon over its socket.
$(XSD_OUT)/garbage_client: tests/host/xenstored/garbage_client.c $(XSD_HDRS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(XSD_CFLAGS) $(SAN_FLAGS) -o $@ $<

# libFuzzer needs clang; the runtime comes from libclang-rt-14-dev.
XSD_FUZZ_CC := clang
$(XSD_OUT)/fuzz_request: tests/fuzz/xenstored_request_fuzz.c $(XSD_CORE_SRC) $(XSD_HDRS)
	@mkdir -p $(dir $@)
	@echo "  CLANG   $@"
	$(Q)$(XSD_FUZZ_CC) -std=gnu11 -O1 -g -Wall -Wextra -Werror -Idom0-tools/include -I$(XSD_DIR) \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -o $@ $< $(XSD_CORE_SRC)

$(BUILD)/bench/xenstored-rps-client: bench/xenstored-rps-client.c $(XSD_HDRS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(XSD_CFLAGS) -O2 -o $@ $<

.PHONY: xenstored-tests
xenstored-tests: $(BUILD)/xenstored $(XSD_OUT)/xenstored-san $(XSD_UNIT_PROGS) \
                 $(XSD_OUT)/garbage_client $(XSD_OUT)/fuzz_request \
                 $(BUILD)/bench/xenstored-rps-client

# The scripts are run as they are; these lines make `make <script>` build
# what each one runs.
tests/host/xenstored/interop.sh: $(XSD_OUT)/xenstored-san $(BUILD)/xenstored
tests/fuzz/xenstored-fuzz.sh: $(XSD_OUT)/fuzz_request
$(XSD_OUT)/garbage_client: | $(XSD_OUT)/xenstored-san

ALL_TARGETS += $(BUILD)/xenstored
UNIT_TESTS  += $(XSD_UNIT_PROGS)
HOST_TESTS  += tests/host/xenstored/interop.sh $(XSD_OUT)/garbage_client \
               tests/fuzz/xenstored-fuzz.sh
