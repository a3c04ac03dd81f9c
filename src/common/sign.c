/*
 * sign: see sign.h.
 */
#include "sign.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#define SIGN_PREFIX "whsec_"

int sign_parse_secret(const char *secret, SignKey *key, char *err, size_t errlen)
{
    memset(key, 0, sizeof *key);
    size_t prefix = strlen(SIGN_PREFIX);
    if (strncmp(secret, SIGN_PREFIX, prefix) != 0) {
        snprintf(err, errlen, "a secret must start with \"whsec_\" (make one with "
                              "'heraldctl secret new')");
        return -1;
    }
    const char *encoded = secret + prefix;
    size_t length = strlen(encoded);
    /* Standard base64 with padding: a multiple of 4 characters. */
    if (length == 0 || length % 4 != 0 || length > 4 * ((SIGN_KEY_MAX + 2) / 3)) {
        snprintf(err, errlen, "the secret is not base64 of 24 to 64 bytes");
        return -1;
    }
    unsigned char decoded[4 * ((SIGN_KEY_MAX + 2) / 3)];
    int written = EVP_DecodeBlock(decoded, (const unsigned char *)encoded, (int)length);
    if (written < 0) {
        snprintf(err, errlen, "the secret is not valid base64");
        return -1;
    }
    /* EVP_DecodeBlock counts padding as output bytes; take them back off. */
    size_t bytes = (size_t)written;
    for (size_t i = length; i > 0 && encoded[i - 1] == '='; i--)
        bytes--;
    if (bytes < SIGN_KEY_MIN || bytes > SIGN_KEY_MAX) {
        snprintf(err, errlen, "the secret decodes to %zu bytes; it must be 24 to 64", bytes);
        OPENSSL_cleanse(decoded, sizeof decoded);
        return -1;
    }
    memcpy(key->bytes, decoded, bytes);
    key->length = bytes;
    OPENSSL_cleanse(decoded, sizeof decoded);
    return 0;
}

int sign_generate_secret(size_t bytes, char *out, size_t outlen, char *err, size_t errlen)
{
    unsigned char random_bytes[SIGN_KEY_MAX];
    unsigned char encoded[4 * ((SIGN_KEY_MAX + 2) / 3) + 1];
    if (bytes < SIGN_KEY_MIN || bytes > SIGN_KEY_MAX) {
        snprintf(err, errlen, "a secret has 24 to 64 bytes");
        return -1;
    }
    if (RAND_bytes(random_bytes, (int)bytes) != 1) {
        snprintf(err, errlen, "OpenSSL could not produce random bytes");
        return -1;
    }
    EVP_EncodeBlock(encoded, random_bytes, (int)bytes);
    OPENSSL_cleanse(random_bytes, sizeof random_bytes);
    if ((size_t)snprintf(out, outlen, "%s%s", SIGN_PREFIX, (const char *)encoded) >= outlen) {
        snprintf(err, errlen, "secret buffer too small");
        return -1;
    }
    return 0;
}

int sign_signature(const SignKey *key, const char *id, int64_t timestamp, const char *body,
                   size_t length, char out[SIGN_SIGNATURE_MAX])
{
    char prefix[128];
    int prefix_length = snprintf(prefix, sizeof prefix, "%s.%" PRId64 ".", id, timestamp);
    if (prefix_length < 0 || (size_t)prefix_length >= sizeof prefix)
        return -1;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *context = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM parameters[] = {
        OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    size_t produced = 0;
    int ok = context != NULL && EVP_MAC_init(context, key->bytes, key->length, parameters) == 1 &&
             EVP_MAC_update(context, (const unsigned char *)prefix, (size_t)prefix_length) == 1 &&
             EVP_MAC_update(context, (const unsigned char *)body, length) == 1 &&
             EVP_MAC_final(context, digest, &produced, sizeof digest) == 1;
    EVP_MAC_CTX_free(context);
    EVP_MAC_free(mac);
    if (!ok)
        return -1;
    digest_length = (unsigned int)produced;
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, digest, (int)digest_length);
    return 0;
}

int sign_header_value(const SignKey *key, const SignKey *previous, int64_t previous_until,
                      int64_t now_ms, const char *id, int64_t timestamp, const char *body,
                      size_t length, char out[SIGN_HEADER_MAX])
{
    out[0] = '\0';
    if (key->length == 0)
        return 0;
    char signature[SIGN_SIGNATURE_MAX];
    if (sign_signature(key, id, timestamp, body, length, signature) != 0)
        return -1;
    snprintf(out, SIGN_HEADER_MAX, "%s", signature);
    if (previous->length > 0 && now_ms < previous_until) {
        if (sign_signature(previous, id, timestamp, body, length, signature) != 0)
            return -1;
        size_t used = strlen(out);
        snprintf(out + used, SIGN_HEADER_MAX - used, " %s", signature);
    }
    return 0;
}
