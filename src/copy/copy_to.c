/*
 * copy_to: see copy_to.h.
 */
#include "copy_to.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "copy.h"
#include "instance.h"
#include "log.h"

static int copy_to_fail(const char *err)
{
    char quoted[1200];
    log_error("event=copy_failed error=%s", log_quote(quoted, sizeof quoted, err));
    return 1;
}

int copy_to_run(const StoreLocation *source, const char *url, const char *password_file)
{
    char err[1024], name[1024];
    if (source->kind != STORE_BACKEND_SQLITE)
        return copy_to_fail("--copy-to copies an SQLite database: give its file in [storage] "
                            "path (and no url) or with --db PATH");
    if (strncmp(url, "postgresql://", 13) != 0 && strncmp(url, "postgres://", 11) != 0)
        return copy_to_fail("--copy-to takes a PostgreSQL URI: postgresql://...");
    if (access(source->path, R_OK | W_OK) != 0) {
        snprintf(err, sizeof err, "no SQLite database at %s: %m", source->path);
        return copy_to_fail(err);
    }
    int lock_fd = instance_lock(source->path, err, sizeof err);
    if (lock_fd < 0)
        return copy_to_fail(err);
    StoreLocation target = {
        .kind = STORE_BACKEND_POSTGRESQL,
        .url = url,
        .password_file = password_file ? password_file : "",
        .busy_timeout_ms = source->busy_timeout_ms,
        .statement_timeout_ms = 0, /* a large COPY may take long; it is watched by its user */
    };
    StoreOptions options = {.migrate = true, .durability = STORE_DURABILITY_FULL};
    Store *from = store_open(source, &options, err, sizeof err);
    Store *to = from != NULL ? store_open(&target, &options, err, sizeof err) : NULL;
    StoreCopyReport report;
    int status = 1;
    if (to != NULL && copy_store(from, to, &report, err, sizeof err) == 0) {
        printf("copied %s to %s: %" PRId64 " tasks, %" PRId64 " attempts, %" PRId64
               " manual entries, %" PRId64 " actions, %" PRId64 " alerts; counts verified\n",
               source->path, store_location_name(&target, name, sizeof name), report.tasks,
               report.attempts, report.manual, report.actions, report.alerts);
        if (report.repaired_text > 0)
            printf("%" PRId64 " text values were not UTF-8: invalid bytes became U+FFFD\n",
                   report.repaired_text);
        if (report.repaired_identities > 0)
            printf("%" PRId64 " task identities (Idempotency-Key, or business type, id and URL) "
                   "held bytes that were not UTF-8: each got a suffix #herald-copy-repaired-ID, "
                   "so that repair could not make two one\n", report.repaired_identities);
        if (report.renamed_duplicates > 0)
            printf("%" PRId64 " tasks repeated an earlier task without an Idempotency-Key: "
                   "a repeated request now finds the earliest\n", report.renamed_duplicates);
        status = fflush(stdout) == 0 ? 0 : 1;
    } else {
        copy_to_fail(err);
    }
    store_close(to);
    store_close(from);
    instance_unlock(lock_fd);
    return status;
}
