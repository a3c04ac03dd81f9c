/* libFuzzer harness: a body through the manual-repair readers (retry, retry
 * with edits, resolve, bulk retry). Any input must be read or refused with a
 * 4xx ApiError, without crashes, leaks or UB. */
#include <stdint.h>
#include <stdlib.h>

#include "manual_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check_refusal(int result, const ApiError *error)
{
    if (result != 0 && (error->status < 400 || error->status > 499))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    static const NetGuard guard = {.allow_private = false};
    ApiError error;
    ManualRetryRequest retry;
    fuzz_check_refusal(manual_json_read_retry(body, size, &guard, &retry, &error), &error);
    manual_json_retry_clear(&retry);
    char *note = NULL;
    fuzz_check_refusal(manual_json_read_resolve(body, size, &note, &error), &error);
    free(note);
    for (int note_required = 0; note_required <= 1; note_required++) { /* retry, resolve */
        ManualBulkRequest bulk;
        int read = manual_json_read_bulk(body, size, note_required, &bulk, &error);
        fuzz_check_refusal(read, &error);
        for (size_t i = 0; read == 0 && i + 1 < bulk.task_id_count; i++) /* sorted, distinct */
            if (bulk.task_ids[i] >= bulk.task_ids[i + 1])
                __builtin_trap();
        manual_json_bulk_clear(&bulk);
    }
    return 0;
}
