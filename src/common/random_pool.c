/*
 * random_pool: per-thread read-ahead of the kernel's random bytes (see the
 * header). Per thread, so no lock; getrandom never cuts 256 bytes short.
 */
#include "random_pool.h"

#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#define RANDOM_POOL_SIZE 256

int random_pool_fill(void *out, size_t length)
{
    static _Thread_local unsigned char pool[RANDOM_POOL_SIZE];
    static _Thread_local size_t used = RANDOM_POOL_SIZE;
    if (length > RANDOM_POOL_TAKE_MAX)
        return -1;
    if (RANDOM_POOL_SIZE - used < length) {
        if (getrandom(pool, sizeof pool, 0) != (ssize_t)sizeof pool)
            return -1;
        used = 0;
    }
    memcpy(out, pool + used, length);
    used += length;
    return 0;
}
