/* Unit tests for src/core/task.c and src/common/address.c. */
#include "test_support.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "address.h"
#include "task.h"

static void test_status_names(void **state)
{
    (void)state;
    static const char *const names[] = {"pending", "delivering", "succeeded", "failed"};
    for (int i = 0; i < 4; i++) {
        TaskStatus status;
        assert_int_equal(task_status_parse(names[i], &status), 0);
        assert_string_equal(task_status_name(status), names[i]);
    }
    TaskStatus status;
    assert_int_equal(task_status_parse("PENDING", &status), -1);
    assert_int_equal(task_status_parse("", &status), -1);
}

static void test_business_type(void **state)
{
    (void)state;
    assert_true(task_business_type_is_valid("PAYMENT_SUCCESS"));
    assert_true(task_business_type_is_valid("order.v2:update-1"));
    assert_false(task_business_type_is_valid(""));
    assert_false(task_business_type_is_valid("with space"));
    assert_false(task_business_type_is_valid("slash/no"));
    char long_type[66];
    memset(long_type, 'A', 65);
    long_type[65] = '\0';
    assert_false(task_business_type_is_valid(long_type));
    long_type[64] = '\0';
    assert_true(task_business_type_is_valid(long_type));
}

/* An ordering key is sent as a header's value: visible ASCII, 1 to 128. */
static void test_ordering_key(void **state)
{
    (void)state;
    assert_true(task_ordering_key_is_valid("order-1"));
    assert_true(task_ordering_key_is_valid("a:b/c#d=e!~"));
    assert_false(task_ordering_key_is_valid(""));
    assert_false(task_ordering_key_is_valid("with space"));
    assert_false(task_ordering_key_is_valid("tab\there"));
    assert_false(task_ordering_key_is_valid("caf\xc3\xa9"));
    assert_false(task_ordering_key_is_valid("del\x7f"));
    char key[130];
    memset(key, 'k', 129);
    key[129] = '\0';
    assert_false(task_ordering_key_is_valid(key));
    key[128] = '\0';
    assert_true(task_ordering_key_is_valid(key));
}

/* The key is part of the request: the same request with another key, or
 * without one, is another request. */
static void test_hash_of_an_ordering_key(void **state)
{
    (void)state;
    TaskRequest plain = {.business_id = "P", .business_type = "T",
                         .target_url = "http://a.example/x", .payload = "{}",
                         .payload_length = 2, .payload_is_json = true};
    TaskRequest keyed = plain, other = plain;
    keyed.ordering_key = "k";
    other.ordering_key = "l";
    task_request_compute_hash(&plain);
    task_request_compute_hash(&keyed);
    task_request_compute_hash(&other);
    assert_false(task_request_hash_matches(&keyed, plain.hash));
    assert_false(task_request_hash_matches(&keyed, other.hash));
    assert_true(task_request_hash_matches(&keyed, keyed.hash));
}

static void test_webhook_ids_are_unique_and_well_formed(void **state)
{
    (void)state;
    char previous[TASK_WEBHOOK_ID_SIZE] = "";
    for (int i = 0; i < 100; i++) {
        char id[TASK_WEBHOOK_ID_SIZE];
        assert_int_equal(task_generate_webhook_id(id), 0);
        assert_int_equal(strlen(id), 30);
        assert_int_equal(strncmp(id, "msg_", 4), 0);
        assert_int_equal(strspn(id + 4, "abcdefghijklmnopqrstuvwxyz234567"), 26);
        assert_string_not_equal(id, previous);
        strcpy(previous, id);
    }
}

