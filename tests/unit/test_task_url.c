/* Unit tests for src/core/task_url.c: the normal form of a URL (RFC 3986
 * 6.2.2-6.2.3) that a task's identity and its receiver use: every spelling
 * of one URL gives one normal form and one receiver, spellings of different
 * URLs stay different, and the normal form is its own normal form. */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task_url.h"

static char *normal_of(const char *url)
{
    char *out = NULL;
    char message[256];
    if (task_url_normalise(url, &out, message, sizeof message) != 0)
        fail_msg("%s: %s", url, message);
    return out;
}

static void expect_normal(const char *url, const char *expected)
{
    char *normal = normal_of(url);
    if (strcmp(normal, expected) != 0)
        fail_msg("%s: got %s, expected %s", url, normal, expected);
    char *again = normal_of(normal);
    if (strcmp(again, normal) != 0)
        fail_msg("%s: normalising %s again gave %s", url, normal, again);
    free(again);
    free(normal);
}

/* Each case's URLs are spellings of its first one. */
static void test_spellings_of_one_url(void **state)
{
    (void)state;
    /* case of scheme and host (6.2.2.1) */
    expect_normal("HTTP://EXAMPLE.com/", "http://example.com/");
    expect_normal("hTtPs://Example.COM/a", "https://example.com/a");
    /* default port (6.2.3), and a port written with leading zeros or empty */
    expect_normal("http://example.com:80/", "http://example.com/");
    expect_normal("https://example.com:443/x", "https://example.com/x");
    expect_normal("http://example.com:0080/", "http://example.com/");
    expect_normal("http://example.com:/", "http://example.com/");
    expect_normal("http://example.com:8080/", "http://example.com:8080/");
    expect_normal("https://example.com:80/", "https://example.com:80/");
    expect_normal("http://example.com:443/", "http://example.com:443/");
    /* empty path (6.2.3) */
    expect_normal("http://example.com", "http://example.com/");
    expect_normal("http://example.com?q=1", "http://example.com/?q=1");
    /* percent-encoding case (6.2.2.1) and unreserved characters (6.2.2.2) */
    expect_normal("http://example.com/a%2fb", "http://example.com/a%2Fb");
    expect_normal("http://example.com/%7euser/%41%5A%30-%2E%5F%7E",
                  "http://example.com/~user/AZ0-._~");
    expect_normal("http://example.com/?a=%7e&b=%2f%3D", "http://example.com/?a=~&b=%2F%3D");
    expect_normal("http://example.com/x#%7Ef%2a", "http://example.com/x");
    expect_normal("http://example.com/x?q#a", "http://example.com/x?q");
    expect_normal("http://example.com/x#", "http://example.com/x");
    expect_normal("http://ex%61mple.com/", "http://example.com/");
    /* a '%' that starts no triplet means itself, and stays so once what
     * follows is decoded */
    expect_normal("http://example.com/100%", "http://example.com/100%25");
    expect_normal("http://example.com/%zz%4", "http://example.com/%25zz%254");
    expect_normal("http://example.com/?q=%4%41", "http://example.com/?q=%254A");
    /* dot segments (6.2.2.3), written or encoded */
    expect_normal("http://example.com/a/./b/../c", "http://example.com/a/c");
    expect_normal("http://example.com/a/b/..", "http://example.com/a/");
    expect_normal("http://example.com/a/b/.", "http://example.com/a/b/");
    expect_normal("http://example.com/../../a", "http://example.com/a");
    expect_normal("http://example.com/a/%2E%2e/b", "http://example.com/b");
    expect_normal("http://example.com/a/%2e/b", "http://example.com/a/b");
    expect_normal("http://example.com/a/...", "http://example.com/a/...");
    expect_normal("http://example.com/a/..b/.c", "http://example.com/a/..b/.c");
    expect_normal("http://example.com/..", "http://example.com/");
    /* "%2F" is no segment boundary: "a%2Fb" is one segment */
    expect_normal("http://example.com/x/a%2fb/..", "http://example.com/x/");
    /* dot segments stay in the query */
    expect_normal("http://example.com/?p=/a/../b", "http://example.com/?p=/a/../b");
    /* IPv6 and IPv4 literals */
    expect_normal("http://[2001:DB8::0:1]:80/", "http://[2001:db8::1]/");
    expect_normal("http://[::FFFF:192.0.2.1]/", "http://[::ffff:192.0.2.1]/");
    expect_normal("http://0x7f.1/", "http://127.0.0.1/");
    /* a number host encoded is read as the address libcurl connects to */
    expect_normal("http://%35/", "http://0.0.0.5/");
    /* a host byte that is not unreserved stays encoded (the checks refuse it) */
    expect_normal("http://a%25b.example/", "http://a%25b.example/");
}

