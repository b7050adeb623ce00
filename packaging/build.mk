# Debian packages (packaging/, docs/packaging.md): `make deb` builds
# mica-hypervisor and mica-utils with dpkg-buildpackage and checks them
# with lintian; the .debs land in build/deb/.
.PHONY: deb
deb: deps
	$(Q)packaging/make-deb
