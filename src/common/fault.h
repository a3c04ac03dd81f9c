/*
 * fault: the fault seam. In the test build (make asan, -DHERALD_FAULT_SEAM)
 * it makes chosen storage operations fail the way a full or broken disk or
 * a busy database does, so every write path can be tested with a failure at
 * every step (curl's torture mode, SQLite's I/O-error tests, beanstalkd's
 * falloc). In the release build every function here is an inline no-op.
 *
 * Where it bites: the store runs every statement through one helper
 * (SQLite: sqlite_step, sqlite_exec; PostgreSQL: pg_run), which asks
 * fault_next() first and, told to fail, returns the error without running
 * the statement. A statement is the
 * smallest thing every backend has, so this reaches each step of every path
 * (a claim of the second host, the commit of a manual repair) with no
 * special case, in either backend. ROLLBACK is never failed: it is how a failure is
 * undone.
 *
 * Whose operations: each thread names its role once (fault_set_role:
 * "writer", "scheduler", "alert", "beacon", "main"; others are "other"), and operations
 * are counted per role, so a test can fail the 3rd operation of the writer
 * while the scheduler runs undisturbed.
 *
 * Configured from outside, never by editing code: the environment variable
 * HERALD_FAULT at start-up ("main:2" fails the second migration step), and
 * at run time the file named by HERALD_FAULT_FILE, read when heraldd gets
 * SIGUSR2 (main.c). A spec is "ROLE:AT[:COUNT[:KIND]]": fail the AT-th
 * operation of ROLE counted from now, and the COUNT-1 after it (COUNT 0:
 * every one until the next spec), with KIND "full" (the default), "ioerr",
 * "busy", "drop" (the connection to the database server is cut before the
 * statement is sent, so the real error path of a lost connection runs; in
 * SQLite, which has no connection, an I/O error) or "lost" (the statement
 * runs, then its reply is lost: the connection is cut after it, and SQLite
 * reports an I/O error; a COMMIT so failed has committed, which the caller
 * cannot tell without reading). The spec "count" only restarts the counts.
 *
 * Threads: every function is thread-safe.
 */
#ifndef HERALD_FAULT_H
#define HERALD_FAULT_H

#include <stddef.h>

typedef enum {
    FAULT_NONE,
    FAULT_FULL,  /* the disk is full */
    FAULT_IOERR, /* the disk failed */
    FAULT_BUSY,  /* the database is locked */
    FAULT_DROP,  /* the connection to the database server is lost */
    FAULT_LOST,  /* the statement ran, and its reply was lost */
} FaultKind;

#ifdef HERALD_FAULT_SEAM

/* Counts one storage operation of the calling thread's role and says
 * whether it must fail, and how. */
FaultKind fault_next(void);

/* Names the calling thread's role (a static string). */
void fault_set_role(const char *role);

/* Arms SPEC (see above) and restarts the counts. Returns 0, or -1 with ERR. */
int fault_configure(const char *spec, char *err, size_t errlen);

/* The operations counted per role since the last arming, as
 * "writer=12 scheduler=40 ..." into OUT. */
void fault_counts(char *out, size_t size);

/* At start-up: arms $HERALD_FAULT if set. On SIGUSR2: logs the counts so
 * far (event=fault_counts) and arms the spec in the file $HERALD_FAULT_FILE
 * (event=fault_armed). Both log what they did, and a bad spec. */
void fault_arm_from_environment(void);
void fault_rearm(void);

#else

static inline FaultKind fault_next(void)
{
    return FAULT_NONE;
}

static inline void fault_set_role(const char *role)
{
    (void)role;
}

/* The release build has no seam: a HERALD_FAULT left set is only reported. */
void fault_arm_from_environment(void);

#endif

#endif
