/*
 * api_framing: the request framing checks made on a request's first call,
 * before any of its body is read (RFC 9112 sections 5.1, 6.1, 6.3). Any
 * HTTP thread; nothing is allocated or kept.
 *
 * api_framing.c also defines MHD_lookup_connection_value_n, declared in
 * <microhttpd.h>, in place of libmicrohttpd's own: the same lookup, except
 * that a Content-Length libmicrohttpd 0.9.75 would answer itself (with its
 * response head written twice) is not found, and api_framing_check answers
 * it instead. Every lookup in heraldd, libmicrohttpd's and herald's, goes
 * through it.
 */
#ifndef HERALD_API_FRAMING_H
#define HERALD_API_FRAMING_H

#include "api_call.h"

/* Refuses CALL's request if its framing is ambiguous: sets the reply (400,
 * or 501 for a transfer coding herald does not take), marks the connection
 * to be closed where what follows the head cannot be trusted, and returns
 * -1. VERSION is the request's HTTP version. Returns 0 otherwise. */
int api_framing_check(ApiCall *call, const char *version);

#endif
