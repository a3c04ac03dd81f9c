/*
 * slow_resolver: a test-only LD_PRELOAD library that makes getaddrinfo slow
 * for chosen names, as a DNS server that answers late does (issue 21).
 *
 *   HERALD_SLOW_NAMES=slow.test:25000,other.test:500
 *
 * A listed name sleeps that many milliseconds in getaddrinfo, then resolves
 * to 127.0.0.1 (the tests' receivers listen on loopback); every other name
 * goes to the real getaddrinfo (dlsym RTLD_NEXT). Each slow lookup logs one
 * line on stderr when it starts, so a test waits for that line, not a guess.
 *
 * Built without sanitizers. With an ASan heraldd, preload the binary's
 * libasan first (LD_PRELOAD=libasan.so.N:slow_resolver.so): ASan must be the
 * first library loaded, and its getaddrinfo interceptor then calls this one.
 */
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define SLOW_RESOLVER_ENV "HERALD_SLOW_NAMES"
#define SLOW_RESOLVER_NAME_MAX 256

typedef int (*SlowResolverGetaddrinfo)(const char *, const char *, const struct addrinfo *,
                                       struct addrinfo **);

/* How long NAME's lookup sleeps, in ms, or -1 if NAME is not listed. */
static long slow_resolver_delay_ms(const char *name)
{
    const char *list = getenv(SLOW_RESOLVER_ENV);
    size_t name_length = strlen(name);
    while (list != NULL && *list != '\0') {
        const char *colon = strchr(list, ':');
        if (colon == NULL)
            return -1;
        size_t length = (size_t)(colon - list);
        char *end;
        long delay = strtol(colon + 1, &end, 10);
        if (length == name_length && strncasecmp(list, name, length) == 0)
            return delay < 0 ? 0 : delay;
        list = *end == ',' ? end + 1 : NULL;
    }
    return -1;
}

/* Sleeps DELAY_MS in full, whatever signals arrive. */
static void slow_resolver_sleep(long delay_ms)
{
    struct timespec until;
    if (clock_gettime(CLOCK_MONOTONIC, &until) != 0)
        return;
    until.tv_sec += delay_ms / 1000;
    until.tv_nsec += (delay_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
        ;
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    SlowResolverGetaddrinfo real = (SlowResolverGetaddrinfo)dlsym(RTLD_NEXT, "getaddrinfo");
    if (real == NULL)
        return EAI_SYSTEM;
    long delay_ms = node != NULL && strlen(node) < SLOW_RESOLVER_NAME_MAX
                        ? slow_resolver_delay_ms(node)
                        : -1;
    if (delay_ms < 0)
        return real(node, service, hints, res);
    fprintf(stderr, "slow_resolver: name=%s sleep_ms=%ld\n", node, delay_ms);
    slow_resolver_sleep(delay_ms);
    /* The name has an A record only: a caller asking for IPv6 alone gets none. */
    if (hints != NULL && hints->ai_family == AF_INET6)
        return EAI_NONAME;
    struct addrinfo numeric = {.ai_family = AF_INET, .ai_flags = AI_NUMERICHOST};
    if (hints != NULL) {
        numeric.ai_socktype = hints->ai_socktype;
        numeric.ai_protocol = hints->ai_protocol;
        numeric.ai_flags |= hints->ai_flags & AI_NUMERICSERV;
    }
    return real("127.0.0.1", service, &numeric, res);
}
