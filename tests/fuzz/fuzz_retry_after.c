/* libFuzzer harness: Retry-After header values. Any input gives a delay in
 * [0, RETRY_AFTER_MAX_MS] or -1. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "retry_after.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char value[256];
    if (size >= sizeof value || memchr(data, '\0', size) != NULL)
        return 0;
    memcpy(value, data, size);
    value[size] = '\0';
    int64_t delay = retry_after_parse(value, 1795095907000LL);
    if (delay < -1 || delay > RETRY_AFTER_MAX_MS)
        abort();
    return 0;
}
