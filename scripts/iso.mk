# `make iso`: build/mica.iso, booting Mica with module2 lines for a dom0
# kernel and its initrd, as Xen is booted.  By default dom0 is Debian's
# stock Linux with the busybox initramfs of dom0-tools/image (a shell on
# the console); DOM0_KERNEL, DOM0_INITRD, DOM0_CMDLINE and MICA_CMDLINE
# choose others, e.g. one of Mica's PV test kernels:
#   make run DOM0_KERNEL=build/tests/guests/start_info.elf DOM0_INITRD= \
#            DOM0_CMDLINE="start_info test=start_info dom0_pages=16384"

MICA_CMDLINE ?= console=com1 com1=115200,8n1 loglvl=info dom0_mem=512M
DOM0_CMDLINE ?= console=hvc0
DOM0_KERNEL  ?= $(BUILD)/dom0-image/vmlinuz
DOM0_INITRD  ?= $(BUILD)/dom0-image/initrd.gz

# The dom0 image is made by its own script (it fetches Debian packages once).
$(BUILD)/dom0-image/vmlinuz $(BUILD)/dom0-image/initrd.gz:
	$(Q)$(MAKE) --no-print-directory dom0-image

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
