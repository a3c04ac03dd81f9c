/*
 * ctl_policy: heraldctl's "policy" commands, the retry policies in force
 * (GET /v1/policies, GET /v1/policies/TYPE): "policy list", and "policy show
 * TYPE" with when each attempt of a task of TYPE comes after its first.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_table.h"
#include "units.h"

#define CTL_POLICY_PATH_MAX 512
#define CTL_BUSINESS_TYPE_MAX 64 /* intake's rule (task.h), which heraldctl does not link */

static double ctl_policy_number(const cJSON *object, const char *member)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, member);
    return cJSON_IsNumber(item) ? item->valuedouble : 0;
}

/* MEMBER of OBJECT, a number of milliseconds, as a span ("4h 15m"). */
static void ctl_policy_span(const cJSON *object, const char *member,
                            char out[UNITS_DURATION_TEXT_MAX])
{
    units_format_duration_ms((int64_t)ctl_policy_number(object, member), out);
}

/* The waits of POLICY in words: "1m doubling to 30m", "every 1m",
 * "5s, 1m, 10m (then 10m)". */
static void ctl_policy_waits(const cJSON *policy, char *out, size_t outlen)
{
    const cJSON *schedule = cJSON_GetObjectItemCaseSensitive(policy, "schedule_ms");
    char base[UNITS_DURATION_TEXT_MAX], cap[UNITS_DURATION_TEXT_MAX];
    ctl_policy_span(policy, "base_delay_ms", base);
    ctl_policy_span(policy, "max_delay_ms", cap);
    if (cJSON_GetArraySize(schedule) > 0) {
        size_t used = 0;
        out[0] = '\0';
        const cJSON *delay;
        char span[UNITS_DURATION_TEXT_MAX] = "";
        cJSON_ArrayForEach(delay, schedule)
        {
            units_format_duration_ms((int64_t)delay->valuedouble, span);
            int written = snprintf(out + used, outlen - used, "%s%s", used ? ", " : "", span);
            if (written < 0 || (size_t)written >= outlen - used)
                return;
            used += (size_t)written;
        }
        snprintf(out + used, outlen - used, " (then %s)", span);
    } else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(policy, "exponential_backoff"))) {
        snprintf(out, outlen, "%s doubling to %s", base, cap);
    } else {
        snprintf(out, outlen, "every %s", base);
    }
}

/* The waits of POLICY with its jitter: "1m doubling to 30m, +-10%". */
static void ctl_policy_waits_jitter(const cJSON *policy, char *out, size_t outlen)
{
    ctl_policy_waits(policy, out, outlen);
    size_t used = strlen(out);
    double jitter = ctl_policy_number(policy, "jitter");
    if (jitter > 0 && used < outlen)
        snprintf(out + used, outlen - used, ", +-%.0f%%", 100 * jitter);
}

static void ctl_policy_show_list(const CtlAnswer *answer)
{
    static const char *const header[] = {"TYPE", "ATTEMPTS", "WAITS", "TIMEOUT", "SIGNED"};
    CtlTable table;
    ctl_table_init(&table, 5, header);
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(answer->json, "business_types");
    int count = cJSON_GetArraySize(types);
    /* The default first, then each configured type. */
    for (int i = -1; i < count; i++) {
        const cJSON *entry = i < 0 ? NULL : cJSON_GetArrayItem(types, i);
        const cJSON *policy = i < 0 ? cJSON_GetObjectItemCaseSensitive(answer->json, "default")
                                    : cJSON_GetObjectItemCaseSensitive(entry, "policy");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(entry, "business_type");
        char attempts[32], waits[512], timeout[UNITS_DURATION_TEXT_MAX];
        snprintf(attempts, sizeof attempts, "%.0f", ctl_policy_number(policy, "max_retry"));
        ctl_policy_waits_jitter(policy, waits, sizeof waits);
        ctl_policy_span(policy, "timeout_ms", timeout);
        const char *row[] = {
            i < 0 ? "(default)" : cJSON_IsString(name) ? name->valuestring : "?", attempts, waits,
            timeout,
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(policy, "signed")) ? "yes" : "no"};
        ctl_table_add(&table, row);
    }
    ctl_table_print(&table, stdout, ctl_table_width(stdout));
    ctl_table_free(&table);
}

