# The disk-booted Debian dom0 (docs/packaging.md): Mica's packages (make
# deb) installed with dpkg on a Debian 12 disk made by mmdebstrap, booted
# through GRUB from that disk in QEMU, domU, autostart across a reboot.
# The disk is cached in build/debian-disk/ on its inputs.
SYSTEM_TESTS += tests/debian/mica-debian-disk-test

.PHONY: debian-disk test-debian-disk
debian-disk: deps
	$(Q)packaging/make-deb
	$(Q)$(MAKE) --no-print-directory dom0-image
	$(Q)tests/debian/build-debian-disk

test-debian-disk: deps
	$(Q)scripts/run-tests tests/debian/mica-debian-disk-test
