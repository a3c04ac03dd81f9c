/* libFuzzer harness: a body through batch intake validation
 * (task_json_read_batch), the path a byte-order mark once crashed. Any input
 * must end in requests or a 4xx ApiError, without crashes, leaks or UB. */
#include <stdint.h>
#include <stdlib.h>

#include "task_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const NetGuard guard = {.allow_private = false};
    ApiError error;
    TaskRequest *requests;
    size_t count;
    if (task_json_read_batch((const char *)data, size, &guard, &requests, &count, &error) != 0) {
        if (error.status != 400 && error.status != 422)
            abort();
        return 0;
    }
    if (count < 1 || count > TASK_JSON_BATCH_MAX)
        abort();
    for (size_t i = 0; i < count; i++)
        task_request_clear(&requests[i]);
    free(requests);
    return 0;
}
