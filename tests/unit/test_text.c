/* Unit tests for src/common/: utf8.c, json_raw.c, json_write.c, clock.c,
 * buffer.c and log.c, the small text helpers. */
#include "test_support.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buffer.h"
#include "clock.h"
#include "json_raw.h"
#include "json_write.h"
#include "log.h"
#include "utf8.h"

static void test_utf8_valid_and_invalid(void **state)
{
    (void)state;
    assert_true(utf8_is_valid("plain ascii", 11));
    assert_true(utf8_is_valid("\xc3\xa9", 2));             /* é */
    assert_true(utf8_is_valid("\xe4\xb8\xad", 3));         /* 中 */
    assert_true(utf8_is_valid("\xf0\x9f\x92\xb0", 4));     /* 💰 */
    assert_false(utf8_is_valid("\xc3", 1));                /* truncated */
    assert_false(utf8_is_valid("\xc0\xaf", 2));            /* overlong '/' */
    assert_false(utf8_is_valid("\xe0\x80\xaf", 3));        /* overlong */
    assert_false(utf8_is_valid("\xed\xa0\x80", 3));        /* surrogate */
    assert_false(utf8_is_valid("\xf4\x90\x80\x80", 4));    /* above U+10FFFF */
    assert_false(utf8_is_valid("\xff", 1));
    assert_false(utf8_is_valid("a\x80", 2));               /* lone continuation */
    assert_int_equal(utf8_count_code_points("a\xc3\xa9\xe4\xb8\xad\xf0\x9f\x92\xb0"), 4);
    /* Past the eight-bytes-at-a-time ASCII path: what follows a block, a
     * sequence straddling a block's end, a bad byte late in the text. */
    assert_true(utf8_is_valid("abcdefgh\xc3\xa9ijklmnop", 18));
    assert_true(utf8_is_valid("abcdefg\xc3\xa9", 9));
    assert_false(utf8_is_valid("abcdefghijklmnopq\xff", 18));
    assert_false(utf8_is_valid("abcdefgh\xc3", 9));
    assert_false(utf8_is_valid("abcdefg\xc3" "abcdefgh", 16));
}

static void test_utf8_repair(void **state)
{
    (void)state;
    char cut[] = "ab\xc3\xa9\xe4\xb8"; /* "abé" and the start of a character */
    utf8_repair(cut);
    assert_string_equal(cut, "ab\xc3\xa9??");
    char middle[] = "\xff-\xc3\xa9-\xed\xa0\x80";
    utf8_repair(middle);
    assert_string_equal(middle, "?-\xc3\xa9-???");
}

static void test_json_raw_children_and_minify(void **state)
{
    (void)state;
    const char *text = " { \"a\" : [1, 2 ,{\"x\":\"y z\"}] , \"b\":\"s,}\\\"]\" ,\"c\": 12345678901234567890 } ";
    size_t length = strlen(text);
    JsonSpan document = json_raw_document(text, length);
    assert_int_equal(text[document.start], '{');
    assert_int_equal(text[document.end - 1], '}');
    JsonRawIterator members;
    assert_int_equal(json_raw_children_begin(text, document, &members), 0);
    JsonSpan span;
    char out[256];
    assert_int_equal(json_raw_children_next(&members, &span), 1);
    json_raw_minify(text, span, out);
    assert_string_equal(out, "[1,2,{\"x\":\"y z\"}]");
    assert_int_equal(json_raw_children_next(&members, &span), 1);
    json_raw_minify(text, span, out);
    assert_string_equal(out, "\"s,}\\\"]\"");
    assert_int_equal(json_raw_children_next(&members, &span), 1);
    json_raw_minify(text, span, out);
    assert_string_equal(out, "12345678901234567890");
    assert_int_equal(json_raw_children_next(&members, &span), 0);

    const char *array = "[ ]";
    JsonRawIterator empty;
    assert_int_equal(json_raw_children_begin(array, json_raw_document(array, 3), &empty), 0);
    assert_int_equal(json_raw_children_next(&empty, &span), 0);
    const char *scalar = "42";
    assert_int_equal(json_raw_children_begin(scalar, json_raw_document(scalar, 2), &empty), -1);
}

/* Quotes after runs of backslashes: an even run leaves the quote closing the
 * string, an odd run escapes it. */
static void test_json_raw_backslash_runs(void **state)
{
    (void)state;
    const char *text = "{\"a\":\"x\\\\\",\"b\":\"\\\\\\\"}\\\\\",\"c\":[\"\\\\\\\\\",\"]\"],\"d\":\"\"}";
    /* as JSON: {"a":"x\\","b":"\\\"}\\","c":["\\\\","]"],"d":""} */
    JsonRawIterator members;
    JsonSpan span;
    char out[64];
    assert_int_equal(json_raw_children_begin(text, json_raw_document(text, strlen(text)), &members),
                     0);
    const char *expected[] = {"\"x\\\\\"", "\"\\\\\\\"}\\\\\"", "[\"\\\\\\\\\",\"]\"]", "\"\""};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(json_raw_children_next(&members, &span), 1);
        json_raw_minify(text, span, out);
        assert_string_equal(out, expected[i]);
    }
    assert_int_equal(json_raw_children_next(&members, &span), 0);
}

