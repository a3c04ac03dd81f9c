/* Unit tests for src/telemetry: W3C Trace Context, the export headers, the
 * sampler, the OTLP encoding's structure and the exporter's queue. (What a
 * real collector decodes is checked against the official definitions by the
 * integration tests' collector, tests/js/otlp_collector.mjs.) */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "action_span.h"
#include "otlp.h"
#include "span.h"
#include "telemetry.h"
#include "telemetry_headers.h"
#include "trace_context.h"

#define VALID "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static void test_traceparent_parse(void **state)
{
    (void)state;
    TraceContext context;
    assert_int_equal(trace_context_parse(VALID, &context), 0);
    assert_int_equal(context.trace_id[0], 0x4b);
    assert_int_equal(context.span_id[7], 0xb7);
    assert_int_equal(context.flags, 1);
    char text[TRACE_PARENT_LENGTH + 1];
    trace_context_format(&context, text);
    assert_string_equal(text, VALID);
    /* A later version may be longer, after a '-'; its flags are kept. */
    assert_int_equal(
        trace_context_parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-what", &context),
        0);
    assert_int_equal(context.flags, 9);
    static const char *const invalid[] = {
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", /* 00: exactly 55 */
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  /* version ff */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  /* upper case */
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  /* zero trace */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  /* zero span */
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
        "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        assert_int_equal(trace_context_parse(invalid[i], &context), -1);
    assert_int_equal(trace_context_parse(NULL, &context), -1);
}

static void test_tracestate(void **state)
{
    (void)state;
    assert_true(trace_state_is_valid("congo=t61rcWkgMzE"));
    assert_true(trace_state_is_valid("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"));
    assert_true(trace_state_is_valid(" a=1 ,\tb=2 "));
    assert_true(trace_state_is_valid("a=1,,b=2"));
    assert_true(trace_state_is_valid("tenant@vendor=x y"));
    assert_true(trace_state_is_valid(""));
    assert_false(trace_state_is_valid("A=1"));        /* keys are lower case */
    assert_false(trace_state_is_valid("a=1=2"));
    assert_false(trace_state_is_valid("a"));
    assert_false(trace_state_is_valid("a="));
    assert_false(trace_state_is_valid("@vendor=1"));
    assert_false(trace_state_is_valid("t@Vendor=1"));
    assert_false(trace_state_is_valid("t@v@w=1"));
    assert_false(trace_state_is_valid("a=\x01"));
    assert_false(trace_state_is_valid("foo=1,foo=2")); /* a key twice */
    assert_true(trace_state_is_valid("foo=1,foo2=2,t@foo=3"));
    assert_false(trace_state_is_valid(NULL));
    char members[33 * 6 + 1] = "";
    for (int i = 0; i < 32; i++)
        sprintf(members + strlen(members), "%sk%02d=1", i ? "," : "", i);
    assert_true(trace_state_is_valid(members));
    strcat(members, ",k32=1");
    assert_false(trace_state_is_valid(members)); /* 33 members */
    char longest[TRACE_STATE_MAX + 2];
    memset(longest, 'v', sizeof longest);
    memcpy(longest, "a=", 2);
    longest[TRACE_STATE_MAX + 1] = '\0';
    assert_false(trace_state_is_valid(longest)); /* a value past 256 and past 512 in all */
}

static void test_export_headers(void **state)
{
    (void)state;
    char err[256];
    char **lines;
    assert_int_equal(telemetry_headers_parse("", &lines, err, sizeof err), 0);
    int count = telemetry_headers_parse(" Authorization = Bearer%20abc , x-tenant=a%2Cb",
                                        &lines, err, sizeof err);
    assert_int_equal(count, 2);
    assert_string_equal(lines[0], "Authorization: Bearer abc");
    assert_string_equal(lines[1], "x-tenant: a,b");
    telemetry_headers_free(lines, count);
    assert_int_equal(telemetry_headers_parse("Authorization Bearer x", &lines, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "name=value"));
    assert_null(strstr(err, "Bearer")); /* a token is never echoed */
    assert_int_equal(telemetry_headers_parse("content-length=0", &lines, err, sizeof err), -1);
    assert_non_null(strstr(err, "Content-Length is herald's to set"));
    assert_int_equal(telemetry_headers_parse("bad name=1", &lines, err, sizeof err), -1);
    assert_int_equal(telemetry_headers_parse("a=%0d%0aInjected: 1", &lines, err, sizeof err), -1);
    assert_non_null(strstr(err, "control character"));
    char many[512] = "";
    for (int i = 0; i <= TELEMETRY_HEADERS_MAX; i++)
        sprintf(many + strlen(many), "%sh%d=1", i ? "," : "", i);
    assert_int_equal(telemetry_headers_parse(many, &lines, err, sizeof err), -1);
}

static void test_sampler(void **state)
{
    (void)state;
    TraceContext parent, child;
    assert_int_equal(trace_context_parse(VALID, &parent), 0);
    assert_int_equal(telemetry_new_context(&parent, 0.0, &child), 0);
    assert_memory_equal(child.trace_id, parent.trace_id, TRACE_ID_SIZE);
    assert_memory_not_equal(child.span_id, parent.span_id, TRACE_SPAN_ID_SIZE);
    assert_int_equal(child.flags, 1); /* the parent's decision, whatever the ratio */
    parent.flags = 0xff; /* bits version 00 leaves undefined are not passed on */
    assert_int_equal(telemetry_new_context(&parent, 0.0, &child), 0);
    assert_int_equal(child.flags, 1);
    parent.flags = 0;
    assert_int_equal(telemetry_new_context(&parent, 1.0, &child), 0);
    assert_int_equal(child.flags, 0);
    int sampled = 0;
    for (int i = 0; i < 2000; i++) {
        assert_int_equal(telemetry_new_context(NULL, 0.25, &child), 0);
        assert_memory_not_equal(child.trace_id, parent.trace_id, TRACE_ID_SIZE);
        sampled += child.flags & TRACE_FLAG_SAMPLED;
        assert_int_equal(telemetry_new_context(NULL, 0.0, &child), 0);
        assert_int_equal(child.flags, 0);
        assert_int_equal(telemetry_new_context(NULL, 1.0, &child), 0);
        assert_int_equal(child.flags, 1);
    }
    assert_in_range(sampled, 350, 650); /* 500 expected; 6+ sigma either side */
}

/* A protobuf field walk: the wire types and lengths of one message's fields,
 * recursing at depth D into the field numbered NESTED[D] (0: none), checks
 * that every length lands exactly on its message's end; counts the fields
 * numbered COUNTED at depth COUNTED_DEPTH. */
static size_t walk_varint(const uint8_t *data, size_t *at, size_t end)
{
    size_t value = 0, shift = 0;
    while (*at < end) {
        uint8_t byte = data[(*at)++];
        value |= (size_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return value;
        shift += 7;
    }
    fail_msg("varint runs past its message");
    return 0;
}

static void walk_message(const uint8_t *data, size_t at, size_t end, const unsigned *nested,
                         size_t depth, unsigned counted, size_t counted_depth, size_t *count)
{
    while (at < end) {
        size_t tag = walk_varint(data, &at, end);
        unsigned field = (unsigned)(tag >> 3), wire = tag & 7;
        if (field == counted && depth == counted_depth)
            (*count)++;
        if (wire == 0)
            walk_varint(data, &at, end);
        else if (wire == 1)
            at += 8;
        else if (wire == 5)
            at += 4;
        else {
            assert_int_equal(wire, 2);
            size_t length = walk_varint(data, &at, end);
            assert_true(at + length <= end);
            if (nested[depth] == field)
                walk_message(data, at, at + length, nested, depth + 1, counted, counted_depth,
                             count);
            at += length;
        }
    }
    assert_int_equal(at, end);
}

static void test_otlp_structure(void **state)
{
    (void)state;
    TraceContext context;
    assert_int_equal(trace_context_parse(VALID, &context), 0);
    Span *first = span_new("POST /v1/tasks", SPAN_KIND_SERVER, &context, NULL, 1000);
    Span *second = span_new("POST", SPAN_KIND_CLIENT, &context, context.span_id, 2000);
    assert_non_null(first);
    assert_non_null(second);
    span_add_string(first, "http.request.method", "POST");
    span_add_int(first, "herald.task.id", 42);
    span_add_bool(first, "herald.duplicate", false);
    span_set_trace_state(first, "a=1");
    second->error = true;
    second->has_link = true;
    second->link = context;
    char url[300];
    memset(url, 'u', sizeof url - 1);
    url[sizeof url - 1] = '\0';
    span_add_string(second, "url.full", url); /* a length of two varint bytes */
    for (int i = 0; i < SPAN_ATTRIBUTES_MAX + 3; i++)
        span_add_int(second, "n", i);
    assert_int_equal(second->dropped_attributes, 4);
    first->next = second;
    OtlpResource resource = {.keys = {"service.name"}, .values = {"herald"}, .count = 1};
    Buffer out;
    buffer_init(&out, 1 << 20);
    assert_int_equal(otlp_encode_request(&out, &resource, first, 2), 0);
    /* ExportTraceServiceRequest.resource_spans 1 > ResourceSpans.scope_spans 2 >
     * ScopeSpans.spans 2: nested fields 1 and 2 at every level; the spans'
     * attributes (9) and links (13) hold KeyValues and ids. Spans are the
     * messages with a field 5 (name): two. */
    static const unsigned nested[] = {1, 2, 2, 0};
    size_t names = 0;
    walk_message((const uint8_t *)out.data, 0, out.length, nested, 0, 5, 3, &names);
    assert_int_equal(names, 2);
    assert_true(out.length > 300);
    /* The trace id follows its tag and length (0x0a 0x10) in each span. */
    size_t ids = 0;
    for (size_t i = 0; i + 18 <= out.length; i++)
        if (memcmp(out.data + i, "\x0a\x10", 2) == 0 &&
            memcmp(out.data + i + 2, context.trace_id, TRACE_ID_SIZE) == 0)
            ids++;
    assert_int_equal(ids, 3); /* two spans and the link */
    buffer_free(&out);
    first->next = NULL;
    span_free(first);
    span_free(second);
}

static void test_queue_drops_and_counts(void **state)
{
    (void)state;
    char err[256];
    /* Port 1 on loopback refuses: every export fails, nothing leaves. */
    TelemetryOptions options = {.endpoint = "http://127.0.0.1:1/v1/traces", .headers = "",
                                .service_name = "herald", .instance_id = "test", .gzip = true,
                                .timeout_ms = 1000, .interval_ms = 60000, .queue_size = 2};
    assert_false(telemetry_exporting());
    assert_int_equal(telemetry_start(&options, err, sizeof err), 0);
    assert_true(telemetry_exporting());
    TraceContext sampled, unsampled;
    assert_int_equal(telemetry_new_context(NULL, 1.0, &sampled), 0);
    assert_int_equal(telemetry_new_context(NULL, 0.0, &unsampled), 0);
    for (int i = 0; i < 3; i++)
        telemetry_submit(span_new("s", SPAN_KIND_INTERNAL, &sampled, NULL, 1));
    telemetry_submit(span_new("u", SPAN_KIND_INTERNAL, &unsampled, NULL, 1)); /* not counted */
    telemetry_submit(NULL);
    /* A full queue refuses a span before it is built, and counts it. */
    assert_null(telemetry_span_new("s", SPAN_KIND_INTERNAL, &sampled, NULL, 1));
    assert_null(telemetry_span_new("u", SPAN_KIND_INTERNAL, &unsampled, NULL, 1));
    Buffer text;
    buffer_init(&text, 1 << 16);
    assert_int_equal(telemetry_render_metrics(&text), 0);
    assert_non_null(strstr(text.data, "outcome=\"dropped_queue_full\"} 2\n"));
    assert_non_null(strstr(text.data, "herald_telemetry_queue_spans 2\n"));
    buffer_free(&text);
    telemetry_stop(); /* sends the two (refused): dropped as failed */
    assert_false(telemetry_exporting());
    buffer_init(&text, 1 << 16);
    assert_int_equal(telemetry_render_metrics(&text), 0);
    assert_non_null(strstr(text.data, "outcome=\"dropped_export_failed\"} 2\n"));
    assert_non_null(strstr(text.data, "outcome=\"exported\"} 0\n"));
    buffer_free(&text);
    /* Not exporting: a span handed over is freed, not counted. */
    telemetry_submit(span_new("late", SPAN_KIND_INTERNAL, &sampled, NULL, 1));
}

/* The number after KEY in /metrics' text. */
static unsigned long long metric_value(const char *key)
{
    Buffer text;
    buffer_init(&text, 1 << 16);
    assert_int_equal(telemetry_render_metrics(&text), 0);
    const char *found = strstr(text.data, key);
    assert_non_null(found);
    unsigned long long value = strtoull(found + strlen(key), NULL, 10);
    buffer_free(&text);
    return value;
}

/* The exporter's counter OUTCOME. */
static unsigned long long counted(const char *outcome)
{
    char key[96];
    snprintf(key, sizeof key, "outcome=\"%s\"} ", outcome);
    return metric_value(key);
}

/* herald_telemetry_queue_spans: the sample, not its HELP line. */
static unsigned long long queued(void)
{
    return metric_value("\nherald_telemetry_queue_spans ");
}

/* One span alone goes within the interval, not when a batch fills (the
 * exporter sleeps until the first span of an empty queue wakes it). */
static void test_a_lone_span_goes_within_the_interval(void **state)
{
    (void)state;
    char err[256];
    TelemetryOptions options = {.endpoint = "http://127.0.0.1:1/v1/traces", .headers = "",
                                .service_name = "herald", .instance_id = "test", .gzip = false,
                                .timeout_ms = 1000, .interval_ms = 20, .queue_size = 10};
    assert_int_equal(telemetry_start(&options, err, sizeof err), 0);
    unsigned long long before = counted("dropped_export_failed");
    TraceContext sampled;
    assert_int_equal(telemetry_new_context(NULL, 1.0, &sampled), 0);
    telemetry_submit(span_new("lone", SPAN_KIND_INTERNAL, &sampled, NULL, 1));
    for (int i = 0; i < 500 && counted("dropped_export_failed") == before; i++)
        usleep(10 * 1000);
    assert_int_equal(counted("dropped_export_failed"), before + 1);
    telemetry_stop();
}

/* An operator's action on a task (action_span.h): reported only for a task
 * with a trace, sampled as the task's trace is unless the operator's request
 * names its own span (whose flag then decides); nothing while not exporting. */
static void test_action_spans_follow_the_tasks_sampling(void **state)
{
    (void)state;
    char sampled[TRACE_PARENT_LENGTH + 1], unsampled[TRACE_PARENT_LENGTH + 1];
    TraceContext context;
    assert_int_equal(telemetry_new_context(NULL, 1.0, &context), 0);
    trace_context_format(&context, sampled);
    assert_int_equal(telemetry_new_context(NULL, 0.0, &context), 0);
    trace_context_format(&context, unsampled);
    ActionSpan action = {.name = "redelivery job", .kind = SPAN_KIND_INTERNAL,
                         .action = "redeliver", .actor = "ops\xff", .job_id = 7,
                         .start_unix_ns = 1, .end_unix_ns = 2};
    action_span_report(&action, 1, "PAY", sampled); /* not exporting: nothing, no crash */
    char err[256];
    TelemetryOptions options = {.endpoint = "http://127.0.0.1:1/v1/traces", .headers = "",
                                .service_name = "herald", .instance_id = "test", .gzip = false,
                                .timeout_ms = 1000, .interval_ms = 60000, .queue_size = 10};
    assert_int_equal(telemetry_start(&options, err, sizeof err), 0);
    action_span_report(&action, 1, "PAY", sampled);
    assert_int_equal(queued(), 1);
    action_span_report(&action, 2, "PAY", unsampled);
    action_span_report(&action, 3, "PAY", "");
    action_span_report(&action, 4, NULL, NULL);
    action_span_report(&action, 5, "PAY", "00-not-a-traceparent");
    assert_int_equal(queued(), 1);
    /* The operator's sampled span takes an unsampled task's action into its trace. */
    TraceContext operator;
    assert_int_equal(telemetry_new_context(NULL, 1.0, &operator), 0);
    action.parent = &operator;
    action_span_report(&action, 6, "PAY", unsampled);
    assert_int_equal(queued(), 2);
    telemetry_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_traceparent_parse),
        cmocka_unit_test(test_tracestate),
        cmocka_unit_test(test_export_headers),
        cmocka_unit_test(test_sampler),
        cmocka_unit_test(test_otlp_structure),
        cmocka_unit_test(test_queue_drops_and_counts),
        cmocka_unit_test(test_a_lone_span_goes_within_the_interval),
        cmocka_unit_test(test_action_spans_follow_the_tasks_sampling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
