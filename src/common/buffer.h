/*
 * buffer: a growable byte buffer with a hard cap.
 *
 * Used wherever bytes arrive in pieces (request bodies, HTTP responses in
 * heraldctl): the cap is checked before growing, so a peer can never make
 * herald allocate more than the limit it was configured with. The data is
 * always NUL-terminated (not counted in length) for convenience.
 */
#ifndef HERALD_BUFFER_H
#define HERALD_BUFFER_H

#include <stddef.h>

typedef struct Buffer {
    char *data;      /* owned; NULL until the first append */
    size_t length;   /* bytes used, excluding the terminating NUL */
    size_t capacity; /* bytes allocated */
    size_t limit;    /* largest length allowed */
} Buffer;

/* Starts an empty buffer that will refuse to grow past LIMIT bytes. */
void buffer_init(Buffer *buffer, size_t limit);

/* Appends LENGTH bytes. Returns 0, or -1 (buffer unchanged) when the limit
 * would be exceeded or memory is exhausted; errno is E2BIG or ENOMEM. */
int buffer_append(Buffer *buffer, const void *data, size_t length);

/* Makes room for LENGTH more bytes (fewer if the limit is closer) without
 * changing the contents, so a writer that knows roughly how much is coming
 * grows the buffer once instead of doubling its way there. Returns 0, or -1
 * with errno ENOMEM. Appends never read or depend on the reserved room. */
int buffer_reserve(Buffer *buffer, size_t length);

/* Frees the data and resets the buffer to empty (the limit is kept). */
void buffer_free(Buffer *buffer);

#endif