static void ctl_policy_show_one(const CtlAnswer *answer)
{
    const cJSON *policy = cJSON_GetObjectItemCaseSensitive(answer->json, "policy");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(answer->json, "business_type");
    char name[128], attempts[32], waits[512], timeout[UNITS_DURATION_TEXT_MAX];
    snprintf(name, sizeof name, "%s%s", cJSON_IsString(type) ? type->valuestring : "?",
             cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(answer->json, "configured"))
                 ? ""
                 : " (no section of its own: the default)");
    snprintf(attempts, sizeof attempts, "%.0f", ctl_policy_number(policy, "max_retry"));
    ctl_policy_waits_jitter(policy, waits, sizeof waits);
    ctl_policy_span(policy, "timeout_ms", timeout);
    char *success = ctl_cell(policy, "success_body");
    char *previous = ctl_cell(policy, "previous_secret_until");
    char *on_failure = ctl_cell(policy, "ordering_on_failure");
    const char *rows[][2] = {
        {"business_type", name},
        {"attempts", attempts},
        {"waits", waits},
        {"timeout", timeout},
        {"success_body", success},
        {"signed", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(policy, "signed")) ? "yes" : "no"},
        {"previous_secret_until", previous},
        {"ordering_on_failure", on_failure},
    };
    ctl_print_pairs(rows, sizeof rows / sizeof rows[0]);
    free(success);
    free(previous);
    free(on_failure);
    /* When each attempt comes, counted from the first one's start. */
    static const char *const header[] = {"ATTEMPT", "WAIT", "AFTER FIRST", "EARLIEST", "LATEST"};
    CtlTable table;
    ctl_table_init(&table, 5, header);
    const cJSON *attempt;
    cJSON_ArrayForEach(attempt, cJSON_GetObjectItemCaseSensitive(answer->json, "attempts"))
    {
        char number[16], wait[UNITS_DURATION_TEXT_MAX], after[UNITS_DURATION_TEXT_MAX],
            earliest[UNITS_DURATION_TEXT_MAX], latest[UNITS_DURATION_TEXT_MAX];
        snprintf(number, sizeof number, "%.0f", ctl_policy_number(attempt, "attempt"));
        ctl_policy_span(attempt, "wait_ms", wait);
        ctl_policy_span(attempt, "after_first_ms", after);
        ctl_policy_span(attempt, "earliest_ms", earliest);
        ctl_policy_span(attempt, "latest_ms", latest);
        const char *row[] = {number, wait, after, earliest, latest};
        ctl_table_add(&table, row);
    }
    printf("\n");
    ctl_table_print(&table, stdout, ctl_table_width(stdout));
    ctl_table_free(&table);
    printf("(latest: the longest waits the jitter allows, with each attempt before running\n"
           " to its timeout; a receiver's Retry-After can push an attempt later)\n");
}

static int ctl_policy_list(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
    return ctl_request_and_show(ctl, "GET", "/v1/policies", NULL, ctl_policy_show_list);
}

static int ctl_policy_show(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '\0')
        return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
    /* Checked here too: a "/" or ".." would be taken apart on the way (the
     * path is decoded before it is routed) and come back as "no such
     * endpoint", not as what is wrong with the type. */
    size_t length = strlen(argv[1]);
    if (length > CTL_BUSINESS_TYPE_MAX ||
        strspn(argv[1], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-") !=
            length) {
        fprintf(stderr, "heraldctl: a business type is 1 to %d of A-Z a-z 0-9 _ . : -\n",
                CTL_BUSINESS_TYPE_MAX);
        return CTL_EXIT_USAGE;
    }
    /* Escaped all the same: the path carries it as one segment. */
    char *escaped = curl_easy_escape(NULL, argv[1], 0);
    if (escaped == NULL)
        return ctl_fail("out of memory");
    char path[CTL_POLICY_PATH_MAX];
    int written = snprintf(path, sizeof path, "/v1/policies/%s", escaped);
    curl_free(escaped);
    if (written < 0 || (size_t)written >= sizeof path)
        return ctl_fail("business type too long");
    return ctl_request_and_show(ctl, "GET", path, NULL, ctl_policy_show_one);
}

const CtlCommand ctl_policy_commands[] = {
    {"policy", "list", ctl_policy_list, "policy list",
     "the retry policies in force: the default and each business type's"},
    {"policy", "show", ctl_policy_show, "policy show TYPE",
     "the policy a task of TYPE gets, and when each of its attempts comes after the first"},
};

const size_t ctl_policy_command_count = sizeof ctl_policy_commands / sizeof ctl_policy_commands[0];
