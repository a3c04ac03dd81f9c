/* Unit tests for src/common/sign.c: the Standard Webhooks test vector, secret
 * parsing and generation. */
#include "test_support.h"

#include <string.h>

#include "sign.h"

static void test_known_vector(void **state)
{
    (void)state;
    /* The published Standard Webhooks / Svix example, checked independently. */
    SignKey key;
    char err[256];
    assert_int_equal(sign_parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &key, err, sizeof err), 0);
    assert_int_equal(key.length, 24);
    const char *body = "{\"test\": 2432232314}";
    char signature[SIGN_SIGNATURE_MAX];
    assert_int_equal(sign_signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
                                    strlen(body), signature), 0);
    assert_string_equal(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* Any change of id, timestamp or body changes the signature. */
    char other[SIGN_SIGNATURE_MAX];
    sign_signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJeK", 1614265330, body, strlen(body), other);
    assert_string_not_equal(signature, other);
    sign_signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, strlen(body), other);
    assert_string_not_equal(signature, other);
    sign_signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body) - 1, other);
    assert_string_not_equal(signature, other);
}

static void test_parse_rules(void **state)
{
    (void)state;
    SignKey key;
    char err[256];
    static const char *const bad[] = {
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",              /* no prefix */
        "whsec_",                                         /* empty */
        "whsec_c2hvcnQ=",                                 /* 5 bytes */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",          /* not a multiple of 4 */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa!w",         /* not base64 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(sign_parse_secret(bad[i], &key, err, sizeof err), -1);
        assert_true(strlen(err) > 0);
    }
    /* 64 bytes is the largest. */
    char secret[SIGN_SECRET_MAX];
    assert_int_equal(sign_generate_secret(64, secret, sizeof secret, err, sizeof err), 0);
    assert_int_equal(sign_parse_secret(secret, &key, err, sizeof err), 0);
    assert_int_equal(key.length, 64);
    assert_int_equal(sign_generate_secret(65, secret, sizeof secret, err, sizeof err), -1);
    assert_int_equal(sign_generate_secret(23, secret, sizeof secret, err, sizeof err), -1);
}

static void test_generated_secrets(void **state)
{
    (void)state;
    char first[SIGN_SECRET_MAX], second[SIGN_SECRET_MAX], err[256];
    assert_int_equal(sign_generate_secret(32, first, sizeof first, err, sizeof err), 0);
    assert_int_equal(sign_generate_secret(32, second, sizeof second, err, sizeof err), 0);
    assert_int_equal(strncmp(first, "whsec_", 6), 0);
    assert_int_equal(strlen(first), 6 + 44);
    assert_string_not_equal(first, second);
    SignKey key;
    assert_int_equal(sign_parse_secret(first, &key, err, sizeof err), 0);
    assert_int_equal(key.length, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_vector),
        cmocka_unit_test(test_parse_rules),
        cmocka_unit_test(test_generated_secrets),
    };
    return cmocka_run_group_tests_name("sign", tests, NULL, NULL);
}
