# libmigstream: Mica state files (Xen's migration stream v2 with Mica's
# checksum records; docs/state-files.md).  A static library for the tools
# and one with the sanitizers for tests; xxHash is inlined from Debian's
# libxxhash-dev header.

MS_LIB_DIR     := dom0-tools/libmigstream
MS_LIB_SRCS    := $(addprefix $(MS_LIB_DIR)/,ms_digest.c ms_digest_avx2.c ms_writer.c ms_reader.c ms_pagetable.c \
                                            ms_xenstore.c ms_json.c ms_xl.c)
MS_LIB_CFLAGS  := $(HOST_CFLAGS) -I$(MS_LIB_DIR)
MS_LIB         := $(BUILD)/libmigstream/libmigstream.a
MS_SAN_LIB     := $(BUILD)/libmigstream-san/libmigstream.a
MS_LIB_HEADERS := $(wildcard $(MS_LIB_DIR)/*.h)
# The AVX2 copy of the XXH3 code, chosen at run time (ms_digest.c).
MS_ISA_ms_digest_avx2 := -mavx2

$(BUILD)/libmigstream/%.o: $(MS_LIB_DIR)/%.c $(MS_LIB_HEADERS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(MS_LIB_CFLAGS) -O2 $(MS_ISA_$*) -c -o $@ $<

$(BUILD)/libmigstream-san/%.o: $(MS_LIB_DIR)/%.c $(MS_LIB_HEADERS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(MS_LIB_CFLAGS) $(SAN_FLAGS) $(MS_ISA_$*) -c -o $@ $<

$(MS_LIB): $(patsubst $(MS_LIB_DIR)/%.c,$(BUILD)/libmigstream/%.o,$(MS_LIB_SRCS))
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(MS_SAN_LIB): $(patsubst $(MS_LIB_DIR)/%.c,$(BUILD)/libmigstream-san/%.o,$(MS_LIB_SRCS))
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

ALL_TARGETS += $(MS_LIB)

# Round trips, the temporary-file rule, and corrupted files: every
# truncation and every single-byte change of a small stream is refused.
$(BUILD)/tests/libmigstream/test_migstream: tests/host/libmigstream/test_migstream.c \
        $(MS_SAN_LIB) $(MS_LIB_HEADERS) tests/unit/unit.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(MS_LIB_CFLAGS) $(SAN_FLAGS) -Itests/unit -o $@ $< $(MS_SAN_LIB)

UNIT_TESTS += $(BUILD)/tests/libmigstream/test_migstream

$(BUILD)/tests/libmigstream/test_pagetable: tests/host/libmigstream/test_pagetable.c \
        $(MS_SAN_LIB) $(MS_LIB_HEADERS) tests/unit/unit.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(MS_LIB_CFLAGS) $(SAN_FLAGS) -Itests/unit -o $@ $< $(MS_SAN_LIB)

UNIT_TESTS += $(BUILD)/tests/libmigstream/test_pagetable

# xl's save-file header and its JSON configuration (ms_xl.h), and the
# strict JSON reader under it (ms_json.h): every refusal names the offset.
$(BUILD)/tests/libmigstream/test_xl: tests/host/libmigstream/test_xl.c \
        $(MS_SAN_LIB) $(MS_LIB_HEADERS) tests/unit/unit.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(MS_LIB_CFLAGS) $(SAN_FLAGS) -Itests/unit -o $@ $< $(MS_SAN_LIB)

UNIT_TESTS += $(BUILD)/tests/libmigstream/test_xl
