# Configuration: .config at the top, turned into one C header
# (build/include/generated/autoconf.h) and one make fragment
# (build/include/config/auto.conf) by Debian's kconfig-frontends.

KCONFIG_CONF  := kconfig-conf
KCONFIG_MCONF := kconfig-mconf
KCONFIG_DIR   := $(BUILD)/kconfig
AUTOCONF_H    := $(BUILD)/include/generated/autoconf.h
AUTOCONF_MK   := $(BUILD)/include/config/auto.conf

# kconfig-conf writes per-symbol dependency files below ./include/config,
# so it runs inside a scratch directory of its own.
KCONFIG_ENV := KCONFIG_CONFIG=$(TOP)/.config \
               KCONFIG_AUTOHEADER=$(TOP)/$(AUTOCONF_H) \
               KCONFIG_AUTOCONFIG=$(TOP)/$(AUTOCONF_MK) \
               KCONFIG_TRISTATE=$(TOP)/$(BUILD)/include/config/tristate.conf

.PHONY: defconfig menuconfig olddefconfig savedefconfig ensure-config

defconfig: deps
	$(Q)mkdir -p $(KCONFIG_DIR)
	$(Q)cd $(KCONFIG_DIR) && $(KCONFIG_ENV) $(KCONFIG_CONF) -s --defconfig=$(TOP)/configs/defconfig $(TOP)/Kconfig
	@echo "Wrote .config from configs/defconfig"

menuconfig: deps
	$(Q)mkdir -p $(KCONFIG_DIR)
	$(Q)cd $(KCONFIG_DIR) && $(KCONFIG_ENV) $(KCONFIG_MCONF) $(TOP)/Kconfig

olddefconfig: deps
	$(Q)mkdir -p $(KCONFIG_DIR)
	$(Q)cd $(KCONFIG_DIR) && $(KCONFIG_ENV) $(KCONFIG_CONF) -s --olddefconfig $(TOP)/Kconfig

savedefconfig:
	$(Q)cd $(KCONFIG_DIR) && $(KCONFIG_ENV) $(KCONFIG_CONF) --savedefconfig=$(TOP)/$(BUILD)/defconfig $(TOP)/Kconfig
	@echo "Wrote build/defconfig"

# `make test` and `make run` create a default configuration themselves;
# a plain `make` insists that the user chose one.
ensure-config:
	$(Q)if [ ! -f .config ]; then \
	    echo "No .config yet: creating the default configuration (make defconfig)"; \
	    $(MAKE) --no-print-directory defconfig; fi

$(TOP)/.config:
	@echo "error: no configuration (.config) in $(TOP)." >&2
	@echo "       Run 'make defconfig' for the defaults or 'make menuconfig' to choose;" >&2
	@echo "       'make run' and 'make test' create the default one themselves." >&2
	@exit 1

$(AUTOCONF_H) $(AUTOCONF_MK): $(TOP)/.config $(TOP)/Kconfig
	$(Q)mkdir -p $(KCONFIG_DIR)/include/config $(dir $(AUTOCONF_H)) $(dir $(AUTOCONF_MK))
	@# Options added to Kconfig since .config was written take their
	@# defaults (silentoldconfig alone would stop to ask for them).
	$(Q)cd $(KCONFIG_DIR) && $(KCONFIG_ENV) $(KCONFIG_CONF) -s --olddefconfig $(TOP)/Kconfig
	$(Q)cd $(KCONFIG_DIR) && $(KCONFIG_ENV) $(KCONFIG_CONF) -s --silentoldconfig $(TOP)/Kconfig
	$(Q)touch $(AUTOCONF_H) $(AUTOCONF_MK)
