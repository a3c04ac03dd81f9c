/*
 * api_policy: see api_policy.h.
 */
#include "api_policy.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "clock.h"
#include "config.h"
#include "task.h"
#include "units.h"

/* The request timeout a task of POLICY gets: its own, else [delivery]'s. */
static int64_t api_policy_timeout_ms(const ApiCall *call, const Policy *policy)
{
    return policy->timeout_ms > 0 ? policy->timeout_ms
                                  : api_call_options(call)->config()->delivery_timeout_ms;
}

/* POLICY's settings as JSON; no secret, only whether deliveries are signed. */
static cJSON *api_policy_render(const ApiCall *call, const Policy *policy)
{
    cJSON *object = cJSON_CreateObject();
    cJSON_AddNumberToObject(object, "max_retry", (double)policy->max_retry);
    cJSON_AddNumberToObject(object, "base_delay_ms", (double)policy->base_delay_ms);
    cJSON_AddNumberToObject(object, "max_delay_ms", (double)policy->max_delay_ms);
    cJSON_AddBoolToObject(object, "exponential_backoff", policy->exponential_backoff);
    cJSON_AddNumberToObject(object, "jitter", policy->jitter);
    cJSON *schedule = cJSON_AddArrayToObject(object, "schedule_ms");
    for (size_t i = 0; i < policy->schedule.count; i++)
        cJSON_AddItemToArray(schedule, cJSON_CreateNumber((double)policy->schedule.delays_ms[i]));
    cJSON_AddNumberToObject(object, "timeout_ms", (double)api_policy_timeout_ms(call, policy));
    if (policy->success_body[0] != '\0')
        cJSON_AddStringToObject(object, "success_body", policy->success_body);
    else
        cJSON_AddNullToObject(object, "success_body");
    cJSON_AddBoolToObject(object, "signed", policy->key.length > 0);
    cJSON_AddStringToObject(object, "ordering_on_failure", policy->ordering_block ? "block" : "skip");
    if (policy->previous_key.length > 0 && policy->previous_secret_until > clock_now_ms()) {
        char until[CLOCK_RFC3339_SIZE];
        clock_format_rfc3339(policy->previous_secret_until, until);
        cJSON_AddStringToObject(object, "previous_secret_until", until);
    } else {
        cJSON_AddNullToObject(object, "previous_secret_until");
    }
    return object;
}

/* GET /v1/policies */
static void api_policy_list(ApiCall *call)
{
    const PolicySet *set = api_call_policies(call);
    cJSON *body = cJSON_CreateObject();
    cJSON_AddItemToObject(body, "default", api_policy_render(call, &set->fallback));
    cJSON *array = cJSON_AddArrayToObject(body, "business_types");
    for (size_t i = 0; i < set->business_count; i++) {
        cJSON *entry = cJSON_CreateObject();
        cJSON_AddStringToObject(entry, "business_type", set->business[i].name);
        cJSON_AddItemToObject(entry, "policy", api_policy_render(call, &set->business[i].policy));
        cJSON_AddItemToArray(array, entry);
    }
    api_call_reply(call, 200, body);
}

/* GET /v1/policies/{type} */
static void api_policy_show(ApiCall *call)
{
    const char *type = api_call_path_parameter(call);
    if (!task_business_type_is_valid(type)) {
        api_call_fail(call, 400, "invalid_parameter", "business_type",
                      "a business type is 1 to %d of A-Z a-z 0-9 _ . : -",
                      TASK_BUSINESS_TYPE_MAX);
        return;
    }
    const PolicySet *set = api_call_policies(call);
    const Policy *policy = policy_set_find(set, type);
    PolicyPlannedAttempt plan[TASK_MAX_RETRY_MAX]; /* max_retry is at most this */
    size_t count = policy_plan_attempts(policy, api_policy_timeout_ms(call, policy), plan,
                                        sizeof plan / sizeof plan[0]);
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "business_type", type);
    cJSON_AddBoolToObject(body, "configured", policy != &set->fallback);
    cJSON_AddItemToObject(body, "policy", api_policy_render(call, policy));
    cJSON *attempts = cJSON_AddArrayToObject(body, "attempts");
    for (size_t i = 0; i < count; i++) {
        char span[UNITS_DURATION_TEXT_MAX];
        cJSON *attempt = cJSON_CreateObject();
        cJSON_AddNumberToObject(attempt, "attempt", plan[i].attempt);
        cJSON_AddNumberToObject(attempt, "wait_ms", (double)plan[i].wait_ms);
        cJSON_AddNumberToObject(attempt, "after_first_ms", (double)plan[i].nominal_ms);
        units_format_duration_ms(plan[i].nominal_ms, span);
        cJSON_AddStringToObject(attempt, "after_first", span);
        cJSON_AddNumberToObject(attempt, "earliest_ms", (double)plan[i].earliest_ms);
        cJSON_AddNumberToObject(attempt, "latest_ms", (double)plan[i].latest_ms);
        cJSON_AddItemToArray(attempts, attempt);
    }
    api_call_reply(call, 200, body);
}

const ApiRoute api_policy_routes[] = {
    {.method = "GET", .pattern = "/v1/policies", .handler = api_policy_list},
    {.method = "GET", .pattern = "/v1/policies/{business_type}", .handler = api_policy_show},
};

const size_t api_policy_route_count = sizeof api_policy_routes / sizeof api_policy_routes[0];
