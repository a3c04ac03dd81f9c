/* Unit tests for src/delivery/deliver.c and src/delivery/retry_after.c: outcome classification,
 * retry decisions, Retry-After, and the request headers. */
#include "test_support.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "deliver.h"
#include "retry_after.h"

static Policy make_policy(const char *success_body)
{
    Policy policy;
    memset(&policy, 0, sizeof policy);
    policy.max_retry = 3;
    policy.base_delay_ms = 1000;
    policy.max_delay_ms = 60000;
    policy.exponential_backoff = true;
    snprintf(policy.success_body, sizeof policy.success_body, "%s", success_body);
    return policy;
}

static DeliverVerdict classify(CURLcode result, long code, const char *body, bool complete,
                               const char *success_body, Attempt *attempt)
{
    Policy policy = make_policy(success_body);
    DeliverResponse response = {.result = result, .curl_message = "", .status_code = code,
                                .body = body, .body_length = strlen(body),
                                .body_complete = complete};
    memset(attempt, 0, sizeof *attempt);
    return deliver_classify(&response, &policy, attempt);
}

/* url.full (deliver_trace.c): credentials never reach a span. */
static void test_trace_url_without_credentials(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"https://user:secret@example.com/hook?a=1", "https://example.com/hook?a=1"},
        {"http://user@[::1]:8080/x", "http://[::1]:8080/x"},
        {"https://u:p@ss@example.com", "https://example.com"},
        {"https://example.com/path@not-userinfo", "https://example.com/path@not-userinfo"},
        {"https://example.com/?q=a@b", "https://example.com/?q=a@b"},
        {"no-scheme", "no-scheme"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[256];
        deliver_trace_strip_credentials(cases[i][0], out, sizeof out);
        assert_string_equal(out, cases[i][1]);
    }
}

static void test_classify_http(void **state)
{
    (void)state;
    Attempt attempt;
    for (long code = 200; code <= 299; code += 99 / 3) {
        assert_int_equal(classify(CURLE_OK, code, "", true, "", &attempt), DELIVER_SUCCESS);
        assert_string_equal(attempt.error_class, "");
    }
    assert_int_equal(classify(CURLE_OK, 301, "", true, "", &attempt), DELIVER_FAILURE);
    assert_string_equal(attempt.error_class, "redirect");
    assert_int_equal(attempt.status_code, 301);
    assert_int_equal(classify(CURLE_OK, 404, "", true, "", &attempt), DELIVER_FAILURE);
    assert_string_equal(attempt.error_class, "http_status");
    assert_string_equal(attempt.error_message, "HTTP 404");
    assert_int_equal(classify(CURLE_OK, 500, "", true, "", &attempt), DELIVER_FAILURE);
    assert_int_equal(classify(CURLE_OK, 429, "", true, "", &attempt), DELIVER_FAILURE);
    assert_int_equal(classify(CURLE_OK, 410, "", true, "", &attempt), DELIVER_GONE);
    assert_string_equal(attempt.error_class, "gone");
}

static void test_classify_success_body(void **state)
{
    (void)state;
    Attempt attempt;
    assert_int_equal(classify(CURLE_OK, 200, "SUCCESS", true, "SUCCESS", &attempt), DELIVER_SUCCESS);
    assert_int_equal(classify(CURLE_OK, 200, " \r\nSUCCESS\n ", true, "SUCCESS", &attempt), DELIVER_SUCCESS);
    assert_int_equal(classify(CURLE_OK, 200, "success", true, "SUCCESS", &attempt), DELIVER_FAILURE);
    assert_string_equal(attempt.error_class, "body_mismatch");
    assert_non_null(strstr(attempt.error_message, "\"success\""));
    assert_int_equal(classify(CURLE_OK, 200, "<html>error</html>", true, "SUCCESS", &attempt), DELIVER_FAILURE);
    assert_int_equal(classify(CURLE_OK, 200, "SUCCESSFUL", true, "SUCCESS", &attempt), DELIVER_FAILURE);
    /* A body longer than what was kept cannot be the expected word. */
    assert_int_equal(classify(CURLE_OK, 200, "SUCCESS", false, "SUCCESS", &attempt), DELIVER_FAILURE);
    /* A non-2xx is a failure whatever its body says. */
    assert_int_equal(classify(CURLE_OK, 500, "SUCCESS", true, "SUCCESS", &attempt), DELIVER_FAILURE);
    assert_string_equal(attempt.error_class, "http_status");
}

