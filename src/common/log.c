/*
 * log: see log.h. One formatted line per call, written with one write(2).
 */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"

#define LOG_LINE_MAX 4096

static LogLevel log_threshold = LOG_LEVEL_INFO;

/* Whether lines get "ts=" (decided once): journald stamps what it receives,
 * anything else (a terminal, a file, another collector) needs the time. */
static pthread_once_t log_stamp_once = PTHREAD_ONCE_INIT;
static bool log_stamp;

/* systemd sets JOURNAL_STREAM=DEVICE:INODE for the stream it connects to
 * stderr; stderr is the journal only if it is still that stream. */
static void log_decide_stamp(void)
{
    log_stamp = true;
    const char *stream = getenv("JOURNAL_STREAM");
    unsigned long long device, inode;
    struct stat status;
    if (stream != NULL && sscanf(stream, "%llu:%llu", &device, &inode) == 2 &&
        fstat(STDERR_FILENO, &status) == 0 && (unsigned long long)status.st_dev == device &&
        (unsigned long long)status.st_ino == inode)
        log_stamp = false;
}

static const char *log_level_name(LogLevel level)
{
    switch (level) {
    case LOG_LEVEL_ERROR: return "error";
    case LOG_LEVEL_WARNING: return "warning";
    case LOG_LEVEL_INFO: return "info";
    case LOG_LEVEL_DEBUG: return "debug";
    }
    return "info";
}

void log_set_level(LogLevel level)
{
    log_threshold = level;
}

int log_level_parse(const char *name, LogLevel *out)
{
    static const LogLevel levels[] = {LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO,
                                      LOG_LEVEL_DEBUG};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        if (strcmp(name, log_level_name(levels[i])) == 0) {
            *out = levels[i];
            return 0;
        }
    }
    return -1;
}

void log_write(LogLevel level, const char *format, ...)
{
    if (level > log_threshold)
        return;
    pthread_once(&log_stamp_once, log_decide_stamp);
    char line[LOG_LINE_MAX];
    char stamp[CLOCK_RFC3339_SIZE + 4] = "";
    if (log_stamp) {
        char time_text[CLOCK_RFC3339_SIZE];
        clock_format_rfc3339(clock_wall_ms(), time_text);
        snprintf(stamp, sizeof stamp, "ts=%s ", time_text);
    }
    int prefix = snprintf(line, sizeof line, "<%d>%slevel=%s ", (int)level, stamp,
                          log_level_name(level));
    va_list args;
    va_start(args, format);
    int body = vsnprintf(line + prefix, sizeof line - (size_t)prefix - 1, format, args);
    va_end(args);
    size_t length = (size_t)prefix + (body < 0 ? 0 : (size_t)body);
    if (length > sizeof line - 2)
        length = sizeof line - 2;
    line[length++] = '\n';
    int saved_errno = errno;
    /* A log line that cannot be written has nowhere better to go. */
    ssize_t written = write(STDERR_FILENO, line, length);
    (void)written;
    errno = saved_errno;
}

const char *log_quote(char *buffer, size_t size, const char *value)
{
    static const char ellipsis[] = "...";
    size_t out = 0;
    if (size < 8) {
        if (size > 0)
            buffer[0] = '\0';
        return buffer;
    }
    size_t limit = size - sizeof ellipsis - 2; /* room for the ellipsis, quote, NUL */
    buffer[out++] = '"';
    if (value == NULL)
        value = "";
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        char escaped[5];
        size_t n;
        if (*p == '"' || *p == '\\') {
            escaped[0] = '\\';
            escaped[1] = (char)*p;
            n = 2;
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(escaped, sizeof escaped, "\\x%02x", *p);
            n = 4;
        } else {
            escaped[0] = (char)*p;
            n = 1;
        }
        if (out + n > limit) {
            memcpy(buffer + out, ellipsis, sizeof ellipsis - 1);
            out += sizeof ellipsis - 1;
            break;
        }
        memcpy(buffer + out, escaped, n);
        out += n;
    }
    buffer[out++] = '"';
    buffer[out] = '\0';
    return buffer;
}
