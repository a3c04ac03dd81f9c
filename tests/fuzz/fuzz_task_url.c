/* libFuzzer harness: a target_url through task_url's checks and its normal
 * form. Any input must be refused or give a normal form, without crashes,
 * leaks or UB; the normal form must be its own normal form (normalising is
 * idempotent); and a URL task_url_check accepts must give the identity
 * task_url_normalise gives, whose own check (when it still fits the length
 * limit) passes with the same receiver and the same identity. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "task.h"
#include "task_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Normalises TEXT; aborts if the normal form is not its own normal form.
 * Returns it (the caller frees it), or NULL if TEXT was refused. */
static char *fuzz_normal(const char *text)
{
    char message[256];
    char *normal;
    if (task_url_normalise(text, &normal, message, sizeof message) != 0)
        return NULL;
    char *again;
    if (task_url_normalise(normal, &again, message, sizeof message) != 0 ||
        strcmp(again, normal) != 0)
        abort();
    free(again);
    return normal;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2 * TASK_TARGET_URL_MAX)
        return 0;
    char *url = malloc(size + 1);
    if (url == NULL)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    char *normal = fuzz_normal(url);
    char message[256];
    char *receiver, *identity;
    if (task_url_check(url, NULL, &receiver, &identity, message, sizeof message) == 0) {
        if (normal == NULL || strcmp(identity, normal) != 0)
            abort();
        if (strlen(identity) <= TASK_TARGET_URL_MAX) {
            char *receiver2, *identity2;
            if (task_url_check(identity, NULL, &receiver2, &identity2, message,
                               sizeof message) != 0 ||
                strcmp(receiver2, receiver) != 0 || strcmp(identity2, identity) != 0)
                abort();
            free(receiver2);
            free(identity2);
        }
        free(receiver);
        free(identity);
    }
    free(normal);
    free(url);
    return 0;
}
