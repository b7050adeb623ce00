# vmctl, the Mica toolstack CLI.  build/vmctl is the tool; build/tests/vmctl/vmctl
# is the same program with the sanitizers, which the tests run.

VMCTL_DIR     := dom0-tools/vmctl
VMCTL_SRCS    := $(addprefix $(VMCTL_DIR)/,main.c cli.c commands.c output.c store.c defs.c \
                   hv_privcmd.c xs_nodes.c devices.c dmdev.c copystore.c fdio.c console_client.c monitor.c cmd_config.c cmd_list.c cmd_lifecycle.c cmd_devices.c cmd_save.c cmd_restore.c cmd_migrate.c cmd_vcpu.c cmd_resize.c cmd_stats.c devstats.c cmd_backup.c nbd.c imgtools.c snapmeta.c cmd_snapshot.c cmd_clone.c xlconfig.c snapschema_blob.S)
VMCTL_CFLAGS  := $(HOST_CFLAGS) $(XML2_CFLAGS) -DVMCTL_SNAPSHOT_SCHEMA='"$(TOP)/xml-schemas/domainsnapshot.rng"' -I$(VMCTL_DIR) -I$(DOMCFG_DIR) -I$(MICA_LIB_DIR) -I$(MS_LIB_DIR) -I$(BK_LIB_DIR) -Ihypervisor/include -Idom0-tools/include
VMCTL_DEPS    := $(VMCTL_SRCS) xml-schemas/domainsnapshot.rng $(wildcard $(VMCTL_DIR)/*.h) $(DOMCFG_HEADERS) $(MICA_LIB_HEADERS) $(MS_LIB_HEADERS) $(BK_LIB_HEADERS)

$(BUILD)/vmctl: $(VMCTL_DEPS) $(DOMCFG_LIB) $(MICA_LIB) $(MS_LIB) $(BK_LIB)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(VMCTL_CFLAGS) -o $@ $(VMCTL_SRCS) $(DOMCFG_LIB) $(MICA_LIB) $(MS_LIB) $(BK_LIB) $(XML2_LIBS)

$(BUILD)/tests/vmctl/vmctl: $(VMCTL_DEPS) $(DOMCFG_SAN_LIB) $(MICA_SAN_LIB) $(MS_SAN_LIB) $(BK_SAN_LIB)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(VMCTL_CFLAGS) $(SAN_FLAGS) -o $@ $(VMCTL_SRCS) $(DOMCFG_SAN_LIB) $(MICA_SAN_LIB) $(MS_SAN_LIB) $(BK_SAN_LIB) $(XML2_LIBS)

ALL_TARGETS += $(BUILD)/vmctl

# CLI tests (tests/host/vmctl/), run against the sanitizer build.
$(BUILD)/tests/vmctl/test-vmctl: tests/host/vmctl/test-vmctl.sh $(BUILD)/tests/vmctl/vmctl \
        $(VMCTL_DIR)/vmctl.1 $(VMCTL_DIR)/vmctl.bash-completion
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)sed 's#^TOP=.*#TOP=$(TOP)#' $< >$@.tmp && chmod +x $@.tmp && mv $@.tmp $@

HOST_TESTS += $(BUILD)/tests/vmctl/test-vmctl

# libmica's xenstore client and vmctl's domain nodes against the sanitizer
# build of our xenstored (tests/host/libmica/test_xs.c).
$(BUILD)/tests/libmica/test_xs: tests/host/libmica/test_xs.c $(VMCTL_DIR)/xs_nodes.c \
        $(VMCTL_DIR)/xs_nodes.h $(VMCTL_DIR)/devstats.c $(VMCTL_DIR)/devstats.h $(VMCTL_DIR)/devices.c $(VMCTL_DIR)/devices.h $(VMCTL_DIR)/dmdev.c $(VMCTL_DIR)/nbd.c $(MICA_SAN_LIB) $(DOMCFG_SAN_LIB) $(MICA_LIB_HEADERS) \
        $(BUILD)/tests/xenstored/xenstored-san
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(VMCTL_CFLAGS) $(SAN_FLAGS) -Itests/unit \
	    -DXENSTORED_BIN='"$(TOP)/build/tests/xenstored/xenstored-san"' \
	    -o $@ $< $(VMCTL_DIR)/xs_nodes.c $(VMCTL_DIR)/devstats.c $(VMCTL_DIR)/devices.c $(VMCTL_DIR)/dmdev.c $(VMCTL_DIR)/nbd.c $(DOMCFG_SAN_LIB) $(MICA_SAN_LIB) $(XML2_LIBS)

HOST_TESTS += $(BUILD)/tests/libmica/test_xs

# Snapshot metadata and chain bookkeeping (tests/host/vmctl/test_snapmeta.c).
$(BUILD)/tests/vmctl/test_snapmeta: tests/host/vmctl/test_snapmeta.c $(VMCTL_DIR)/snapmeta.c \
        $(VMCTL_DIR)/snapmeta.h $(VMCTL_DIR)/snapschema_blob.S xml-schemas/domainsnapshot.rng tests/unit/unit.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(VMCTL_CFLAGS) $(SAN_FLAGS) -Itests/unit -o $@ $< $(VMCTL_DIR)/snapmeta.c \
	    $(VMCTL_DIR)/snapschema_blob.S $(XML2_LIBS)

UNIT_TESTS += $(BUILD)/tests/vmctl/test_snapmeta

# --copy-storage's checks that need no dom0 (tests/host/vmctl/test_copystore.c).
CS_TEST_SRCS := $(addprefix $(VMCTL_DIR)/,copystore.c dmdev.c fdio.c store.c)
$(BUILD)/tests/vmctl/test_copystore: tests/host/vmctl/test_copystore.c $(CS_TEST_SRCS) \
        $(VMCTL_DIR)/copystore.h tests/unit/unit.h $(DOMCFG_SAN_LIB) $(MICA_SAN_LIB)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(VMCTL_CFLAGS) $(SAN_FLAGS) -Itests/unit -o $@ $< $(CS_TEST_SRCS) \
	    $(DOMCFG_SAN_LIB) $(MICA_SAN_LIB) $(XML2_LIBS)

UNIT_TESTS += $(BUILD)/tests/vmctl/test_copystore