static void test_clock_format_and_parse(void **state)
{
    (void)state;
    char text[CLOCK_RFC3339_SIZE];
    clock_format_rfc3339(0, text);
    assert_string_equal(text, "1970-01-01T00:00:00.000Z");
    clock_format_rfc3339(1795095907123LL, text);
    assert_string_equal(text, "2026-11-19T13:45:07.123Z");
    clock_format_rfc3339(-1, text); /* before the epoch: the millisecond borrows a second */
    assert_string_equal(text, "1969-12-31T23:59:59.999Z");
    clock_format_rfc3339(253402300799999LL, text); /* the last instant with a 4-digit year */
    assert_string_equal(text, "9999-12-31T23:59:59.999Z");
    int64_t ms;
    assert_int_equal(clock_parse_rfc3339("2026-11-19T13:45:07.123Z", &ms), 0);
    assert_int_equal(ms, 1795095907123LL);
    assert_int_equal(clock_parse_rfc3339("2026-11-19T21:45:07.123+08:00", &ms), 0);
    assert_int_equal(ms, 1795095907123LL);
    assert_int_equal(clock_parse_rfc3339("2024-02-29T00:00:00Z", &ms), 0);
    assert_int_equal(clock_parse_rfc3339("2023-02-29T00:00:00Z", &ms), -1);
    assert_int_equal(clock_parse_rfc3339("2026-13-01T00:00:00Z", &ms), -1);
    assert_int_equal(clock_parse_rfc3339("2026-11-19", &ms), -1);
    assert_int_equal(clock_parse_rfc3339("2026-11-19T13:45:07", &ms), -1);
    assert_int_equal(clock_parse_rfc3339("2026-11-19T13:45:07Zjunk", &ms), -1);
    /* Every formatted time parses back to itself. */
    for (int64_t t = -86400000; t < 4102444800000LL; t += 86399999LL * 37) {
        clock_format_rfc3339(t, text);
        assert_int_equal(clock_parse_rfc3339(text, &ms), 0);
        assert_int_equal(ms, t);
    }
    int64_t a = clock_monotonic_ms(), b = clock_monotonic_ms();
    assert_true(b >= a);
}

static int64_t fake_wall;
static int64_t fake_monotonic;
static int64_t read_fake_wall(void) { return fake_wall; }
static int64_t read_fake_monotonic(void) { return fake_monotonic; }

static void test_herald_time_ignores_wall_clock_steps(void **state)
{
    (void)state;
    fake_wall = 1795095907000LL;
    fake_monotonic = 5000;
    clock_set_sources(read_fake_wall, read_fake_monotonic);
    assert_int_equal(clock_now_ms(), 1795095907000LL);
    fake_monotonic += 250;
    fake_wall += 250;
    assert_int_equal(clock_now_ms(), 1795095907250LL);
    /* The system clock steps an hour forward: due times must not all arrive at once. */
    fake_wall += 3600 * 1000;
    fake_monotonic += 10;
    assert_int_equal(clock_now_ms(), 1795095907260LL);
    assert_int_equal(clock_wall_ms(), fake_wall);
    assert_int_equal(clock_wall_drift_ms(), 3600 * 1000 - 10);
    /* And two hours back: nothing stalls either; herald time keeps running. */
    fake_wall -= 7200 * 1000;
    fake_monotonic += 10;
    assert_int_equal(clock_now_ms(), 1795095907270LL);
    assert_int_equal(clock_wall_drift_ms(), -3600 * 1000 - 20);
    clock_set_sources(NULL, NULL);
    int64_t now = clock_now_ms();
    assert_true(now - clock_wall_ms() < 1000 && clock_wall_ms() - now < 1000);
}

static void test_buffer_limit(void **state)
{
    (void)state;
    Buffer buffer;
    buffer_init(&buffer, 10);
    assert_int_equal(buffer_append(&buffer, "hello", 5), 0);
    assert_int_equal(buffer_append(&buffer, "world", 5), 0);
    assert_string_equal(buffer.data, "helloworld");
    assert_int_equal(buffer_append(&buffer, "!", 1), -1);
    assert_int_equal(errno, E2BIG);
    assert_int_equal(buffer.length, 10);
    buffer_free(&buffer);
    assert_null(buffer.data);
    assert_int_equal(buffer_append(&buffer, "", 0), 0);
    assert_string_equal(buffer.data, "");
    buffer_free(&buffer);

    /* A reserve past the limit is cut to it, keeps the contents and changes
     * nothing about what may be appended. */
    assert_int_equal(buffer_append(&buffer, "ab", 2), 0);
    assert_int_equal(buffer_reserve(&buffer, 1000), 0);
    assert_int_equal(buffer.capacity, 11);
    assert_int_equal(buffer.length, 2);
    assert_string_equal(buffer.data, "ab");
    assert_int_equal(buffer_append(&buffer, "cdefghij", 8), 0);
    assert_int_equal(buffer_append(&buffer, "k", 1), -1);
    assert_string_equal(buffer.data, "abcdefghij");
    buffer_free(&buffer);
    Buffer unlimited;
    buffer_init(&unlimited, SIZE_MAX);
    assert_int_equal(buffer_reserve(&unlimited, 5000), 0);
    assert_true(unlimited.capacity >= 5001);
    assert_string_equal(unlimited.data, "");
    buffer_free(&unlimited);
}

