# dom0 image boot: the native (hypervisor-free) run is fast enough for
# `make test`; the Xen 4.17 oracle run is `make test-xen-dom0`
# (dom0-tools/image/build.mk).
SYSTEM_TESTS += tests/dom0/native-dom0-test
# Debian's Linux as dom0 on Mica (the hypervisor-facing checks).
SYSTEM_TESTS += tests/dom0/mica-dom0-test
# vmctl creating and destroying a test-kernel domU from that dom0 (Mica only).
SYSTEM_TESTS += tests/dom0/mica-domu-test
