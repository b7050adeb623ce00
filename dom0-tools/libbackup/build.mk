# libbackup: vmctl backup / backup-verify / backup-restore's block store,
# manifests and chains (docs/backups.md).  A static library for vmctl and
# one with the sanitizers for the tests; xxHash (XXH3-128) is inlined from
# Debian's libxxhash-dev header, as libmigstream does.

BK_LIB_DIR     := dom0-tools/libbackup
BK_LIB_SRCS    := $(BK_LIB_DIR)/bk.c
BK_LIB_CFLAGS  := $(HOST_CFLAGS) -I$(BK_LIB_DIR)
BK_LIB         := $(BUILD)/libbackup/libbackup.a
BK_SAN_LIB     := $(BUILD)/libbackup-san/libbackup.a
BK_LIB_HEADERS := $(wildcard $(BK_LIB_DIR)/*.h)

$(BUILD)/libbackup/%.o: $(BK_LIB_DIR)/%.c $(BK_LIB_HEADERS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(BK_LIB_CFLAGS) -O2 -c -o $@ $<

$(BUILD)/libbackup-san/%.o: $(BK_LIB_DIR)/%.c $(BK_LIB_HEADERS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(BK_LIB_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(BK_LIB): $(patsubst $(BK_LIB_DIR)/%.c,$(BUILD)/libbackup/%.o,$(BK_LIB_SRCS))
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BK_SAN_LIB): $(patsubst $(BK_LIB_DIR)/%.c,$(BUILD)/libbackup-san/%.o,$(BK_LIB_SRCS))
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

ALL_TARGETS += $(BK_LIB)

# The block store, manifests, incremental backups, dedup, verify with
# corruption, chain holes and restore, in a temporary directory.
$(BUILD)/tests/libbackup/test_backup: tests/host/libbackup/test_backup.c \
        $(BK_SAN_LIB) $(BK_LIB_HEADERS) tests/unit/unit.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(BK_LIB_CFLAGS) $(SAN_FLAGS) -Itests/unit -o $@ $< $(BK_SAN_LIB)

UNIT_TESTS += $(BUILD)/tests/libbackup/test_backup

# vmctl backup / backup-verify / backup-restore on the host (a stored
# domain that is not running, --offline), against vmctl's sanitizer build.
$(BUILD)/tests/vmctl/test-backup: tests/host/vmctl/test-backup.sh $(BUILD)/tests/vmctl/vmctl
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)sed 's#^TOP=.*#TOP=$(TOP)#' $< >$@.tmp && chmod +x $@.tmp && mv $@.tmp $@

HOST_TESTS += $(BUILD)/tests/vmctl/test-backup
