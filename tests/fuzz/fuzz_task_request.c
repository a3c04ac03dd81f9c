/* libFuzzer harness: a request body through intake's validation (single
 * task, batch element path, manual repair bodies). Any input must end in a
 * TaskRequest or a 4xx ApiError, without crashes, leaks or UB. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manual_json.h"
#include "task_json.h"
#include "task_render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    static const NetGuard guard = {.allow_private = false};
    ApiError error;
    cJSON *document = NULL;
    if (task_json_parse_document(body, size, &document, &error) == 0) {
        TaskRequest request;
        if (task_json_read_request(document, body, json_raw_document(body, size), "",
                                   "fuzz-key", &guard, &request, &error) == 0) {
            Task task;
            task_view_of_request(&task, &request, 1, "msg_fuzz", 3, 0);
            cJSON *rendered = task_render_task(&task);
            char *text = cJSON_PrintUnformatted(rendered);
            /* What we render must parse again. */
            cJSON *again = text ? cJSON_Parse(text) : NULL;
            if (text != NULL && again == NULL)
                abort();
            cJSON_Delete(again);
            free(text);
            cJSON_Delete(rendered);
            task_request_clear(&request);
        } else if (error.status < 400 || error.status > 499) {
            abort();
        }
        cJSON_Delete(document);
    } else if (error.status != 400) {
        abort();
    }
    ManualRetryRequest retry;
    if (manual_json_read_retry(body, size, &guard, &retry, &error) != 0 &&
        (error.status < 400 || error.status > 499))
        abort();
    manual_json_retry_clear(&retry);
    ManualBulkRequest bulk;
    manual_json_read_bulk(body, size, &bulk, &error);
    manual_json_bulk_clear(&bulk);
    return 0;
}