static void test_task_view_of_request(void **state)
{
    (void)state;
    TaskRequest request = {
        .business_id = "P1", .business_type = "T", .target_url = "http://a/",
        .target_host = "http://a:80", .payload = "xyz", .payload_length = 3,
        .payload_is_json = false, .idempotency_key = "k",
    };
    Task task;
    task_view_of_request(&task, &request, 42, "msg_q", 9, 1000);
    assert_int_equal(task.id, 42);
    assert_string_equal(task.webhook_id, "msg_q");
    /* Borrowed: the very same strings, so nothing to free. */
    assert_ptr_equal(task.payload, request.payload);
    assert_int_equal(task.payload_length, 3);
    assert_ptr_equal(task.business_id, request.business_id);
    assert_ptr_equal(task.target_host, request.target_host);
    assert_string_equal(task.idempotency_key, "k");
    assert_null(task.headers_json);
    assert_int_equal(task.max_retry, 9);
    assert_int_equal(task.status, TASK_STATUS_PENDING);
    assert_int_equal(task.attempts, 0);
    assert_int_equal(task.next_attempt_at, 1000);
    assert_int_equal(task.created_at, 1000);
    assert_int_equal(task.updated_at, 1000);
}

/* The hash covers target_url in its normal form, so two spellings of one
 * URL are one request; a task stored before (hashed over the URL as
 * written) is still the same request when repeated with the same bytes. */
static void test_hash_of_a_normal_form(void **state)
{
    (void)state;
    TaskRequest written = {.business_id = "P", .business_type = "T",
                           .target_url = "HTTP://A.example:80/x", .payload = "{}",
                           .payload_length = 2, .payload_is_json = true};
    TaskRequest normal = written, spelled = written, other = written;
    normal.target_url = "http://a.example/x";
    written.target_identity = "http://a.example/x";
    spelled.target_url = "http://A.EXAMPLE/./x";
    spelled.target_identity = "http://a.example/x";
    other.target_url = "http://a.example/X";
    task_request_compute_hash(&written);
    task_request_compute_hash(&normal);
    task_request_compute_hash(&spelled);
    task_request_compute_hash(&other);
    assert_false(normal.has_written_hash);
    assert_true(written.has_written_hash);
    assert_true(task_request_hash_matches(&written, normal.hash));
    assert_true(task_request_hash_matches(&spelled, written.hash));
    assert_false(task_request_hash_matches(&written, other.hash));
    /* As stored before the normal form: hashed over the URL as written. */
    TaskRequest before = written;
    before.target_identity = NULL;
    task_request_compute_hash(&before);
    assert_true(task_request_hash_matches(&written, before.hash));
    assert_false(task_request_hash_matches(&spelled, before.hash));
    assert_string_equal(task_request_identity(&before), "HTTP://A.example:80/x");
    assert_string_equal(task_request_identity(&written), "http://a.example/x");
}

static void test_listen_addresses(void **state)
{
    (void)state;
    struct sockaddr_storage address;
    socklen_t length;
    char err[256], text[ADDRESS_TEXT_MAX];
    assert_int_equal(address_parse_listen("127.0.0.1:8080", &address, &length, err, sizeof err), 0);
    address_format((struct sockaddr *)&address, text);
    assert_string_equal(text, "127.0.0.1:8080");
    assert_true(address_is_loopback((struct sockaddr *)&address));
    assert_int_equal(address_parse_listen("[::1]:0", &address, &length, err, sizeof err), 0);
    address_format((struct sockaddr *)&address, text);
    assert_string_equal(text, "[::1]:0");
    assert_true(address_is_loopback((struct sockaddr *)&address));
    assert_int_equal(address_parse_listen("0.0.0.0:80", &address, &length, err, sizeof err), 0);
    assert_false(address_is_loopback((struct sockaddr *)&address));
    assert_int_equal(address_parse_listen("localhost:80", &address, &length, err, sizeof err), 0);
    address_format((struct sockaddr *)&address, text);
    assert_string_equal(text, "127.0.0.1:80");
    static const char *const bad[] = {"8080", ":8080", "127.0.0.1:", "127.0.0.1:x",
                                      "127.0.0.1:65536", "[::1]8080", "[::1", "example.com:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(address_parse_listen(bad[i], &address, &length, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_business_type),
        cmocka_unit_test(test_ordering_key),
        cmocka_unit_test(test_hash_of_an_ordering_key),
        cmocka_unit_test(test_webhook_ids_are_unique_and_well_formed),
        cmocka_unit_test(test_task_view_of_request),
        cmocka_unit_test(test_hash_of_a_normal_form),
        cmocka_unit_test(test_listen_addresses),
    };
    return cmocka_run_group_tests_name("task", tests, NULL, NULL);
}
