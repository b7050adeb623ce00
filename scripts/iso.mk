# `make iso`: build/mica.iso, booting Mica with module2 lines for a dom0
# kernel and, if given, its initrd, as Xen is booted.  DOM0_KERNEL and
# DOM0_INITRD select them; until the Linux dom0 image exists the default
# dom0 is one of Mica's own PV test kernels (it prints its start-of-day
# state, checks it, and powers the machine off).

MICA_CMDLINE ?= console=com1 com1=115200,8n1 loglvl=info dom0_mem=64M
DOM0_CMDLINE ?= start_info test=start_info dom0_pages=16384
DOM0_KERNEL  ?= $(BUILD)/tests/guests/start_info.elf
DOM0_INITRD  ?=

$(BUILD)/mica.iso: $(BUILD)/mica.gz $(DOM0_KERNEL) $(DOM0_INITRD) scripts/mkiso
	@echo "  ISO     $@"
	$(Q)scripts/mkiso $@ $(BUILD)/mica.gz "$(MICA_CMDLINE)" \
	    $(DOM0_KERNEL) "$(DOM0_CMDLINE)" $(if $(DOM0_INITRD),$(DOM0_INITRD) "")

iso: $(BUILD)/mica.iso
