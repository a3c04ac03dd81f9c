/* Unit tests for src/api/task_json.c: request validation (every rule names its
 * field), exact payload bytes, and the TASK rendering. */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task_json.h"
#include "task_render.h"

#define VALID_FIELDS \
    "\"business_id\":\"P1\",\"business_type\":\"PAYMENT_SUCCESS\",\"target_url\":\"https://order.example/notify\""

/* The default guard: nothing opened. */
static const NetGuard guard = {.allow_private = false};

/* Parses and validates BODY; returns 0 or -1 with ERROR set. */
static int read_body(const char *body, const char *idempotency_header, TaskRequest *out,
                     ApiError *error)
{
    cJSON *document;
    size_t length = strlen(body);
    if (task_json_parse_document(body, length, &document, error) != 0)
        return -1;
    int rc = task_json_read_request(document, body, json_raw_document(body, length), "",
                                    idempotency_header, &guard, out, error);
    cJSON_Delete(document);
    return rc;
}

static void expect_invalid(const char *body, int status, const char *code, const char *field)
{
    TaskRequest request;
    ApiError error = {0};
    if (read_body(body, NULL, &request, &error) == 0) {
        task_request_clear(&request);
        fail_msg("accepted: %s", body);
    }
    if (error.status != status || strcmp(error.code, code) != 0 || strcmp(error.field, field) != 0)
        fail_msg("%s: got %d %s field=\"%s\" (%s), expected %d %s field=\"%s\"", body,
                 error.status, error.code, error.field, error.message, status, code, field);
}

static void test_valid_request(void **state)
{
    (void)state;
    TaskRequest request;
    ApiError error;
    const char *body = "{" VALID_FIELDS ",\"payload\":{\"order_id\":\"O1\"},"
                       "\"headers\":{\"X-Tenant\":\"a\"},\"max_retry\":8,"
                       "\"idempotency_key\":\"k-1\"}";
    assert_int_equal(read_body(body, NULL, &request, &error), 0);
    assert_string_equal(request.business_id, "P1");
    assert_string_equal(request.business_type, "PAYMENT_SUCCESS");
    assert_string_equal(request.target_url, "https://order.example/notify");
    assert_string_equal(request.target_host, "https://order.example:443");
    assert_string_equal(request.payload, "{\"order_id\":\"O1\"}");
    assert_true(request.payload_is_json);
    assert_string_equal(request.headers_json, "{\"X-Tenant\":\"a\"}");
    assert_int_equal(request.max_retry, 8);
    assert_string_equal(request.idempotency_key, "k-1");
    task_request_clear(&request);
}

static void test_payload_bytes_are_kept(void **state)
{
    (void)state;
    TaskRequest request;
    ApiError error;
    /* Big integers and decimal spellings survive; only whitespace between tokens goes. */
    const char *body = "{" VALID_FIELDS ",\"payload\": { \"id\" : 12345678901234567890,"
                       " \"amount\": 10.10, \"e\": 1E+2, \"s\": \" keep  this \\u00e9 \" } }";
    assert_int_equal(read_body(body, NULL, &request, &error), 0);
    assert_string_equal(request.payload,
                        "{\"id\":12345678901234567890,\"amount\":10.10,\"e\":1E+2,"
                        "\"s\":\" keep  this \\u00e9 \"}");
    assert_int_equal(request.payload_length, strlen(request.payload));
    task_request_clear(&request);

    /* A string payload is sent as its decoded bytes. */
    assert_int_equal(read_body("{" VALID_FIELDS ",\"payload\":\"a=1&b=\\u4e2d\"}", NULL, &request,
                               &error),
                     0);
    assert_false(request.payload_is_json);
    assert_string_equal(request.payload, "a=1&b=\xe4\xb8\xad");
    task_request_clear(&request);

    assert_int_equal(read_body("{" VALID_FIELDS ",\"payload\":[1, [2]]}", NULL, &request, &error),
                     0);
    assert_string_equal(request.payload, "[1,[2]]");
    task_request_clear(&request);
}

