# `make iso`: build/mica.iso, booting Mica with module2 lines for a dom0
# kernel and initrd as Xen is booted.  Point DOM0_KERNEL and DOM0_INITRD at
# real files to use them; until Mica can run a dom0 the defaults are two
# small placeholder modules, so the ISO shows module handling end to end.

MICA_CMDLINE ?= console=com1 com1=115200,8n1 loglvl=info
DOM0_CMDLINE ?= root=/dev/ram0 console=hvc0
DOM0_KERNEL  ?= $(BUILD)/demo/dom0-kernel.placeholder
DOM0_INITRD  ?= $(BUILD)/demo/dom0-initrd.placeholder

$(BUILD)/demo/%.placeholder:
	@mkdir -p $(dir $@)
	$(Q)printf 'Mica demo module %s: not a kernel; dom0 support is still to come.\n' $* > $@
	$(Q)head -c 65536 /dev/zero >> $@

$(BUILD)/mica.iso: $(BUILD)/mica.gz $(DOM0_KERNEL) $(DOM0_INITRD) scripts/mkiso
	@echo "  ISO     $@"
	$(Q)scripts/mkiso $@ $(BUILD)/mica.gz "$(MICA_CMDLINE)" \
	    $(DOM0_KERNEL) "$(DOM0_CMDLINE)" $(DOM0_INITRD) ""

iso: $(BUILD)/mica.iso
