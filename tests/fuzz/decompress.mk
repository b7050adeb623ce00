# Kernel decompression (hypervisor/common/decompress, bzimage.c): the
# fixtures its unit tests read, and its libFuzzer target.
#
# tests/unit/build.mk knows nothing of fixtures, so the rule that makes them
# lives here and is hung on the unit test programs as an extra prerequisite.

DECOMP_SRCS    := $(sort $(wildcard hypervisor/common/decompress/*.c)) hypervisor/common/bzimage.c
DECOMP_HDRS    := $(wildcard hypervisor/common/decompress/*.h) \
                  hypervisor/include/mica/decompress.h hypervisor/include/mica/bzimage.h
DECOMP_FIXDIR  := $(BUILD)/tests/fixtures/decompress
DECOMP_FIX     := $(DECOMP_FIXDIR)/manifest.txt

$(DECOMP_FIX): tests/unit/fixtures/decompress-gen.sh
	@echo "  GEN     $(DECOMP_FIXDIR)"
	$(Q)tests/unit/fixtures/decompress-gen.sh $(DECOMP_FIXDIR)

$(BUILD)/tests/unit/test_decompress $(BUILD)/tests/unit/test_bzimage: $(DECOMP_FIX)

DECOMP_FUZZ    := $(BUILD)/tests/fuzz/decompress_fuzz
DECOMP_FUZZ_CC ?= clang-14

$(DECOMP_FUZZ): tests/fuzz/decompress_fuzz.c $(DECOMP_SRCS) $(DECOMP_HDRS) $(AUTOCONF_H)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)$(DECOMP_FUZZ_CC) -std=gnu11 -g -O1 -Wall -Wextra -Werror \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -DMICA_HOST_TEST -Ihypervisor/include -Ihypervisor/arch/x86/include -I$(BUILD)/include \
	    -include $(AUTOCONF_H) -o $@ tests/fuzz/decompress_fuzz.c $(DECOMP_SRCS)

# The script is the test; it needs the fuzzer and the seed corpus built.
tests/fuzz/decompress-fuzz.sh: $(DECOMP_FUZZ) $(DECOMP_FIX)
HOST_TESTS += tests/fuzz/decompress-fuzz.sh