static void test_body_errors(void **state)
{
    (void)state;
    expect_invalid("", 400, "invalid_json", "");
    expect_invalid("{not json", 400, "invalid_json", "");
    expect_invalid("[1,2]", 400, "invalid_json", "");
    expect_invalid("\"text\"", 400, "invalid_json", "");
    expect_invalid("{} trailing", 400, "invalid_json", "");
    expect_invalid("{\"business_id\":\"\xff\"}", 400, "invalid_json", "");
    expect_invalid("{\"business_id\":\"a\\u0000b\"}", 400, "invalid_json", "");
    /* cJSON would take these as whitespace, or raw inside strings; JSON does not. */
    expect_invalid("{\"business_id\"\x15:\"P\"}", 400, "invalid_json", "");
    expect_invalid("{\"business_id\":\"a\tb\"}", 400, "invalid_json", "");
    expect_invalid("\x0b{}", 400, "invalid_json", "");
}

static void test_required_fields(void **state)
{
    (void)state;
    expect_invalid("{\"business_type\":\"T\",\"target_url\":\"http://a/\",\"payload\":{}}", 422,
                   "validation_failed", "business_id");
    expect_invalid("{\"business_id\":\"P\",\"target_url\":\"http://a/\",\"payload\":{}}", 422,
                   "validation_failed", "business_type");
    expect_invalid("{\"business_id\":\"P\",\"business_type\":\"T\",\"payload\":{}}", 422,
                   "validation_failed", "target_url");
    expect_invalid("{" VALID_FIELDS "}", 422, "validation_failed", "payload");
}

static void test_field_rules(void **state)
{
    (void)state;
    char body[4096];
    expect_invalid("{\"business_id\":1,\"business_type\":\"T\",\"target_url\":\"http://a/\",\"payload\":{}}",
                   422, "validation_failed", "business_id");
    expect_invalid("{\"business_id\":\"\",\"business_type\":\"T\",\"target_url\":\"http://a/\",\"payload\":{}}",
                   422, "validation_failed", "business_id");
    snprintf(body, sizeof body,
             "{\"business_id\":\"%0129d\",\"business_type\":\"T\",\"target_url\":\"http://a/\",\"payload\":{}}", 0);
    expect_invalid(body, 422, "validation_failed", "business_id");
    /* 128 characters of 3 bytes each is fine: the limit counts characters. */
    char id[128 * 3 + 1] = "";
    for (int i = 0; i < 128; i++)
        strcat(id, "\xe4\xb8\xad");
    snprintf(body, sizeof body,
             "{\"business_id\":\"%s\",\"business_type\":\"T\",\"target_url\":\"http://a/\",\"payload\":{}}", id);
    TaskRequest request;
    ApiError error;
    assert_int_equal(read_body(body, NULL, &request, &error), 0);
    task_request_clear(&request);
    expect_invalid("{\"business_id\":\"a\\nb\",\"business_type\":\"T\",\"target_url\":\"http://a/\",\"payload\":{}}",
                   422, "validation_failed", "business_id");
    expect_invalid("{\"business_id\":\"P\",\"business_type\":\"A B\",\"target_url\":\"http://a/\",\"payload\":{}}",
                   422, "validation_failed", "business_type");
    snprintf(body, sizeof body,
             "{\"business_id\":\"P\",\"business_type\":\"%065d\",\"target_url\":\"http://a/\",\"payload\":{}}", 0);
    expect_invalid(body, 422, "validation_failed", "business_type");
    expect_invalid("{\"business_id\":\"P\",\"business_type\":\"T\",\"target_url\":\"http://a/\",\"payload\":42}",
                   422, "validation_failed", "payload");
    expect_invalid("{\"business_id\":\"P\",\"business_type\":\"T\",\"target_url\":\"http://a/\",\"payload\":null}",
                   422, "validation_failed", "payload");
    expect_invalid("{" VALID_FIELDS ",\"payload\":{},\"max_retry\":0}", 422, "validation_failed", "max_retry");
    expect_invalid("{" VALID_FIELDS ",\"payload\":{},\"max_retry\":101}", 422, "validation_failed", "max_retry");
    expect_invalid("{" VALID_FIELDS ",\"payload\":{},\"max_retry\":2.5}", 422, "validation_failed", "max_retry");
    expect_invalid("{" VALID_FIELDS ",\"payload\":{},\"max_retry\":\"3\"}", 422, "validation_failed", "max_retry");
    expect_invalid("{" VALID_FIELDS ",\"payload\":{},\"idempotency_key\":\"\"}", 422, "validation_failed", "idempotency_key");
    snprintf(body, sizeof body, "{" VALID_FIELDS ",\"payload\":{},\"idempotency_key\":\"%0129d\"}", 0);
    expect_invalid(body, 422, "validation_failed", "idempotency_key");
    expect_invalid("{" VALID_FIELDS ",\"payload\":{},\"max_retries\":3}", 422, "validation_failed", "max_retries");
    expect_invalid("{" VALID_FIELDS ",\"payload\":{},\"payload\":{}}", 422, "validation_failed", "payload");
}

