/*
 * netguard: see netguard.h. Every address is compared in its 16-byte IPv6
 * form; IPv4 addresses and ranges are IPv4-mapped, and the IPv4 inside a
 * NAT64 address is checked as IPv4 too.
 */
#include "netguard.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Blocked ranges, written as text and parsed once (see netguard_blocked()). */
static const char *const netguard_blocked_text[] = {
    "0.0.0.0/8",      "10.0.0.0/8",      "100.64.0.0/10",  "127.0.0.0/8",    "169.254.0.0/16",
    "172.16.0.0/12",  "192.0.0.0/24",    "192.0.2.0/24",   "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15",  "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",    "240.0.0.0/4",
    "::/96",          "::ffff:0:0:0/96", "fc00::/7",       "fe80::/10",      "fec0::/10",
    "ff00::/8",       "100::/64",        "64:ff9b:1::/48", "2001::/32",      "2001:2::/48",
    "2001:10::/28",   "2001:20::/28",    "2001:db8::/32",  "3fff::/20",      "5f00::/16",
};

#define NETGUARD_BLOCKED_COUNT (sizeof netguard_blocked_text / sizeof netguard_blocked_text[0])

static const unsigned char netguard_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
static const unsigned char netguard_nat64_prefix[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
static const unsigned char netguard_6to4_prefix[2] = {0x20, 0x02};

/* Parses "ADDRESS[/BITS]" into RANGE. Returns 0, or -1. */
static int netguard_parse_range(const char *text, NetGuardRange *range)
{
    char address[INET6_ADDRSTRLEN + 8];
    const char *slash = strchr(text, '/');
    size_t length = slash ? (size_t)(slash - text) : strlen(text);
    if (length == 0 || length >= sizeof address)
        return -1;
    memcpy(address, text, length);
    address[length] = '\0';
    int max_bits;
    struct in_addr v4;
    if (inet_pton(AF_INET, address, &v4) == 1) {
        memcpy(range->prefix, netguard_mapped_prefix, 12);
        memcpy(range->prefix + 12, &v4, 4);
        max_bits = 32;
    } else if (inet_pton(AF_INET6, address, range->prefix) == 1) {
        max_bits = 128;
    } else {
        return -1;
    }
    int bits = max_bits;
    if (slash != NULL) {
        char *end;
        long value = strtol(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || value < 0 || value > max_bits)
            return -1;
        bits = (int)value;
    }
    range->bits = max_bits == 32 ? 96 + bits : bits;
    return 0;
}

static bool netguard_in_range(const unsigned char address[16], const NetGuardRange *range)
{
    int full = range->bits / 8;
    if (memcmp(address, range->prefix, (size_t)full) != 0)
        return false;
    int rest = range->bits % 8;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (address[full] & mask) == (range->prefix[full] & mask);
}

static NetGuardRange netguard_blocked_ranges[NETGUARD_BLOCKED_COUNT];
static pthread_once_t netguard_blocked_once = PTHREAD_ONCE_INIT;

static void netguard_parse_blocked(void)
{
    for (size_t i = 0; i < NETGUARD_BLOCKED_COUNT; i++) {
        if (netguard_parse_range(netguard_blocked_text[i], &netguard_blocked_ranges[i]) != 0)
            abort(); /* our own constant table */
    }
}

/* The blocked ranges, parsed once on first use from any thread. */
static const NetGuardRange *netguard_blocked(void)
{
    pthread_once(&netguard_blocked_once, netguard_parse_blocked);
    return netguard_blocked_ranges;
}

static bool netguard_matches_any(const unsigned char address[16], const NetGuardRange *ranges,
                                 size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (netguard_in_range(address, &ranges[i]))
            return true;
    }
    return false;
}

static bool netguard_is_blocked_bytes(const NetGuard *guard, const unsigned char address[16])
{
    if (guard->allow_private || netguard_matches_any(address, guard->allow, guard->allow_count))
        return false;
    if (netguard_matches_any(address, netguard_blocked(), NETGUARD_BLOCKED_COUNT))
        return true;
    /* The IPv4 address inside a NAT64 (64:ff9b::/96, last four bytes) or a
     * 6to4 (2002::/16, bytes 2 to 5) address is checked as IPv4. */
    const unsigned char *embedded = NULL;
    if (memcmp(address, netguard_nat64_prefix, 12) == 0)
        embedded = address + 12;
    else if (memcmp(address, netguard_6to4_prefix, 2) == 0)
        embedded = address + 2;
    if (embedded != NULL) {
        unsigned char inner[16];
        memcpy(inner, netguard_mapped_prefix, 12);
        memcpy(inner + 12, embedded, 4);
        return netguard_is_blocked_bytes(guard, inner);
    }
    return false;
}

bool netguard_is_blocked(const NetGuard *guard, const struct sockaddr *address)
{
    unsigned char bytes[16];
    if (address->sa_family == AF_INET) {
        memcpy(bytes, netguard_mapped_prefix, 12);
        memcpy(bytes + 12, &((const struct sockaddr_in *)address)->sin_addr, 4);
    } else if (address->sa_family == AF_INET6) {
        memcpy(bytes, &((const struct sockaddr_in6 *)address)->sin6_addr, 16);
    } else {
        return true; /* nothing else is a webhook target */
    }
    return netguard_is_blocked_bytes(guard, bytes);
}

bool netguard_host_is_blocked(const NetGuard *guard, const char *host, bool *is_address)
{
    char text[INET6_ADDRSTRLEN + 2];
    size_t length = strlen(host);
    if (length >= 2 && host[0] == '[' && host[length - 1] == ']') {
        host++;
        length -= 2;
    }
    *is_address = false;
    if (length == 0 || length >= sizeof text)
        return false;
    memcpy(text, host, length);
    text[length] = '\0';
    unsigned char bytes[16];
    struct in_addr v4;
    if (inet_pton(AF_INET, text, &v4) == 1) {
        memcpy(bytes, netguard_mapped_prefix, 12);
        memcpy(bytes + 12, &v4, 4);
    } else if (strchr(text, '%') == NULL && inet_pton(AF_INET6, text, bytes) == 1) {
        /* an address with a zone (fe80::1%eth0) fails inet_pton and is a name here */
    } else {
        return false;
    }
    *is_address = true;
    return netguard_is_blocked_bytes(guard, bytes);
}

int netguard_parse_allow(NetGuard *guard, const char *text, char *err, size_t errlen)
{
    guard->allow_count = 0;
    char copy[1024];
    if (strlen(text) >= sizeof copy) {
        snprintf(err, errlen, "allow_cidrs is too long");
        return -1;
    }
    strcpy(copy, text);
    char *saveptr = NULL;
    for (char *item = strtok_r(copy, ", \t", &saveptr); item != NULL;
         item = strtok_r(NULL, ", \t", &saveptr)) {
        if (guard->allow_count == NETGUARD_ALLOW_MAX) {
            snprintf(err, errlen, "at most %d ranges in allow_cidrs", NETGUARD_ALLOW_MAX);
            return -1;
        }
        if (netguard_parse_range(item, &guard->allow[guard->allow_count]) != 0) {
            snprintf(err, errlen, "invalid range \"%s\": use ADDRESS/BITS, e.g. 10.1.2.0/24",
                     item);
            return -1;
        }
        guard->allow_count++;
    }
    return 0;
}
