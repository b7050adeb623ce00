# libdomcfg: domain definition loader (see domcfg.h).  Two static
# libraries: one for the tools, one with the sanitizers for test programs.

DOMCFG_DIR      := dom0-tools/libdomcfg
DOMCFG_SRCS     := $(addprefix $(DOMCFG_DIR)/,diag.c units.c xmlload.c schema.c parse.c check.c domcfg.c cpuset.c)
DOMCFG_SCHEMA   := xml-schemas/domain.rng
XML2_CFLAGS     := $(shell pkg-config --cflags libxml-2.0 2>/dev/null)
XML2_LIBS       := $(shell pkg-config --libs libxml-2.0 2>/dev/null || echo -lxml2)
DOMCFG_CFLAGS   := $(HOST_CFLAGS) $(XML2_CFLAGS) -I$(DOMCFG_DIR)
DOMCFG_LIB      := $(BUILD)/libdomcfg/libdomcfg.a
DOMCFG_SAN_LIB  := $(BUILD)/libdomcfg-san/libdomcfg.a
DOMCFG_HEADERS  := $(wildcard $(DOMCFG_DIR)/*.h)

$(BUILD)/libdomcfg/%.o: $(DOMCFG_DIR)/%.c $(DOMCFG_HEADERS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(DOMCFG_CFLAGS) -c -o $@ $<

$(BUILD)/libdomcfg-san/%.o: $(DOMCFG_DIR)/%.c $(DOMCFG_HEADERS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(DOMCFG_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

# The schema is assembled into the library (schema_blob.S).
$(BUILD)/libdomcfg/schema_blob.o $(BUILD)/libdomcfg-san/schema_blob.o: $(DOMCFG_DIR)/schema_blob.S $(DOMCFG_SCHEMA)
	@mkdir -p $(dir $@)
	@echo "  AS      $@"
	$(Q)$(HOSTCC) -c -DDOMCFG_SCHEMA_PATH='"$(TOP)/$(DOMCFG_SCHEMA)"' -o $@ $<

$(DOMCFG_LIB): $(patsubst $(DOMCFG_DIR)/%.c,$(BUILD)/libdomcfg/%.o,$(DOMCFG_SRCS)) $(BUILD)/libdomcfg/schema_blob.o
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(DOMCFG_SAN_LIB): $(patsubst $(DOMCFG_DIR)/%.c,$(BUILD)/libdomcfg-san/%.o,$(DOMCFG_SRCS)) $(BUILD)/libdomcfg-san/schema_blob.o
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

# libFuzzer target for the loader (tests/fuzz/xml_domcfg_fuzz.c), built
# with clang; the runner gives it a fixed time as a host test.
FUZZ_CC            ?= clang-14
DOMCFG_FUZZ_FLAGS  := -std=gnu11 -O1 -g -Wall -Wextra -Werror $(XML2_CFLAGS) -I$(DOMCFG_DIR) \
                      -fsanitize=address,undefined -fno-sanitize-recover=undefined
DOMCFG_FUZZ        := $(BUILD)/tests/fuzz/xml_domcfg_fuzz

$(DOMCFG_FUZZ): tests/fuzz/xml_domcfg_fuzz.c $(DOMCFG_SRCS) $(DOMCFG_HEADERS) $(DOMCFG_DIR)/schema_blob.S $(DOMCFG_SCHEMA)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)$(FUZZ_CC) -c -DDOMCFG_SCHEMA_PATH='"$(TOP)/$(DOMCFG_SCHEMA)"' -o $@-schema.o $(DOMCFG_DIR)/schema_blob.S
	$(Q)$(FUZZ_CC) $(DOMCFG_FUZZ_FLAGS) -fsanitize=fuzzer -o $@ tests/fuzz/xml_domcfg_fuzz.c \
	    $(DOMCFG_SRCS) $@-schema.o $(XML2_LIBS)

$(BUILD)/tests/fuzz/xml_domcfg_fuzz.sh: tests/fuzz/xml_domcfg_fuzz.sh $(DOMCFG_FUZZ) tests/fuzz/xml_domcfg.dict
	@echo "  GEN     $@"
	$(Q)sed 's#^TOP=.*#TOP=$(TOP)#' $< >$@.tmp && chmod +x $@.tmp && mv $@.tmp $@

HOST_TESTS += $(BUILD)/tests/fuzz/xml_domcfg_fuzz.sh
