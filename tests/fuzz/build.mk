# Each fuzz target's owner drops a tests/fuzz/<name>.mk; this file is not one.
include $(filter-out tests/fuzz/build.mk,$(wildcard tests/fuzz/*.mk))
