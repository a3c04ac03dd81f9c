/*
 * sign: Standard Webhooks signatures (https://www.standardwebhooks.com).
 *
 * A secret is "whsec_" + base64 of 24..64 random bytes. The signed content
 * is webhook-id + "." + webhook-timestamp + "." + the exact body sent; the
 * header is "webhook-signature: v1,<base64 HMAC-SHA256>", several separated
 * by spaces while a secret is being rotated. HMAC and base64 are OpenSSL's.
 */
#ifndef HERALD_SIGN_H
#define HERALD_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIGN_KEY_MIN 24
#define SIGN_KEY_MAX 64
#define SIGN_SECRET_MAX 128   /* "whsec_" + base64 of 64 bytes, with room */
#define SIGN_SIGNATURE_MAX 64 /* "v1," + base64 of 32 bytes + NUL */

typedef struct SignKey {
    unsigned char bytes[SIGN_KEY_MAX];
    size_t length; /* 0 = no key */
} SignKey;

/* Decodes "whsec_<base64>" into KEY. Returns 0, or -1 with ERR set. */
int sign_parse_secret(const char *secret, SignKey *key, char *err, size_t errlen);

/* A new secret of BYTES random bytes (24..64) as "whsec_..." into OUT.
 * Returns 0, or -1 with ERR set. */
int sign_generate_secret(size_t bytes, char *out, size_t outlen, char *err, size_t errlen);

/* "v1,<signature>" of (ID, TIMESTAMP, BODY) under KEY into OUT. Returns 0,
 * or -1 if OpenSSL fails. */
int sign_signature(const SignKey *key, const char *id, int64_t timestamp, const char *body,
                   size_t length, char out[SIGN_SIGNATURE_MAX]);

/* The webhook-signature header's value for (ID, TIMESTAMP, BODY): "v1,SIG"
 * under KEY and, while NOW_MS < PREVIOUS_UNTIL, " v1,SIG" under PREVIOUS too
 * (a rotation). "" when KEY is empty (no secret: unsigned). Returns 0, or -1
 * if OpenSSL fails. */
#define SIGN_HEADER_MAX (2 * SIGN_SIGNATURE_MAX + 2)
int sign_header_value(const SignKey *key, const SignKey *previous, int64_t previous_until,
                      int64_t now_ms, const char *id, int64_t timestamp, const char *body,
                      size_t length, char out[SIGN_HEADER_MAX]);

#endif
