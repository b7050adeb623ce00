# dom0 image boot: the native (hypervisor-free) run is fast enough for
# `make test`; the Xen 4.17 oracle run is `make test-xen-dom0`
# (dom0-tools/image/build.mk).
SYSTEM_TESTS += tests/dom0/native-dom0-test
# Debian's Linux as dom0 on Mica (the hypervisor-facing checks).
SYSTEM_TESTS += tests/dom0/mica-dom0-test
# xenstored, micaconsoled and vmctl in that dom0: a test-kernel domU and a
# Linux domU created, the Linux one read through vmctl console, both
# destroyed, free memory back (Mica only).
SYSTEM_TESTS += tests/dom0/mica-domu-test
# Save a Linux domU on Mica, restart the machine (and Mica), restore it from
# the file kept on dom0's disk: it counts on (docs/state-files.md).
SYSTEM_TESTS += tests/dom0/mica-save-reboot-test
# Debian's xl (xen-utils-4.17, with Xen's xenstored and xenconsoled) in that
# dom0: xl info/dmesg/sched-credit, xl create of a Linux domU to its marker,
# list (= vmctl list), pause, sched-credit, shutdown, destroy (docs/xl-compat.md).
SYSTEM_TESTS += tests/dom0/mica-xl-test
# vCPU hot-plug: a vmctl Linux domU's vCPU 1 online and offline by
# xenstore-write and by xl vcpu-set over Mica's xenstored (one CPU, about
# 2 minutes; docs/xl-compat.md "vCPU hot-plug").
SYSTEM_TESTS += tests/dom0/mica-vcpu-test
# Debian's libvirtd (libvirt-daemon-driver-xen: the libxl driver) and virsh
# in that dom0: virsh define/start/list/dominfo/shutdown/destroy/undefine of
# a Linux domU, virsh list = xl list = vmctl list, vmctl dumpxml's output
# through virsh define (docs/libvirt.md).
SYSTEM_TESTS += tests/dom0/mica-libvirt-test
# Snapshots (create with memory, list, revert, delete from the middle),
# undefine with snapshots, vmctl save ended by SIGTERM, a template and 5
# clones booted at once (docs/snapshots.md), a dom0 boot of its own.
SYSTEM_TESTS += tests/dom0/mica-snapshot-test
# vmctl migrate to the same host through ssh (docs/migration.md), a dom0
# boot of its own (3.5 to 7.5 minutes).  Its stress variant,
# tests/dom0/mica-migrate-stress-test (six migrations, about 12 minutes),
# is not in make test.
SYSTEM_TESTS += tests/dom0/mica-migrate-test
# Live migration between two hosts (docs/migration.md): two QEMU machines
# booted at once on one socket network, the domU's disk on NBD, A -> B -> A
# and vmctl evacuate (about 8.5 minutes on the loaded 2-core build machine).
SYSTEM_TESTS += tests/dom0/mica-migrate-2host-test

# Both migration tests alone.
MIGRATION_TESTS := tests/dom0/mica-migrate-test tests/dom0/mica-migrate-2host-test
.PHONY: test-migration
test-migration: deps
	$(Q)$(MAKE) --no-print-directory ensure-config
	$(Q)$(MAKE) --no-print-directory all iso
	$(Q)scripts/run-tests $(MIGRATION_TESTS)
