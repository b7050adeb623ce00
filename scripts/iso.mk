# `make iso`: build/mica.iso, booting Mica with module2 lines for a dom0
# kernel and, if given, its initrd, as Xen is booted.  DOM0_KERNEL and
# DOM0_INITRD select them; until the Linux dom0 image exists the default
# dom0 is one of Mica's own PV test kernels (it prints its start-of-day
# state, checks it, and powers the machine off).

MICA_CMDLINE ?= console=com1 com1=115200,8n1 loglvl=info dom0_mem=64M
DOM0_CMDLINE ?= start_info test=start_info dom0_pages=16384
DOM0_KERNEL  ?= $(BUILD)/tests/guests/start_info.elf
DOM0_INITRD  ?=

# The ISO is remade whenever the command lines or module choices change.
ISO_VARS := $(MICA_CMDLINE)|$(DOM0_CMDLINE)|$(DOM0_KERNEL)|$(DOM0_INITRD)
$(BUILD)/iso.vars: FORCE
	@mkdir -p $(dir $@)
	@if [ "$$(cat $@ 2>/dev/null)" != '$(ISO_VARS)' ]; then echo '$(ISO_VARS)' > $@; fi

.PHONY: FORCE
FORCE:

$(BUILD)/mica.iso: $(BUILD)/mica.gz $(DOM0_KERNEL) $(DOM0_INITRD) scripts/mkiso $(BUILD)/iso.vars
	@echo "  ISO     $@"
	$(Q)scripts/mkiso $@ $(BUILD)/mica.gz "$(MICA_CMDLINE)" \
	    $(DOM0_KERNEL) "$(DOM0_CMDLINE)" $(if $(DOM0_INITRD),$(DOM0_INITRD) "")

iso: $(BUILD)/mica.iso
