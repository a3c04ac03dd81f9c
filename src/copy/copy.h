/*
 * copy: the move from SQLite to PostgreSQL (heraldd --copy-to), the one
 * place that speaks to both engines at once. It sits above the store and
 * both backends; nothing in the store calls it.
 */
#ifndef HERALD_COPY_H
#define HERALD_COPY_H

#include <stdint.h>

#include "store.h"

/* What copy_store() copied. */
typedef struct StoreCopyReport {
    int64_t tasks, attempts, manual, actions, alerts;
    int64_t repaired_text;      /* text values that were not UTF-8 (or held NUL): U+FFFD */
    int64_t renamed_duplicates; /* keyless tasks repeating an earlier one's dedup identity */
    int64_t repaired_identities; /* keys and dedup identities given a suffix after repair */
} StoreCopyReport;

/* Copies every task, its body, attempts, manual entries, actions and alerts
 * from SOURCE (SQLite, only read) into DESTINATION (PostgreSQL, its schema
 * current and without rows), keeping ids, in one transaction that checks
 * each table's count against the source before it commits. Returns 0 with
 * REPORT, or -1 with ERR and nothing written (also when SOURCE is not
 * SQLite or DESTINATION not PostgreSQL). Both stores stay the caller's;
 * nothing else may use them meanwhile (heraldd is stopped). */
int copy_store(Store *source, Store *destination, StoreCopyReport *report, char *err,
               size_t errlen);

#endif
