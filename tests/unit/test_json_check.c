/* Unit tests for src/common/json_check.c: RFC 8259 exactly, and herald's extra
 * rules (UTF-8, no byte-order mark, no \u0000, no lone surrogates, depth). */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_check.h"

static int check(const char *text)
{
    return json_check(text, strlen(text), JSON_CHECK_DEPTH_MAX, NULL);
}

/* TEXT must be refused, with a message containing WORDS at byte OFFSET. */
static void expect_refused(const char *text, size_t offset, const char *words)
{
    JsonCheckError error;
    memset(&error, 0, sizeof error);
    if (json_check(text, strlen(text), JSON_CHECK_DEPTH_MAX, &error) == 0)
        fail_msg("accepted: %s", text);
    if (error.offset != offset || strstr(error.message, words) == NULL)
        fail_msg("%s: got \"%s\" (offset %zu), expected \"%s\" at %zu", text, error.message,
                 error.offset, words, offset);
}

static void test_valid_documents(void **state)
{
    (void)state;
    static const char *const valid[] = {
        "{}", "[]", " \t\r\n{ } \n", "0", "-0", "1", "-1", "10", "123456789012345678901234567890",
        "0.5", "-0.5", "1e5", "1E5", "1e+5", "1e-5", "1.5e10", "0e0", "-0.0e-0",
        "true", "false", "null", "\"\"", "\"a\"", "\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"",
        "\"\\u00e9\\u4E2D\"", "\"\\ud83d\\udcb0\"", "\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x92\xb0\"",
        "\"\x7f\"", "{\"a\":1,\"b\":[true,false,null,{\"c\":\"d\"}],\"e\":{}}",
        "[1,[2,[3,[4]]]]", "{\"a\":{\"a\":{\"a\":[]}}}", "[\"]\",\"}\",\"\\\"\",\"[\"]",
        "{\"n\":12345678901234567890,\"d\":10.10}",
    };
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        JsonCheckError error;
        if (json_check(valid[i], strlen(valid[i]), JSON_CHECK_DEPTH_MAX, &error) != 0)
            fail_msg("refused %s: %s", valid[i], error.message);
    }
}

/* The numbers cJSON takes and JSON does not: each spelling of the class. */
static void test_numbers_outside_the_grammar(void **state)
{
    (void)state;
    expect_refused("{\"n\":01}", 5, "leading zeros");
    expect_refused("{\"n\":-01}", 5, "leading zeros");
    expect_refused("{\"n\":00}", 5, "leading zeros");
    expect_refused("{\"n\":1.}", 5, "decimal point");
    expect_refused("{\"n\":1.e5}", 5, "decimal point");
    expect_refused("{\"n\":.5}", 5, "a value");
    expect_refused("{\"n\":+1}", 5, "a value");
    expect_refused("{\"n\":-}", 5, "'-'");
    expect_refused("{\"n\":- 1}", 5, "'-'");
    expect_refused("{\"n\":1e}", 5, "exponent");
    expect_refused("{\"n\":1e+}", 5, "exponent");
    expect_refused("{\"n\":1E-}", 5, "exponent");
    expect_refused("{\"n\":0x10}", 6, "unexpected 'x'");
    expect_refused("{\"n\":1_000}", 6, "unexpected '_'");
    expect_refused("{\"n\":NaN}", 5, "a value");
    expect_refused("{\"n\":nan}", 5, "literal");
    expect_refused("{\"n\":Infinity}", 5, "a value");
    expect_refused("{\"n\":-Infinity}", 5, "'-'");
    expect_refused("{\"n\":inf}", 5, "a value");
    expect_refused("{\"n\":1.5.5}", 8, "unexpected '.'");
    expect_refused("{\"n\":1e5e5}", 8, "unexpected 'e'");
    expect_refused("[1 2]", 3, "',' or ']'");
}

static void test_structure(void **state)
{
    (void)state;
    expect_refused("", 0, "the text ends");
    expect_refused("   ", 3, "the text ends");
    expect_refused("{", 1, "member name");
    expect_refused("{\"a\"", 4, "':'");
    expect_refused("{\"a\":", 5, "the text ends");
    expect_refused("{\"a\":1", 6, "',' or '}'");
    expect_refused("[1,]", 3, "comma must be followed");
    expect_refused("{\"a\":1,}", 7, "comma must be followed");
    expect_refused("[,1]", 1, "a value");
    expect_refused("{'a':1}", 1, "member name");
    expect_refused("{a:1}", 1, "member name");
    expect_refused("{\"a\" 1}", 5, "':'");
    expect_refused("{\"a\":1]", 6, "',' or '}'");
    expect_refused("[1}", 2, "',' or ']'");
    expect_refused("{} {}", 3, "end of the text");
    expect_refused("{}x", 2, "end of the text");
    expect_refused("tru", 0, "literal");
    expect_refused("True", 0, "a value");
    expect_refused("truex", 4, "end of the text");
    expect_refused("[nul]", 1, "literal");
    expect_refused("/* c */ {}", 0, "a value");
    expect_refused("{} // c", 3, "end of the text");
    expect_refused("{\"a\":1}\x0b", 7, "end of the text");
    expect_refused("\x0c{}", 0, "a value");
}

