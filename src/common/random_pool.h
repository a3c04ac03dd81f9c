/*
 * random_pool: random bytes from the kernel, read ahead per thread.
 *
 * For ids that must be unpredictable and unique but are public once made
 * (webhook ids, trace and span ids): one getrandom() per id would cost a
 * system call per task on the intake and delivery hot paths, so each thread
 * keeps 256 bytes read ahead. Not for secrets or fencing tokens, which are
 * read from the kernel each time (task_generate_claim_token).
 */
#ifndef HERALD_RANDOM_POOL_H
#define HERALD_RANDOM_POOL_H

#include <stddef.h>

#define RANDOM_POOL_TAKE_MAX 64 /* bytes one call may take */

/* Fills OUT with LENGTH (<= RANDOM_POOL_TAKE_MAX) random bytes. Returns 0,
 * or -1 if the kernel's random source fails (OUT is then unchanged). */
int random_pool_fill(void *out, size_t length);

#endif
