# System tests: boot Mica in QEMU and assert on the serial console.
SYSTEM_TESTS += tests/system/boot-tests