static void test_target_url_rules(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "order/api/notify", "ftp://a/x", "file:///etc/passwd", "http://", "http:///path",
        "https://user:pass@host/", "http://a b/", "http://host/\\\\x", "javascript:alert(1)", "",
        "http://[::1/", "http://b\xc3\xbc" "cher.example/", "http://%c3%bc.example/", "http://a..b/",
        "http://.a/", "http://a.example:0/", "http://a.example:000/", "http://[fe80::1%25eth0]/",
        "http://a%2fb/", "http://a%25b/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"business_id\":\"P\",\"business_type\":\"T\",\"target_url\":\"%s\",\"payload\":{}}",
                 bad[i]);
        expect_invalid(body, 422, "validation_failed", "target_url");
    }
    char body[4096];
    snprintf(body, sizeof body,
             "{\"business_id\":\"P\",\"business_type\":\"T\",\"target_url\":\"http://a/%02040d\",\"payload\":{}}", 0);
    expect_invalid(body, 422, "validation_failed", "target_url");
    static const char *const good[] = {"http://a/", "HTTPS://order.example:8443/x?y=1#z",
                                       "http://192.0.3.1:9/", "http://[2001:4860::1]:80/p",
                                       "http://xn--bcher-kva.example/", "https://a_b.example/",
                                       "http://example.com./x", "http://8.8.8.8:65535/",
                                       "http://[2606:4700::1111]/"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(body, sizeof body,
                 "{\"business_id\":\"P\",\"business_type\":\"T\",\"target_url\":\"%s\",\"payload\":{}}",
                 good[i]);
        TaskRequest request;
        ApiError error;
        if (read_body(body, NULL, &request, &error) != 0)
            fail_msg("%s refused: %s", good[i], error.message);
        task_request_clear(&request);
    }
}

static void test_target_host_key(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        const char *host;
    } cases[] = {{"http://A.Example/x", "http://a.example:80"},
                 {"HTTPS://a.example:8443/", "https://a.example:8443"},
                 {"http://192.0.3.1:9/", "http://192.0.3.1:9"},
                 {"http://[2001:4860::1]/", "http://[2001:4860::1]:80"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"business_id\":\"P\",\"business_type\":\"T\",\"target_url\":\"%s\",\"payload\":{}}",
                 cases[i].url);
        TaskRequest request;
        ApiError error;
        assert_int_equal(read_body(body, NULL, &request, &error), 0);
        assert_string_equal(request.target_host, cases[i].host);
        task_request_clear(&request);
    }
}

static int read_with_guard(const NetGuard *with, const char *url, ApiError *error)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"business_id\":\"P\",\"business_type\":\"T\",\"target_url\":\"%s\",\"payload\":{}}",
             url);
    cJSON *document = cJSON_Parse(body);
    TaskRequest request;
    int rc = task_json_read_request(document, body, json_raw_document(body, strlen(body)), "",
                                    NULL, with, &request, error);
    cJSON_Delete(document);
    if (rc == 0)
        task_request_clear(&request);
    return rc;
}

