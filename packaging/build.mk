# Debian packages (packaging/, docs/packaging.md): `make deb` builds
# mica-hypervisor and mica-utils with dpkg-buildpackage and checks them
# with lintian; the .debs land in build/deb/.
.PHONY: deb
# Only what building the packages needs (scripts/deps/build.list and
# deb.list), so that `make deb` on a server does not install the test
# machinery (QEMU, Xen's hypervisor as a test oracle, ...).
deb:
	$(Q)scripts/ensure-deps build deb
	$(Q)packaging/make-deb
