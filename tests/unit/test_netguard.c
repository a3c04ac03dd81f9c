/* Unit tests for src/core/netguard.c: every blocked range, its edges, the IPv6
 * forms that carry an IPv4 address, and allow lists. */
#include "test_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "netguard.h"

static bool blocked(const NetGuard *guard, const char *address)
{
    struct sockaddr_storage storage;
    memset(&storage, 0, sizeof storage);
    if (strchr(address, ':') != NULL) {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&storage;
        v6->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, address, &v6->sin6_addr), 1);
    } else {
        struct sockaddr_in *v4 = (struct sockaddr_in *)&storage;
        v4->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, address, &v4->sin_addr), 1);
    }
    return netguard_is_blocked(guard, (struct sockaddr *)&storage);
}

static void test_blocked_ranges_and_their_edges(void **state)
{
    (void)state;
    NetGuard guard = {.allow_private = false};
    static const char *const inside[] = {
        "0.0.0.0",       "0.255.255.255", "10.0.0.0",       "10.255.255.255", "100.64.0.0",
        "100.127.255.255", "127.0.0.1",   "127.255.255.254", "169.254.0.1",   "169.254.169.254",
        "172.16.0.0",    "172.31.255.255", "192.168.0.1",   "192.168.255.255", "224.0.0.1",
        "239.255.255.255", "240.0.0.1",   "255.255.255.255", "::",             "::1",
        "fc00::1",       "fdff:ffff::1",  "fe80::1",        "febf::1",        "ff02::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::7f00:1",
        "64:ff9b::a9fe:a9fe", "64:ff9b::c0a8:101",
        /* IPv4-compatible (deprecated: ::a.b.c.d), whatever the IPv4 inside */
        "::127.0.0.1", "::7f00:1", "::8.8.8.8", "::ffff",
        /* IPv4-translated, 6to4 of blocked IPv4, Teredo and the special-purpose ranges */
        "::ffff:0:7f00:1", "::ffff:0:808:808", "2002:7f00:1::", "2002:a00:1::1",
        "2002:a9fe:a9fe::1", "2001::1", "2001:0:4136:e378::1", "2001:2::1", "2001:10::1",
        "2001:2f::1", "2001:db8::1", "3fff::1", "5f00::1", "fec0::1", "feff::1", "100::1"};
    for (size_t i = 0; i < sizeof inside / sizeof inside[0]; i++) {
        if (!blocked(&guard, inside[i]))
            fail_msg("%s should be blocked", inside[i]);
    }
    static const char *const outside[] = {
        "1.1.1.1",      "9.255.255.255", "11.0.0.0",   "100.63.255.255", "100.128.0.0",
        "126.255.255.255", "128.0.0.0",  "169.253.255.255", "169.255.0.0", "172.15.255.255",
        "172.32.0.0",   "192.167.255.255", "192.169.0.0", "223.255.255.255", "8.8.8.8",
        "2001:4860:4860::8888", "fbff::1", "::ffff:8.8.8.8",  "64:ff9b::808:808",
        "2606:4700::1111", "2002:808:808::1", "2001:200::1", "2001:1::1", "3000::1", "4000::1"};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        if (blocked(&guard, outside[i]))
            fail_msg("%s should be allowed", outside[i]);
    }
}

static void test_allow_lists(void **state)
{
    (void)state;
    NetGuard guard = {.allow_private = false};
    char err[256];
    assert_int_equal(netguard_parse_allow(&guard, "10.1.2.0/24,fd00:1::/32 127.0.0.1", err, sizeof err), 0);
    assert_int_equal(guard.allow_count, 3);
    assert_false(blocked(&guard, "10.1.2.0"));
    assert_false(blocked(&guard, "10.1.2.255"));
    assert_true(blocked(&guard, "10.1.3.0"));
    assert_false(blocked(&guard, "::ffff:10.1.2.9")); /* the mapped form of an opened address */
    assert_false(blocked(&guard, "fd00:1:ffff::1"));
    assert_true(blocked(&guard, "fd00:2::1"));
    assert_false(blocked(&guard, "127.0.0.1"));
    assert_true(blocked(&guard, "127.0.0.2"));
    assert_int_equal(netguard_parse_allow(&guard, "", err, sizeof err), 0);
    assert_int_equal(guard.allow_count, 0);
    static const char *const bad[] = {"10.0.0.0/33", "fd00::/129", "10.0.0/8", "nonsense", "1.2.3.4/",
                                      "1.2.3.4/-1", "::1/x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(netguard_parse_allow(&guard, bad[i], err, sizeof err), -1);
        assert_non_null(strstr(err, "invalid range"));
    }
    NetGuard open = {.allow_private = true};
    assert_false(blocked(&open, "127.0.0.1"));
    assert_false(blocked(&open, "169.254.169.254"));
}

static void test_literal_hosts(void **state)
{
    (void)state;
    NetGuard guard = {.allow_private = false};
    bool is_address;
    assert_true(netguard_host_is_blocked(&guard, "127.0.0.1", &is_address));
    assert_true(is_address);
    assert_true(netguard_host_is_blocked(&guard, "[::1]", &is_address));
    assert_true(is_address);
    assert_false(netguard_host_is_blocked(&guard, "8.8.8.8", &is_address));
    assert_true(is_address);
    assert_false(netguard_host_is_blocked(&guard, "localhost", &is_address));
    assert_false(is_address);
    assert_false(netguard_host_is_blocked(&guard, "127.0.0.1.", &is_address));
    assert_false(is_address); /* a name; resolved and checked when connecting */
    assert_false(netguard_host_is_blocked(&guard, "", &is_address));
    assert_false(netguard_host_is_blocked(&guard, "[]", &is_address));
    /* The IPv6 spellings of reserved IPv4 addresses, as written in URLs. */
    static const char *const reserved[] = {"[::127.0.0.1]", "[::ffff:127.0.0.1]",
                                           "[::ffff:0:127.0.0.1]", "[64:ff9b::127.0.0.1]",
                                           "[2002:7f00:1::1]", "[::]", "[0:0:0:0:0:0:0:1]"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        if (!netguard_host_is_blocked(&guard, reserved[i], &is_address) || !is_address)
            fail_msg("%s should be refused", reserved[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocked_ranges_and_their_edges),
        cmocka_unit_test(test_allow_lists),
        cmocka_unit_test(test_literal_hosts),
    };
    return cmocka_run_group_tests_name("netguard", tests, NULL, NULL);
}
