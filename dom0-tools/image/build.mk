# The dom0 image (docs/dom0-image.md): Debian's kernel, a busybox
# initramfs with our /init, the Xen/virtio/e1000 modules and the dom0 tools,
# and a small ext2 disk for the scripted test, all in build/dom0-image/.
#
#   make dom0-image        build it (downloads two .debs once, then offline);
#                          DOM0_IMAGE_FLAGS=--no-tools for a lean image
#   make test-native-dom0  boot it without a hypervisor, in test mode
#   make test-xen-dom0     the oracle run: the same on Xen 4.17
#
# Not part of plain `make`: its first build needs the Debian archive.
# `make test` runs the native boot (tests/dom0/build.mk).

DOM0_IMAGE_TOOLS := $(BUILD)/vmctl $(BUILD)/xenstored

.PHONY: dom0-image test-xen-dom0 test-native-dom0
# The tools are built first when their fragments define them, so the
# image carries the current ones; the script is a no-op when nothing changed.
dom0-image:
	$(Q)$(if $(filter $(DOM0_IMAGE_TOOLS),$(ALL_TARGETS)),$(MAKE) --no-print-directory $(filter $(DOM0_IMAGE_TOOLS),$(ALL_TARGETS)),:)
	$(Q)dom0-tools/image/build-dom0-image $(DOM0_IMAGE_FLAGS)

test-native-dom0: deps
	$(Q)$(MAKE) --no-print-directory dom0-image
	$(Q)scripts/run-tests tests/dom0/native-dom0-test

test-xen-dom0: deps
	$(Q)$(MAKE) --no-print-directory dom0-image
	$(Q)scripts/run-tests tests/dom0/xen-dom0-test
