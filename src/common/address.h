/*
 * address: "HOST:PORT" listen addresses ("127.0.0.1:8080", "[::1]:8080",
 * "localhost:0") turned into socket addresses, and back into text for logs.
 */
#ifndef HERALD_ADDRESS_H
#define HERALD_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define ADDRESS_TEXT_MAX 64

/* Parses TEXT (a numeric address, or "localhost" for 127.0.0.1) into a socket
 * address; names are refused so that no DNS query is ever made for it.
 * Returns 0, or -1 with a message in ERR. */
int address_parse_listen(const char *text, struct sockaddr_storage *out, socklen_t *out_length,
                         char *err, size_t errlen);

/* "127.0.0.1:8080" or "[::1]:8080" */
void address_format(const struct sockaddr *address, char out[ADDRESS_TEXT_MAX]);

/* True for 127.0.0.0/8 and ::1 (and IPv4-mapped loopback). */
bool address_is_loopback(const struct sockaddr *address);

#endif
