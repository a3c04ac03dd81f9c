/*
 * netguard: which addresses herald may connect to when it delivers (SSRF
 * protection).
 *
 * By default loopback, private, link-local, CGNAT, multicast, reserved,
 * documentation, unspecified and cloud-metadata addresses are refused, in
 * IPv4 and IPv6, including the IPv6 forms that carry an IPv4 address:
 * IPv4-mapped (::ffff:0:0/96) and NAT64 (64:ff9b::/96) and 6to4 (2002::/16)
 * are checked by the address inside; the deprecated IPv4-compatible (::/96)
 * and IPv4-translated (::ffff:0:0:0/96) forms, Teredo, site-local and the
 * other special-purpose IPv6 ranges are refused whole. An operator opens
 * exactly what is needed with allow_cidrs (or all private targets with
 * allow_private_targets). The check is made on the
 * address actually connected to, after DNS resolution (deliver.c's socket
 * callback), so alternative spellings and DNS rebinding cannot bypass it;
 * intake also refuses literal addresses in blocked ranges at once.
 *
 * A NetGuard is built once from the configuration and then only read, from
 * any thread.
 */
#ifndef HERALD_NETGUARD_H
#define HERALD_NETGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NETGUARD_ALLOW_MAX 64

typedef struct NetGuardRange {
    unsigned char prefix[16]; /* IPv6 form; IPv4 ranges are stored IPv4-mapped */
    int bits;                 /* of the IPv6 form */
} NetGuardRange;

typedef struct NetGuard {
    bool allow_private; /* everything may be connected to */
    NetGuardRange allow[NETGUARD_ALLOW_MAX];
    size_t allow_count;
} NetGuard;

/* Parses "10.1.2.0/24, fd00::/8, 192.0.2.7" (a bare address is a /32 or
 * /128) into GUARD's allow list. Returns 0, or -1 with ERR set. */
int netguard_parse_allow(NetGuard *guard, const char *text, char *err, size_t errlen);

/* True if ADDRESS (AF_INET or AF_INET6) may not be connected to. */
bool netguard_is_blocked(const NetGuard *guard, const struct sockaddr *address);

/* The same for a literal host as it appears in a URL ("127.0.0.1",
 * "[::1]"). Sets *IS_ADDRESS to whether HOST is a literal address at all;
 * names (to be resolved later) are never blocked here. */
bool netguard_host_is_blocked(const NetGuard *guard, const char *host, bool *is_address);

#endif
