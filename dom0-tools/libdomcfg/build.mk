# libdomcfg: domain definition loader (see domcfg.h).  Two static
# libraries: one for the tools, one with the sanitizers for test programs.

DOMCFG_DIR      := dom0-tools/libdomcfg
DOMCFG_SRCS     := $(addprefix $(DOMCFG_DIR)/,diag.c units.c xmlload.c schema.c parse.c check.c domcfg.c)
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
