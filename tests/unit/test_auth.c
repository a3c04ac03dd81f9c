/* Unit tests for src/api/auth.c: token file forms, errors, and checking. */
#include "test_support.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"

static void test_named_and_bare_tokens(void **state)
{
    (void)state;
    char *dir = test_temp_dir();
    char *path = test_write_file(dir, "tokens",
                                 "# operators\n"
                                 "\n"
                                 "payments: pay-0123456789abcdef\n"
                                 "  bare-token-0123456789  \n");
    char err[256];
    Auth *auth = auth_load(path, err, sizeof err);
    if (auth == NULL)
        fail_msg("auth_load: %s", err);
    assert_int_equal(auth_token_count(auth), 2);
    const char *name = NULL;
    assert_true(auth_check(auth, "Bearer pay-0123456789abcdef", &name));
    assert_string_equal(name, "payments");
    assert_true(auth_check(auth, "bearer bare-token-0123456789", &name));
    assert_string_equal(name, "token-4");
    assert_false(auth_check(auth, "Bearer pay-0123456789abcde", &name));
    assert_false(auth_check(auth, "Bearer pay-0123456789abcdefX", &name));
    assert_false(auth_check(auth, "Basic pay-0123456789abcdef", &name));
    assert_false(auth_check(auth, "pay-0123456789abcdef", &name));
    assert_false(auth_check(auth, NULL, &name));
    assert_false(auth_check(auth, "Bearer ", &name));
    auth_free(auth);
    free(path);
    test_remove_dir(dir);
}

static void expect_load_error(const char *content, const char *expected)
{
    char *dir = test_temp_dir();
    char *path = test_write_file(dir, "tokens", content);
    char err[256] = "";
    Auth *auth = auth_load(path, err, sizeof err);
    assert_null(auth);
    if (strstr(err, expected) == NULL)
        fail_msg("\"%s\" does not contain \"%s\"", err, expected);
    free(path);
    test_remove_dir(dir);
}

static void test_load_errors(void **state)
{
    (void)state;
    expect_load_error("", "no tokens");
    expect_load_error("# only a comment\n", "no tokens");
    expect_load_error("short\n", "tokens:1: token shorter than 16");
    expect_load_error("ok: 0123456789abcdef0\n: 0123456789abcdef0\n", "tokens:2: token name");
    char err[256];
    assert_null(auth_load("/nonexistent/tokens", err, sizeof err));
    assert_non_null(strstr(err, "cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_and_bare_tokens),
        cmocka_unit_test(test_load_errors),
    };
    return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
