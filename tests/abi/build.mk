# Differential test of Mica's public ABI headers against Xen's.
#
# tests/abi/gen-abi-items.py lists every constant, struct size and member
# offset declared in hypervisor/include/public/*.h; the list is expanded
# once against our headers and once against Debian's libxen-dev headers
# (scripts/deps/abi.list), and build/tests/abi/test_abi_diff compares the
# two tables item by item.  The split-driver protocol headers of
# pv-drivers/include/pv/ are compared the same way against Xen's io/*.h.

ABI_DIR   := $(BUILD)/tests/abi
ABI_HDRS  := $(sort $(wildcard hypervisor/include/public/*.h)) \
             $(sort $(wildcard pv-drivers/include/pv/*.h))
ABI_TEST  := $(ABI_DIR)/test_abi_diff
ABI_CFLAGS := $(HOST_CFLAGS) $(SAN_FLAGS) -Itests/abi -I$(ABI_DIR)

$(ABI_DIR)/abi-items.h: tests/abi/gen-abi-items.py tests/abi/mica-only.txt $(ABI_HDRS)
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)python3 tests/abi/gen-abi-items.py tests/abi/mica-only.txt $(ABI_HDRS) > $@.tmp && mv $@.tmp $@

$(ABI_DIR)/abi_ours.o: tests/abi/abi_ours.c tests/abi/abi_table.h $(ABI_DIR)/abi-items.h $(ABI_HDRS)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(ABI_CFLAGS) -Ihypervisor/include -Ipv-drivers/include -c -o $@ $<

$(ABI_DIR)/abi_xen.o: tests/abi/abi_xen.c tests/abi/abi_table.h $(ABI_DIR)/abi-items.h
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(ABI_CFLAGS) -c -o $@ $<

$(ABI_DIR)/abi_compare.o: tests/abi/abi_compare.c tests/abi/abi_table.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(ABI_CFLAGS) -c -o $@ $<

$(ABI_TEST): $(ABI_DIR)/abi_ours.o $(ABI_DIR)/abi_xen.o $(ABI_DIR)/abi_compare.o
	@echo "  HOSTLD  $@"
	$(Q)$(HOSTCC) $(SAN_FLAGS) -o $@ $^

HOST_TESTS += $(ABI_TEST)
