/*
 * Command-line parsing: option kinds, Xen's spellings, and bad input.
 * unit-sources: hypervisor/common/cmdline.c tests/unit/log_capture.c
 */
#define UNIT_SUITE "cmdline"
#include "unit.h"
#include "log_capture.h"

#include <stdarg.h>
#include <mica/lib.h>
#include <mica/param.h>

static bool noreboot, verbose = true;
static u32 maxcpus = 4;
static u8 small = 1;
static u64 mem;
static char name[8];
static char custom_seen[32];

static int parse_custom(const char *v, char *err, size_t errlen)
{
    if (v && !strcmp(v, "bad")) {
        snprintf(err, errlen, "custom says no");
        return -1;
    }
    snprintf(custom_seen, sizeof(custom_seen), "%s", v ? v : "(none)");
    return 0;
}

static const struct boot_param params[] = {
    { "noreboot", PARAM_BOOL, &noreboot, sizeof(noreboot), NULL },
    { "verbose", PARAM_BOOL, &verbose, sizeof(verbose), NULL },
    { "maxcpus", PARAM_UINT, &maxcpus, sizeof(maxcpus), NULL },
    { "small", PARAM_UINT, &small, sizeof(small), NULL },
    { "mem", PARAM_SIZE, &mem, sizeof(mem), NULL },
    { "name", PARAM_STRING, name, sizeof(name), NULL },
    { "custom", PARAM_CUSTOM, NULL, 0, parse_custom },
};

static unsigned parse(const char *s)
{
    noreboot = false; verbose = true; maxcpus = 4; small = 1; mem = 0;
    name[0] = 0; custom_seen[0] = 0; log_clear();
    return cmdline_parse(s, params, sizeof(params) / sizeof(params[0]));
}

UNIT_TEST(empty_and_null_lines)
{
    CHECK_EQ(parse(""), 0);
    CHECK_EQ(parse("   \t "), 0);
    CHECK_EQ(cmdline_parse(NULL, params, 7), 0);
}

UNIT_TEST(booleans_in_every_spelling)
{
    CHECK_EQ(parse("noreboot"), 0);
    CHECK(noreboot);
    CHECK_EQ(parse("no-verbose"), 0);
    CHECK(!verbose);
    CHECK_EQ(parse("verbose=off noreboot=yes"), 0);
    CHECK(!verbose && noreboot);
    CHECK_EQ(parse("no-verbose=false"), 0);     /* double negative */
    CHECK(verbose);
    CHECK_EQ(parse("verbose=maybe"), 1);
    CHECK(verbose);
    CHECK_STR(logbuf, "'maybe' is not on/off");
}

UNIT_TEST(numbers_decimal_hex_and_width)
{
    CHECK_EQ(parse("maxcpus=16 small=0xff"), 0);
    CHECK_EQ(maxcpus, 16);
    CHECK_EQ(small, 255);
    CHECK_EQ(parse("small=256"), 1);
    CHECK_EQ(small, 1);
    CHECK_STR(logbuf, "fits in 8 bits");
    CHECK_EQ(parse("maxcpus=12abc"), 1);
    CHECK_EQ(maxcpus, 4);
    CHECK_EQ(parse("maxcpus"), 1);
    CHECK_EQ(parse("maxcpus=99999999999999999999999"), 1);
}

UNIT_TEST(sizes_with_suffixes)
{
    CHECK_EQ(parse("mem=512M"), 0);
    CHECK_EQ(mem, 512ull << 20);
    CHECK_EQ(parse("mem=2G"), 0);
    CHECK_EQ(mem, 2ull << 30);
    CHECK_EQ(parse("mem=4096"), 0);
    CHECK_EQ(mem, 4096);
    CHECK_EQ(parse("mem=3Q"), 1);
    CHECK_EQ(parse("mem=99999999999T"), 1);
    CHECK_STR(logbuf, "needs a size");
}

UNIT_TEST(strings_bounded)
{
    CHECK_EQ(parse("name=abc"), 0);
    CHECK(!strcmp(name, "abc"));
    CHECK_EQ(parse("name=abcdefgh"), 1);        /* 8 chars into char[8] */
    CHECK(!strcmp(name, ""));
    CHECK_STR(logbuf, "longer than 7 characters");
}

UNIT_TEST(custom_parsers_get_value_or_null)
{
    CHECK_EQ(parse("custom=x,y"), 0);
    CHECK(!strcmp(custom_seen, "x,y"));
    CHECK_EQ(parse("custom"), 0);
    CHECK(!strcmp(custom_seen, "(none)"));
    CHECK_EQ(parse("custom=bad"), 1);
    CHECK_STR(logbuf, "option 'custom=bad': custom says no");
}

UNIT_TEST(unknown_and_malformed_words)
{
    CHECK_EQ(parse("frobnicate maxcpus=2 =5 no-maxcpus"), 3);
    CHECK_EQ(maxcpus, 2);
    CHECK_STR(logbuf, "unknown option 'frobnicate' ignored");
    CHECK_STR(logbuf, "'=5' has no option name");
    CHECK_STR(logbuf, "only on/off options take a 'no-' prefix");
}

UNIT_TEST(last_occurrence_wins)
{
    CHECK_EQ(parse("maxcpus=2 maxcpus=8"), 0);
    CHECK_EQ(maxcpus, 8);
}

UNIT_TEST(overlong_word_is_refused_without_overrun)
{
    char line[600];

    memset(line, 'a', sizeof(line) - 1);
    line[sizeof(line) - 1] = 0;
    memcpy(line, "name=", 5);
    CHECK_EQ(parse(line), 1);
    CHECK_STR(logbuf, "is longer than 255 characters");
    CHECK(!strcmp(name, ""));
}

UNIT_TEST(parse_uint_helpers)
{
    u64 v;
    const char *end;
    bool b;

    CHECK_EQ(parse_uint("0x1F", NULL, &v), 0);
    CHECK_EQ(v, 31);
    CHECK_EQ(parse_uint("42,8n1", &end, &v), 0);
    CHECK_EQ(v, 42);
    CHECK(*end == ',');
    CHECK(parse_uint("", NULL, &v) != 0);
    CHECK(parse_uint("0x", NULL, &v) != 0);
    CHECK(parse_uint("18446744073709551616", NULL, &v) != 0);
    CHECK_EQ(parse_uint("18446744073709551615", NULL, &v), 0);
    CHECK_EQ(parse_bool("enable", &b), 0);
    CHECK(b);
    CHECK(parse_bool("2", &b) != 0);
}

UNIT_MAIN()
