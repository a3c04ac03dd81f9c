/*
 * buffer: see buffer.h. Doubling growth, capped at the limit (+1 for NUL).
 */
#include "buffer.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void buffer_init(Buffer *buffer, size_t limit)
{
    buffer->data = NULL;
    buffer->length = 0;
    buffer->capacity = 0;
    buffer->limit = limit;
}

/* Makes room for LENGTH more bytes and the NUL, within the limit. */
static int buffer_grow(Buffer *buffer, size_t length)
{
    if (length > buffer->limit - buffer->length) {
        errno = E2BIG;
        return -1;
    }
    size_t needed = buffer->length + length + 1;
    if (needed <= buffer->capacity)
        return 0;
    size_t capacity = buffer->capacity ? buffer->capacity : 256;
    while (capacity < needed && capacity <= SIZE_MAX / 2)
        capacity *= 2;
    if (capacity < needed)
        capacity = needed;
    if (buffer->limit < SIZE_MAX && capacity > buffer->limit + 1)
        capacity = buffer->limit + 1;
    char *grown = realloc(buffer->data, capacity);
    if (grown == NULL) {
        errno = ENOMEM;
        return -1;
    }
    buffer->data = grown;
    buffer->capacity = capacity;
    return 0;
}

int buffer_reserve(Buffer *buffer, size_t length)
{
    if (length > buffer->limit - buffer->length)
        length = buffer->limit - buffer->length;
    if (buffer_grow(buffer, length) != 0)
        return -1;
    buffer->data[buffer->length] = '\0';
    return 0;
}

int buffer_append(Buffer *buffer, const void *data, size_t length)
{
    if (buffer_grow(buffer, length) != 0)
        return -1;
    if (length > 0)
        memcpy(buffer->data + buffer->length, data, length);
    buffer->length += length;
    buffer->data[buffer->length] = '\0';
    return 0;
}

void buffer_free(Buffer *buffer)
{
    free(buffer->data);
    buffer->data = NULL;
    buffer->length = 0;
    buffer->capacity = 0;
}