static void test_literal_blocked_addresses_are_refused(void **state)
{
    (void)state;
    static const char *const blocked[] = {
        "http://127.0.0.1/", "http://127.1/", "http://2130706433/", "http://0x7f.1/",
        "http://0177.0.0.1/", "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data", "http://100.64.0.1/", "http://0.0.0.0/",
        "http://224.0.0.1/", "http://240.0.0.1/", "http://[::1]/", "http://[::]/",
        "http://[fc00::1]/", "http://[fd00:ec2::254]/", "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/", "http://[::ffff:10.0.0.1]/", "http://[64:ff9b::7f00:1]/",
        "http://[64:ff9b::a00:1]/"};
    for (size_t i = 0; i < sizeof blocked / sizeof blocked[0]; i++) {
        ApiError error;
        if (read_with_guard(&guard, blocked[i], &error) != -1)
            fail_msg("%s was accepted", blocked[i]);
        assert_string_equal(error.field, "target_url");
        assert_non_null(strstr(error.message, "private, loopback or reserved"));
    }
    /* Names are resolved at delivery, where the same check applies to the address. */
    ApiError error;
    assert_int_equal(read_with_guard(&guard, "http://localhost/", &error), 0);
    assert_int_equal(read_with_guard(&guard, "http://[64:ff9b::808:808]/", &error), 0); /* 8.8.8.8 */
    /* allow_cidrs opens exactly its range; allow_private opens everything. */
    NetGuard opened = {.allow_private = false};
    char err[128];
    assert_int_equal(netguard_parse_allow(&opened, "10.1.2.0/24, ::1", err, sizeof err), 0);
    assert_int_equal(read_with_guard(&opened, "http://10.1.2.200/", &error), 0);
    assert_int_equal(read_with_guard(&opened, "http://10.1.3.1/", &error), -1);
    assert_int_equal(read_with_guard(&opened, "http://[::1]/", &error), 0);
    NetGuard open_all = {.allow_private = true};
    assert_int_equal(read_with_guard(&open_all, "http://127.0.0.1/", &error), 0);
}

static void test_header_rules(void **state)
{
    (void)state;
    expect_invalid("{" VALID_FIELDS ",\"payload\":{},\"headers\":[]}", 422, "validation_failed", "headers");
    expect_invalid("{" VALID_FIELDS ",\"payload\":{},\"headers\":{\"X-A\":1}}", 422, "validation_failed", "headers.X-A");
    expect_invalid("{" VALID_FIELDS ",\"payload\":{},\"headers\":{\"Bad Name\":\"v\"}}", 422, "validation_failed", "headers.Bad Name");
    expect_invalid("{" VALID_FIELDS ",\"payload\":{},\"headers\":{\"X-A\":\"a\\r\\nX-Injected: 1\"}}", 422, "validation_failed", "headers.X-A");
    expect_invalid("{" VALID_FIELDS ",\"payload\":{},\"headers\":{\"X-A\":\"a\",\"x-a\":\"b\"}}", 422, "validation_failed", "headers");
    static const char *const reserved[] = {
        "Host",         "content-length",     "Transfer-Encoding", "Connection",  "Upgrade",
        "TE",           "Trailer",            "Keep-Alive",        "Proxy-Connection", "Expect",
        "User-Agent",   "user-agent",         "HTTP2-Settings",    "webhook-id",  "Webhook-Signature",
        "webhook-timestamp", "Webhook-Anything", "X-Herald-Attempt", "x-herald-x", "X-Business-ID",
        "x-business-type", "X-Business-Tenant", "X-BUSINESS-"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        char body[512], field[64];
        snprintf(body, sizeof body, "{" VALID_FIELDS ",\"payload\":{},\"headers\":{\"%s\":\"v\"}}", reserved[i]);
        snprintf(field, sizeof field, "headers.%s", reserved[i]);
        expect_invalid(body, 422, "validation_failed", field);
    }
    char body[2048] = "{" VALID_FIELDS ",\"payload\":{},\"headers\":{";
    for (int i = 0; i < 21; i++)
        snprintf(body + strlen(body), sizeof body - strlen(body), "%s\"X-H%d\":\"v\"", i ? "," : "", i);
    strcat(body, "}}");
    expect_invalid(body, 422, "validation_failed", "headers");
    /* Content-Type may be set by the task: it replaces herald's default. */
    TaskRequest request;
    ApiError error;
    assert_int_equal(read_body("{" VALID_FIELDS ",\"payload\":\"a=1\",\"headers\":{\"Content-Type\":\"application/x-www-form-urlencoded\"}}",
                               NULL, &request, &error), 0);
    task_request_clear(&request);
}