static void test_classify_transport(void **state)
{
    (void)state;
    static const struct {
        CURLcode code;
        const char *error_class;
    } cases[] = {
        {CURLE_OPERATION_TIMEDOUT, "timeout"},   {CURLE_COULDNT_CONNECT, "connect"},
        {CURLE_COULDNT_RESOLVE_HOST, "dns"},     {CURLE_PEER_FAILED_VERIFICATION, "tls"},
        {CURLE_SSL_CONNECT_ERROR, "tls"},        {CURLE_RECV_ERROR, "network"},
        {CURLE_GOT_NOTHING, "network"},          {CURLE_SEND_ERROR, "network"},
        {CURLE_UNSUPPORTED_PROTOCOL, "protocol"}, {CURLE_WEIRD_SERVER_REPLY, "protocol"},
        {CURLE_BAD_CONTENT_ENCODING, "protocol"},
        /* before any body: libcurl's limit on one header line */
        {CURLE_OUT_OF_MEMORY, "response_too_large"},
        {CURLE_URL_MALFORMAT, "url"},            {CURLE_FAILED_INIT, "transport"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Attempt attempt;
        /* Even with a 200 status line, a broken transfer is not an acknowledgement. */
        assert_int_equal(classify(cases[i].code, 200, "", true, "", &attempt), DELIVER_FAILURE);
        assert_string_equal(attempt.error_class, cases[i].error_class);
        assert_true(strlen(attempt.error_message) > 0);
    }
}

static void test_decide(void **state)
{
    (void)state;
    Policy policy = make_policy("");
    AttemptOutcome outcome;
    deliver_decide(DELIVER_SUCCESS, &policy, 3, 1, 0, 200, -1, 1000, 0.5, &outcome);
    assert_int_equal(outcome.kind, ATTEMPT_OUTCOME_SUCCEEDED);
    deliver_decide(DELIVER_GONE, &policy, 3, 1, 0, 410, -1, 1000, 0.5, &outcome);
    assert_int_equal(outcome.kind, ATTEMPT_OUTCOME_MANUAL);
    assert_string_equal(outcome.manual_reason, "gone");
    deliver_decide(DELIVER_FAILURE, &policy, 3, 1, 0, 500, -1, 1000, 0.5, &outcome);
    assert_int_equal(outcome.kind, ATTEMPT_OUTCOME_RETRY);
    assert_int_equal(outcome.next_attempt_at, 1000 + 1000);
    deliver_decide(DELIVER_FAILURE, &policy, 3, 2, 0, 500, -1, 1000, 0.5, &outcome);
    assert_int_equal(outcome.next_attempt_at, 1000 + 2000);
    deliver_decide(DELIVER_FAILURE, &policy, 3, 3, 0, 500, -1, 1000, 0.5, &outcome);
    assert_int_equal(outcome.kind, ATTEMPT_OUTCOME_MANUAL);
    assert_string_equal(outcome.manual_reason, "exhausted");
    /* Retry-After counts on 429 and 503 only, and is capped by max_delay. */
    deliver_decide(DELIVER_FAILURE, &policy, 3, 1, 0, 429, 30000, 1000, 0.5, &outcome);
    assert_int_equal(outcome.next_attempt_at, 1000 + 30000);
    deliver_decide(DELIVER_FAILURE, &policy, 3, 1, 0, 503, 600000, 1000, 0.5, &outcome);
    assert_int_equal(outcome.next_attempt_at, 1000 + 60000);
    deliver_decide(DELIVER_FAILURE, &policy, 3, 1, 0, 500, 30000, 1000, 0.5, &outcome);
    assert_int_equal(outcome.next_attempt_at, 1000 + 1000);
    deliver_decide(DELIVER_FAILURE, &policy, 3, 1, 0, 429, 10, 1000, 0.5, &outcome);
    assert_int_equal(outcome.next_attempt_at, 1000 + 1000); /* never sooner than the policy */
}

static void test_retry_after_parse(void **state)
{
    (void)state;
    int64_t now = 1795095907000LL; /* 2026-11-19T13:45:07Z */
    assert_int_equal(retry_after_parse("120", now), 120000);
    assert_int_equal(retry_after_parse(" 0 ", now), 0);
    assert_int_equal(retry_after_parse("99999999999999999999", now), RETRY_AFTER_MAX_MS);
    assert_int_equal(retry_after_parse("Thu, 19 Nov 2026 13:46:07 GMT", now), 60000);
    assert_int_equal(retry_after_parse("Thursday, 19-Nov-26 13:46:07 GMT", now), 60000);
    assert_int_equal(retry_after_parse("Thu Nov 19 13:46:07 2026", now), 60000);
    assert_int_equal(retry_after_parse("Thu, 19 Nov 2026 13:00:00 GMT", now), 0); /* past */
    assert_int_equal(retry_after_parse("", now), -1);
    assert_int_equal(retry_after_parse("12s", now), -1);
    assert_int_equal(retry_after_parse("-5", now), -1);
    assert_int_equal(retry_after_parse("soon", now), -1);
    /* Found by the fuzzer: a date so far ahead that milliseconds overflow. */
    assert_int_equal(retry_after_parse("d Oct01536250111 20", now), RETRY_AFTER_MAX_MS);
}

static int header_present(const struct curl_slist *list, const char *line)
{
    for (; list != NULL; list = list->next) {
        if (strcmp(list->data, line) == 0)
            return 1;
    }
    return 0;
}

static int64_t fixed_wall(void)
{
    return 1795095907123LL;
}

static void test_request_headers(void **state)
{
    (void)state;
    /* webhook-timestamp is the real wall clock (receivers compare it with theirs). */
    clock_set_sources(fixed_wall, NULL);
    Policy policy = make_policy("");
    DeliverOptions options = {.timeout_ms = 1000, .connect_timeout_ms = 500,
                              .max_response_bytes = 16};
    Task task = {0};
    task.id = 9;
    strcpy(task.webhook_id, "msg_abc");
    task.business_id = strdup("P1");
    task.business_type = strdup("PAYMENT_SUCCESS");
    task.target_url = strdup("http://127.0.0.1:9/notify");
    task.payload = strdup("{}");
    task.payload_length = 2;
    task.headers_json = strdup("{\"X-Tenant\":\"a\",\"X-Empty\":\"\",\"X-Blank\":\" \"}");
    task.attempts = 2;
    Delivery delivery = {0};
    char err[128];
    assert_int_equal(deliver_prepare(&delivery, &task, &policy, &options, 1795095907123LL, err, sizeof err), 0);
    assert_null(task.business_id); /* ownership moved */
    const struct curl_slist *headers = delivery.headers;
    assert_true(header_present(headers, "Content-Type: application/json"));
    assert_true(header_present(headers, "X-Business-ID: P1"));
    assert_true(header_present(headers, "X-Business-Type: PAYMENT_SUCCESS"));
    assert_true(header_present(headers, "X-Tenant: a"));
    /* libcurl would drop "X-Empty:"; "X-Empty;" sends it with an empty value. */
    assert_true(header_present(headers, "X-Empty;"));
    assert_true(header_present(headers, "X-Blank;"));
    assert_true(header_present(headers, "webhook-id: msg_abc"));
    assert_true(header_present(headers, "webhook-timestamp: 1795095907"));
    assert_true(header_present(headers, "X-Herald-Attempt: 2"));
    assert_true(header_present(headers, "Expect:"));
    deliver_release(&delivery);
    CURL *first_easy = delivery.easy;
    assert_non_null(first_easy); /* kept for the next request */

    /* A task's own Content-Type replaces the default. */
    Task form = {0};
    strcpy(form.webhook_id, "msg_def");
    form.business_id = strdup("P2");
    form.business_type = strdup("T");
    form.target_url = strdup("http://127.0.0.1:9/");
    form.payload = strdup("a=1");
    form.payload_length = 3;
    form.headers_json = strdup("{\"content-type\":\"application/x-www-form-urlencoded\"}");
    form.attempts = 1;
    assert_int_equal(deliver_prepare(&delivery, &form, &policy, &options, 0, err, sizeof err), 0);
    assert_ptr_equal(delivery.easy, first_easy); /* reset and reused, not recreated */
    char *url = NULL;
    assert_int_equal(curl_easy_getinfo(delivery.easy, CURLINFO_EFFECTIVE_URL, &url), CURLE_OK);
    assert_string_equal(url, "http://127.0.0.1:9/");
    assert_false(header_present(delivery.headers, "Content-Type: application/json"));
    assert_true(header_present(delivery.headers, "content-type: application/x-www-form-urlencoded"));
    deliver_close(&delivery);
    clock_set_sources(NULL, NULL);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_url_without_credentials),
        cmocka_unit_test(test_classify_http),
        cmocka_unit_test(test_classify_success_body),
        cmocka_unit_test(test_classify_transport),
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_retry_after_parse),
        cmocka_unit_test(test_request_headers),
    };
    int failed = cmocka_run_group_tests_name("deliver", tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