static void test_strings(void **state)
{
    (void)state;
    expect_refused("\"abc", 0, "unterminated string");
    expect_refused("[\"a\\\"]", 1, "unterminated string");
    expect_refused("\"a\x01\"", 2, "control character 0x01");
    expect_refused("\"a\tb\"", 2, "control character 0x09");
    expect_refused("\"a\nb\"", 2, "control character 0x0a");
    expect_refused("\"\\x41\"", 1, "invalid escape \\x");
    expect_refused("\"\\'\"", 1, "invalid escape \\'");
    expect_refused("\"\\u12\"", 1, "four hex digits");
    expect_refused("\"\\u12G4\"", 1, "four hex digits");
    expect_refused("\"\\U0041\"", 1, "invalid escape \\U");
    expect_refused("\"x\\u0000y\"", 2, "\\u0000");
    expect_refused("\"\\ud800\"", 1, "unpaired high surrogate");
    expect_refused("\"\\ud800\\u0041\"", 1, "unpaired high surrogate");
    expect_refused("\"\\ud800x\"", 1, "unpaired high surrogate");
    expect_refused("\"\\udc00\"", 1, "unpaired low surrogate");
    expect_refused("\"\\udbff\\udbff\"", 1, "unpaired high surrogate");
    expect_refused("\"\xc3\"", 1, "invalid UTF-8");
    expect_refused("\"\xc0\xaf\"", 1, "invalid UTF-8");
    expect_refused("\"\xed\xa0\x80\"", 1, "invalid UTF-8");
    expect_refused("\"\xf4\x90\x80\x80\"", 1, "invalid UTF-8");
    expect_refused("\"\xff\"", 1, "invalid UTF-8");
    expect_refused("{\"\xc3\x28\":1}", 2, "invalid UTF-8");
    expect_refused("[\xc3\xa9]", 1, "byte 0xc3");
    /* A literal backslash before u0000 is text, not an escape. */
    assert_int_equal(check("\"x\\\\u0000y\""), 0);
}

static void test_nul_bytes(void **state)
{
    (void)state;
    JsonCheckError error;
    assert_int_equal(json_check("{}\0", 3, 64, &error), -1);
    assert_int_equal(error.offset, 2);
    assert_int_equal(json_check("\"a\0b\"", 5, 64, &error), -1);
    assert_non_null(strstr(error.message, "control character 0x00"));
}

static void test_byte_order_mark(void **state)
{
    (void)state;
    expect_refused("\xEF\xBB\xBF{}", 0, "byte-order mark");
    expect_refused("\xEF\xBB\xBF{\"tasks\":[]}", 0, "byte-order mark");
    expect_refused(" \xEF\xBB\xBF{}", 1, "byte 0xef");
}

static void test_depth(void **state)
{
    (void)state;
    char deep[200];
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    JsonCheckError error;
    assert_int_equal(json_check(deep, 130, 64, &error), -1);
    assert_non_null(strstr(error.message, "deeper than 64"));
    assert_int_equal(error.offset, 64);
    assert_int_equal(json_check(deep + 1, 128, 64, NULL), 0);
    /* Brackets inside strings do not count, escaped quotes do not end them. */
    const char *quoted = "{\"a\":\"[[[[\\\"[[[\"}";
    assert_int_equal(json_check(quoted, strlen(quoted), 1, NULL), 0);
    const char *siblings = "[[],[],[]]";
    assert_int_equal(json_check(siblings, strlen(siblings), 2, NULL), 0);
    assert_int_equal(json_check(siblings, strlen(siblings), 1, NULL), -1);
    /* A hostile depth costs no recursion: a megabyte of '[' is refused at once. */
    size_t size = 1024 * 1024;
    char *many = malloc(size);
    assert_non_null(many);
    memset(many, '[', size);
    assert_int_equal(json_check(many, size, 64, &error), -1);
    assert_int_equal(error.offset, 64);
    free(many);
}

/* Every prefix of a valid document is refused and every refusal names a byte
 * inside the text: no read past the end. */
static void test_truncations(void **state)
{
    (void)state;
    const char *text = "{\"a\":[1,-2.5e+3,\"\\u00e9\\ud83d\\udcb0x\",true,null,{}],\"b\":false}";
    size_t length = strlen(text);
    assert_int_equal(json_check(text, length, 64, NULL), 0);
    for (size_t cut = 0; cut < length; cut++) {
        char *prefix = malloc(cut ? cut : 1); /* exactly CUT bytes: ASan sees any overread */
        assert_non_null(prefix);
        memcpy(prefix, text, cut);
        JsonCheckError error;
        int rc = json_check(prefix, cut, 64, &error);
        /* "...,\"b\":false" cut to a number still parses only at a value's end. */
        if (rc == 0)
            fail_msg("accepted a prefix of %zu bytes", cut);
        assert_true(error.offset <= cut);
        free(prefix);
    }
}

static void test_parse(void **state)
{
    (void)state;
    JsonCheckError error;
    cJSON *document = json_check_parse("{\"a\":[1,2]}", 11, JSON_CHECK_DEPTH_MAX, &error);
    assert_non_null(document);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(document, "a")), 2);
    cJSON_Delete(document);
    assert_null(json_check_parse("{\"a\":01}", 8, JSON_CHECK_DEPTH_MAX, &error));
    assert_non_null(strstr(error.message, "leading zeros are not allowed at byte 5"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_documents),
        cmocka_unit_test(test_numbers_outside_the_grammar),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_byte_order_mark),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
