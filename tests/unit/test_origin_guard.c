/* Unit tests for src/core/origin_guard.c: which Host names are herald's, which
 * requests a page on another site could have sent, and the allowed_hosts
 * list's syntax. The integration test (test_browser.py) drives the same
 * rules through heraldd and a real browser. */
#include "test_support.h"

#include <string.h>

#include "origin_guard.h"

static void test_host_names(void **state)
{
    (void)state;
    static const char *const own[] = {
        "127.0.0.1",   "127.0.0.1:8080", "[::1]",        "[::1]:8080",   "localhost",
        "LOCALHOST:1", "localhost.",     "localhost.:80", "10.1.2.3:443", "[2001:db8::1]",
        "localhost:", "127.0.0.1:8080 ", "localhost\t"};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        if (!origin_guard_host_is_own(own[i], ""))
            fail_msg("%s should be herald's own", own[i]);
    }
    static const char *const foreign[] = {
        "attacker.example", "attacker.example:8080", "127.0.0.1.nip.io", "evil.localhost",
        "localhost.evil",   "",                      ":8080",            "[::1",
        "[fe80::1%25eth0]", "[]",                    "127.0.0.1:80:80",  "127.0.0.1:x",
        "127.0.0.1:123456", "[::1]x",                "herald.example",   "127.1"};
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        if (origin_guard_host_is_own(foreign[i], ""))
            fail_msg("%s should not be herald's own", foreign[i]);
    }
    const char *list = "herald.example, Console.Example.";
    assert_true(origin_guard_host_is_own("herald.example", list));
    assert_true(origin_guard_host_is_own("HERALD.example.:443", list));
    assert_true(origin_guard_host_is_own("console.example", list));
    assert_false(origin_guard_host_is_own("herald.example.evil", list));
    assert_false(origin_guard_host_is_own("example", list));
    assert_true(origin_guard_host_is_own("anything.example", "*"));
    assert_false(origin_guard_host_is_own("[junk]", "*"));
}

static const char *cross(const char *method, bool reads_data, const char *host,
                         const char *origin, const char *site, const char *mode,
                         const char *list)
{
    OriginRequest request = {.method = method, .reads_data = reads_data, .host = host,
                             .origin = origin, .fetch_site = site, .fetch_mode = mode};
    return origin_guard_cross_site(&request, list);
}

static void test_writes_from_other_sites(void **state)
{
    (void)state;
    const char *h = "127.0.0.1:8080";
    /* Clients that are not browsers send neither header. */
    assert_null(cross("POST", true, h, NULL, NULL, NULL, ""));
    assert_null(cross("POST", true, NULL, NULL, NULL, NULL, ""));
    /* herald's own pages */
    assert_null(cross("POST", true, h, "http://127.0.0.1:8080", "same-origin", "cors", ""));
    assert_null(cross("POST", true, h, "http://127.0.0.1:8080", NULL, NULL, ""));
    assert_null(cross("POST", true, "Herald.Example", "http://herald.example:80", NULL, NULL,
                      ""));
    assert_null(cross("POST", true, "127.0.0.1:8080 \t", "http://127.0.0.1:8080 ", NULL, NULL,
                      ""));
    /* Behind a proxy that serves https the browser sends Sec-Fetch-Site, and
     * its word (scheme and port included) is what counts. */
    assert_null(cross("POST", true, "herald.example", "https://herald.example", "same-origin",
                      "cors", ""));
    /* Without it herald was reached over plain http: an https page on the
     * same name (port 443, another server) is another site. */
    assert_string_equal(cross("POST", true, "herald.example", "https://herald.example", NULL,
                              NULL, ""),
                        "Origin");
    assert_string_equal(cross("POST", true, "127.0.0.1", "https://127.0.0.1", NULL, NULL, ""),
                        "Origin");
    assert_string_equal(cross("POST", true, "127.0.0.1:80", "https://127.0.0.1:80", NULL, NULL,
                              ""),
                        "Origin");
    /* behind a proxy that rewrites Host, a listed name's pages */
    assert_null(cross("POST", true, h, "https://herald.example", NULL, NULL, "herald.example"));
    /* every other page */
    static const char *const origins[] = {
        "http://127.0.0.1:9999",  "http://localhost:8080", "http://127.0.0.1",
        "http://evil.example",    "null",                  "http://127.0.0.1:8080.evil",
        "chrome-extension://abc", "",                      "http://[::1]:8080",
        "http://127.0.0.1:80800"};
    for (size_t i = 0; i < sizeof origins / sizeof origins[0]; i++) {
        const char *evidence = cross("POST", true, h, origins[i], NULL, NULL, "");
        if (evidence == NULL || strcmp(evidence, "Origin") != 0)
            fail_msg("a POST from %s should be refused by its Origin", origins[i]);
    }
    /* "*" lets any Host in, but makes no page herald's own */
    assert_string_equal(cross("POST", true, h, "http://evil.example", NULL, NULL, "*"), "Origin");
    static const char *const sites[] = {"cross-site", "same-site", "bogus", ""};
    for (size_t i = 0; i < sizeof sites / sizeof sites[0]; i++) {
        /* even with an Origin that looks right, and on routes that hold no data */
        const char *evidence = cross("POST", false, h, "http://127.0.0.1:8080", sites[i],
                                     "navigate", "");
        if (evidence == NULL || strcmp(evidence, "Sec-Fetch-Site") != 0)
            fail_msg("a POST with Sec-Fetch-Site %s should be refused", sites[i]);
    }
    assert_null(cross("POST", true, h, NULL, "none", "navigate", ""));
    assert_string_equal(cross("DELETE", true, h, "http://evil.example", NULL, NULL, ""),
                        "Origin");
}

