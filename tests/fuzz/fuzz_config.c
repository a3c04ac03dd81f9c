/* libFuzzer harness: herald.conf text through the configuration parser.
 * Any input must load or be refused with a message naming where. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memchr(data, '\0', size) != NULL)
        return 0; /* a text file; config_load_text takes a C string */
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    Config config;
    char err[1024];
    if (config_load_text(&config, text, "fuzz.conf", err, sizeof err) != 0 &&
        strncmp(err, "fuzz.conf", 9) != 0)
        abort(); /* every refusal names the file */
    config_free(&config);
    free(text);
    return 0;
}