static void test_log_quote(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(log_quote(out, sizeof out, "plain"), "\"plain\"");
    assert_string_equal(log_quote(out, sizeof out, "a\"b\\c\nd"), "\"a\\\"b\\\\c\\x0ad\"");
    assert_string_equal(log_quote(out, sizeof out, NULL), "\"\"");
    char small[16];
    log_quote(small, sizeof small, "0123456789abcdefghij");
    assert_true(strlen(small) < sizeof small);
    assert_non_null(strstr(small, "..."));
    assert_int_equal(small[strlen(small) - 1], '"');
    LogLevel level;
    assert_int_equal(log_level_parse("warning", &level), 0);
    assert_int_equal(level, LOG_LEVEL_WARNING);
    assert_int_equal(log_level_parse("loud", &level), -1);
}

static void test_json_write_commas_and_values(void **state)
{
    (void)state;
    JsonWriter writer;
    json_write_init(&writer, 1024);
    json_write_begin_object(&writer);
    json_write_key(&writer, "a");
    json_write_begin_array(&writer);
    json_write_int(&writer, -9007199254740993LL);
    json_write_int(&writer, INT64_MIN);
    json_write_int(&writer, 0);
    json_write_int(&writer, INT64_MAX);
    json_write_bool(&writer, true);
    json_write_null(&writer);
    json_write_begin_object(&writer);
    json_write_end_object(&writer);
    json_write_begin_array(&writer);
    json_write_end_array(&writer);
    json_write_end_array(&writer);
    json_write_key(&writer, "b");
    json_write_string(&writer, NULL);
    json_write_key(&writer, "c");
    json_write_raw(&writer, "{\"n\":1.50}", 10);
    json_write_end_object(&writer);
    json_write_newline(&writer);
    size_t length;
    char *text = json_write_finish(&writer, &length);
    assert_string_equal(text,
                        "{\"a\":[-9007199254740993,-9223372036854775808,0,"
                        "9223372036854775807,true,null,{},[]],\"b\":null,\"c\":{\"n\":1.50}}\n");
    assert_int_equal(length, strlen(text));
    free(text);
}

/* The writer and cJSON's printer must give the same bytes for any string. */
static void test_json_write_escapes_like_cjson(void **state)
{
    (void)state;
    char input[64];
    size_t used = 0;
    for (int c = 1; c < 0x20; c++)
        input[used++] = (char)c;
    memcpy(input + used, "\"\\/\xc3\xa9\x7f", 7);
    input[used + 7] = '\0';
    JsonWriter writer;
    json_write_init(&writer, 1024);
    json_write_string(&writer, input);
    char *written = json_write_finish(&writer, NULL);
    cJSON *item = cJSON_CreateString(input);
    char *printed = cJSON_PrintUnformatted(item);
    assert_string_equal(written, printed);
    cJSON *parsed = cJSON_Parse(written);
    assert_string_equal(cJSON_GetStringValue(parsed), input);
    cJSON_Delete(parsed);
    free(printed);
    cJSON_Delete(item);
    free(written);
}

static void test_json_write_failure_is_sticky(void **state)
{
    (void)state;
    JsonWriter writer;
    json_write_init(&writer, 8);
    json_write_begin_object(&writer);
    json_write_key(&writer, "longer than eight");
    json_write_int(&writer, 1); /* would fit, but the text is already broken */
    json_write_end_object(&writer);
    assert_true(writer.failed);
    assert_null(json_write_finish(&writer, NULL));
    assert_false(writer.failed); /* finish resets the writer for reuse */
    char *empty = json_write_finish(&writer, NULL);
    assert_string_equal(empty, "");
    free(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_valid_and_invalid),
        cmocka_unit_test(test_utf8_repair),
        cmocka_unit_test(test_json_raw_children_and_minify),
        cmocka_unit_test(test_json_raw_backslash_runs),
        cmocka_unit_test(test_json_write_commas_and_values),
        cmocka_unit_test(test_json_write_escapes_like_cjson),
        cmocka_unit_test(test_json_write_failure_is_sticky),
        cmocka_unit_test(test_clock_format_and_parse),
        cmocka_unit_test(test_herald_time_ignores_wall_clock_steps),
        cmocka_unit_test(test_buffer_limit),
        cmocka_unit_test(test_log_quote),
    };
    return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