static void test_reads_from_other_sites(void **state)
{
    (void)state;
    const char *h = "127.0.0.1:8080";
    assert_null(cross("GET", true, h, NULL, NULL, NULL, ""));
    assert_null(cross("GET", true, h, NULL, "same-origin", "cors", ""));
    assert_null(cross("GET", true, h, NULL, "none", "navigate", ""));
    /* a link the operator follows from another site: the answer is the operator's */
    assert_null(cross("GET", true, h, NULL, "cross-site", "navigate", ""));
    OriginRequest framed = {.method = "GET", .reads_data = true, .host = h,
                            .fetch_site = "cross-site", .fetch_mode = "navigate",
                            .fetch_dest = "document"};
    assert_null(origin_guard_cross_site(&framed, ""));
    /* a frame of another site's page is no such link */
    static const char *const frames[] = {"iframe", "frame", "embed", "object"};
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        framed.fetch_dest = frames[i];
        if (origin_guard_cross_site(&framed, "") == NULL)
            fail_msg("a cross-site %s navigation should be refused", frames[i]);
    }
    /* a script, image or frame of another page */
    assert_string_equal(cross("GET", true, h, NULL, "cross-site", "no-cors", ""),
                        "Sec-Fetch-Site");
    assert_string_equal(cross("HEAD", true, h, NULL, "same-site", "cors", ""), "Sec-Fetch-Site");
    assert_string_equal(cross("GET", true, h, NULL, "cross-site", NULL, ""), "Sec-Fetch-Site");
    /* what holds no data (health, the console's files) may be fetched by anyone */
    assert_null(cross("GET", false, h, NULL, "cross-site", "no-cors", ""));
    /* a cross-origin GET with an Origin is the browser's to refuse to read */
    assert_null(cross("GET", true, h, "http://evil.example", NULL, "cors", ""));
}

static void test_list_syntax(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(origin_guard_check_list("", err, sizeof err), 0);
    assert_int_equal(origin_guard_check_list("*", err, sizeof err), 0);
    assert_int_equal(origin_guard_check_list("a.example, b.example  c-d.example.", err,
                                             sizeof err),
                     0);
    static const char *const bad[] = {"https://herald.example", "herald.example:8080",
                                      "herald.example/ui", "a.example,*.example", "[::1]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (origin_guard_check_list(bad[i], err, sizeof err) != -1)
            fail_msg("allowed_hosts = %s should be refused", bad[i]);
        assert_non_null(strstr(err, "without scheme or port"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_names),
        cmocka_unit_test(test_writes_from_other_sites),
        cmocka_unit_test(test_reads_from_other_sites),
        cmocka_unit_test(test_list_syntax),
    };
    return cmocka_run_group_tests_name("origin_guard", tests, NULL, NULL);
}