static void expect_distinct(const char *a, const char *b)
{
    char *na = normal_of(a), *nb = normal_of(b);
    if (strcmp(na, nb) == 0)
        fail_msg("%s and %s have one normal form %s", a, b, na);
    free(na);
    free(nb);
}

static void test_different_urls_stay_different(void **state)
{
    (void)state;
    expect_distinct("http://example.com/Path", "http://example.com/path");
    expect_distinct("http://example.com/?a=1", "http://example.com/?a=2");
    expect_distinct("http://example.com/?A=1", "http://example.com/?a=1");
    expect_distinct("http://example.com/a%2Fb", "http://example.com/a/b");
    expect_distinct("http://example.com/", "http://example.com/?");
    expect_distinct("http://example.com/", "https://example.com/");
    expect_distinct("http://example.com/", "http://example.com:8080/");
    expect_distinct("http://example.com/", "http://example.com./");
    expect_distinct("http://example.com/a", "http://example.com/a/");
    expect_distinct("http://example.com/a%20b", "http://example.com/a+b");
}

/* The receiver is the normal form's scheme, host and port. */
static void test_receiver_of_spellings(void **state)
{
    (void)state;
    static const char *const spellings[] = {
        "http://example.com/", "HTTP://EXAMPLE.com/", "http://example.com:80/",
        "http://Example.Com:0080/x", "http://ex%61mple.com", "http://example.com:/a/../b",
    };
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        char *receiver = NULL, *identity = NULL;
        char message[256];
        if (task_url_check(spellings[i], NULL, &receiver, &identity, message, sizeof message) != 0)
            fail_msg("%s: %s", spellings[i], message);
        assert_string_equal(receiver, "http://example.com:80");
        char *normal = normal_of(spellings[i]);
        assert_string_equal(identity, normal);
        free(normal);
        free(receiver);
        free(identity);
    }
    char *receiver = NULL, *identity = NULL;
    char message[256];
    assert_int_equal(task_url_check("http://[2001:DB8:0::1]:80/", NULL, &receiver, &identity,
                                    message, sizeof message),
                     0);
    assert_string_equal(receiver, "http://[2001:db8::1]:80");
    assert_string_equal(identity, "http://[2001:db8::1]/");
    free(receiver);
    free(identity);
    /* A refusal allocates nothing. */
    receiver = identity = (char *)"untouched";
    assert_int_equal(task_url_check("ftp://example.com/", NULL, &receiver, &identity, message,
                                    sizeof message),
                     -1);
    assert_null(receiver);
    assert_null(identity);
}

static void test_not_a_url(void **state)
{
    (void)state;
    char *out = (char *)"untouched";
    char message[256];
    assert_int_equal(task_url_normalise("not a url", &out, message, sizeof message), -1);
    assert_null(out);
    assert_int_equal(task_url_normalise("", &out, message, sizeof message), -1);
    assert_null(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spellings_of_one_url),
        cmocka_unit_test(test_different_urls_stay_different),
        cmocka_unit_test(test_receiver_of_spellings),
        cmocka_unit_test(test_not_a_url),
    };
    return cmocka_run_group_tests_name("task_url", tests, NULL, NULL);
}
