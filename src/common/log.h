/*
 * log: leveled, one-line key=value logs on stderr.
 *
 * Every line starts with a syslog priority prefix (<3> error, <4> warning,
 * <6> info, <7> debug) so that journald files it under the right level when
 * heraldd runs under systemd; on a terminal the prefix is harmless. When
 * stderr is not the journal (JOURNAL_STREAM), lines carry "ts=" (RFC 3339
 * UTC, wall clock) after the prefix, since nothing else stamps them. A line is
 * written with a single write(2), so lines from different threads never
 * interleave. Callers write `event=NAME key=value ...`; values that come from
 * users (business ids, URLs, messages) go through log_quote() so that a crafted
 * value cannot forge a log line.
 */
#ifndef HERALD_LOG_H
#define HERALD_LOG_H

#include <stddef.h>

typedef enum {
    LOG_LEVEL_ERROR = 3,
    LOG_LEVEL_WARNING = 4,
    LOG_LEVEL_INFO = 6,
    LOG_LEVEL_DEBUG = 7,
} LogLevel;

/* Lines above this level are dropped. Default: LOG_LEVEL_INFO. */
void log_set_level(LogLevel level);

/* Parses "error", "warning", "info" or "debug". Returns 0, or -1 if unknown. */
int log_level_parse(const char *name, LogLevel *out);

void log_write(LogLevel level, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_write(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_write(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...) log_write(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Writes VALUE into BUFFER as a double-quoted string with ", \ and control
 * characters escaped, truncated (with "...") to fit SIZE. Returns BUFFER. */
const char *log_quote(char *buffer, size_t size, const char *value);

#endif
