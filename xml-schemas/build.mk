# Schema tests (tests/host/schema/): every test document is checked with
# xmllint against domain.rng and with "vmctl validate"; plus libdomcfg's
# own unit test.  The runner is copied into build/ so that make rebuilds
# the sanitizer build of vmctl it uses first.

SCHEMA_TEST_DIR := $(BUILD)/tests/schema

$(SCHEMA_TEST_DIR)/run-schema-tests: tests/host/schema/run-schema-tests.sh $(BUILD)/tests/vmctl/vmctl \
        xml-schemas/domain.rng $(wildcard tests/host/schema/*/*.xml xml-schemas/examples/*.xml)
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)sed 's#^TOP=.*#TOP=$(TOP)#' $< >$@.tmp && chmod +x $@.tmp && mv $@.tmp $@

$(SCHEMA_TEST_DIR)/test_domcfg: tests/host/schema/test_domcfg.c $(DOMCFG_SAN_LIB) $(DOMCFG_HEADERS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(DOMCFG_CFLAGS) $(SAN_FLAGS) -DTOP_DIR='"$(TOP)"' -o $@ $< $(DOMCFG_SAN_LIB) $(XML2_LIBS)

HOST_TESTS += $(SCHEMA_TEST_DIR)/test_domcfg $(SCHEMA_TEST_DIR)/run-schema-tests