static void test_idempotency_header(void **state)
{
    (void)state;
    TaskRequest request;
    ApiError error;
    assert_int_equal(read_body("{" VALID_FIELDS ",\"payload\":{}}", "hdr-key", &request, &error), 0);
    assert_string_equal(request.idempotency_key, "hdr-key");
    task_request_clear(&request);
    assert_int_equal(read_body("{" VALID_FIELDS ",\"payload\":{},\"idempotency_key\":\"same\"}", "same",
                               &request, &error), 0);
    task_request_clear(&request);
    assert_int_equal(read_body("{" VALID_FIELDS ",\"payload\":{},\"idempotency_key\":\"one\"}", "two",
                               &request, &error), -1);
    assert_string_equal(error.field, "idempotency_key");
}

static void test_prefix_names_batch_element(void **state)
{
    (void)state;
    const char *body = "{\"business_id\":\"P\",\"business_type\":\"T\",\"target_url\":\"nope\",\"payload\":{}}";
    cJSON *document = cJSON_Parse(body);
    TaskRequest request;
    ApiError error;
    assert_int_equal(task_json_read_request(document, body, json_raw_document(body, strlen(body)),
                                            "tasks[3].", NULL, NULL, &request, &error), -1);
    assert_string_equal(error.field, "tasks[3].target_url");
    cJSON_Delete(document);
}

static void test_hash_distinguishes_requests(void **state)
{
    (void)state;
    TaskRequest a, b, c;
    ApiError error;
    assert_int_equal(read_body("{" VALID_FIELDS ",\"payload\":{\"x\":1}}", NULL, &a, &error), 0);
    assert_int_equal(read_body("{" VALID_FIELDS ", \"payload\" : { \"x\" : 1 } }", NULL, &b, &error), 0);
    assert_int_equal(read_body("{" VALID_FIELDS ",\"payload\":{\"x\":2}}", NULL, &c, &error), 0);
    assert_memory_equal(a.hash, b.hash, TASK_HASH_SIZE);
    assert_memory_not_equal(a.hash, c.hash, TASK_HASH_SIZE);
    task_request_clear(&a);
    task_request_clear(&b);
    task_request_clear(&c);
}

static void test_render(void **state)
{
    (void)state;
    Task task = {
        .id = 7,
        .webhook_id = "msg_abc",
        .business_id = "P1",
        .business_type = "T",
        .target_url = "http://a/",
        .payload = "{\"n\":12345678901234567890}",
        .payload_is_json = true,
        .status = TASK_STATUS_PENDING,
        .attempts = 0,
        .max_retry = 5,
        .next_attempt_at = 1000,
        .created_at = 1000,
        .updated_at = 1000,
    };
    cJSON *object = task_render_task(&task);
    char *text = cJSON_PrintUnformatted(object);
    assert_non_null(strstr(text, "\"id\":7"));
    assert_non_null(strstr(text, "\"status\":\"pending\""));
    assert_non_null(strstr(text, "\"created_at\":\"1970-01-01T00:00:01.000Z\""));
    assert_non_null(strstr(text, "\"last_status_code\":null"));
    assert_non_null(strstr(text, "\"headers\":{}"));
    assert_non_null(strstr(text, "\"payload\":{\"n\":12345678901234567890}"));
    free(text);
    cJSON_Delete(object);
    task.payload = "raw \"text\"";
    task.payload_is_json = false;
    task.status = TASK_STATUS_SUCCEEDED;
    task.last_status_code = 200;
    object = task_render_task(&task);
    text = cJSON_PrintUnformatted(object);
    assert_non_null(strstr(text, "\"payload\":\"raw \\\"text\\\"\""));
    assert_non_null(strstr(text, "\"next_attempt_at\":null"));
    assert_non_null(strstr(text, "\"last_status_code\":200"));
    free(text);
    cJSON_Delete(object);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_request),
        cmocka_unit_test(test_payload_bytes_are_kept),
        cmocka_unit_test(test_body_errors),
        cmocka_unit_test(test_required_fields),
        cmocka_unit_test(test_field_rules),
        cmocka_unit_test(test_target_url_rules),
        cmocka_unit_test(test_target_host_key),
        cmocka_unit_test(test_literal_blocked_addresses_are_refused),
        cmocka_unit_test(test_header_rules),
        cmocka_unit_test(test_idempotency_header),
        cmocka_unit_test(test_prefix_names_batch_element),
        cmocka_unit_test(test_hash_distinguishes_requests),
        cmocka_unit_test(test_render),
    };
    return cmocka_run_group_tests_name("task_json", tests, NULL, NULL);
}
