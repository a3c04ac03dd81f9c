/* libFuzzer harness: a body through single-task intake validation. Any input
 * must end in a TaskRequest or a 4xx ApiError, without crashes, leaks or UB;
 * json_check and cJSON must agree on what is JSON; and what herald renders
 * from an accepted request must be strict JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_check.h"
#include "task_json.h"
#include "task_render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    static const NetGuard guard = {.allow_private = false};
    /* Whatever json_check accepts, cJSON parses. */
    cJSON *parsed = json_check_parse(body, size, JSON_CHECK_DEPTH_MAX, NULL);
    if (parsed == NULL && json_check(body, size, JSON_CHECK_DEPTH_MAX, NULL) == 0)
        abort();
    cJSON_Delete(parsed);
    ApiError error;
    TaskRequest request;
    if (task_json_read_body(body, size, "fuzz-key", &guard, &request, &error) != 0) {
        if (error.status != 400 && error.status != 422)
            abort();
        return 0;
    }
    Task task;
    task_view_of_request(&task, &request, 1, "msg_fuzz", 3, 0);
    cJSON *rendered = task_render_task(&task);
    char *text = cJSON_PrintUnformatted(rendered);
    if (text != NULL && json_check(text, strlen(text), JSON_CHECK_DEPTH_MAX + 2, NULL) != 0)
        abort();
    free(text);
    cJSON_Delete(rendered);
    task_request_clear(&request);
    return 0;
}
