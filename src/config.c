/*
 * config: see config.h.
 *
 * inih calls config_handle_pair() once per "key = value"; we find the row for
 * (section, key) in config_keys[] and let config_store_value() convert and
 * range-check it into the field at the row's offset. inih does not pass line
 * numbers to the handler in Debian's build, so config_read_line() (our
 * stream reader) counts lines and also refuses lines longer than inih's
 * buffer, which inih would otherwise split silently into two lines.
 */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "address.h"
#include "units.h"

/* Debian builds inih with INI_MAX_LINE 200: a line must fit, newline included. */
#define CONFIG_LINE_MAX 199
#define CONFIG_MESSAGE_MAX 512

typedef enum {
    CONFIG_TYPE_STRING,
    CONFIG_TYPE_SIZE,
    CONFIG_TYPE_DURATION,
    CONFIG_TYPE_INTEGER,
    CONFIG_TYPE_LOG_LEVEL,
    CONFIG_TYPE_LISTEN,
} ConfigType;

typedef struct ConfigKey {
    const char *section;
    const char *name;
    ConfigType type;
    size_t offset;
    size_t size;  /* of the field, for strings */
    int64_t min;  /* bounds for numbers, in bytes / milliseconds / units */
    int64_t max;
    const char *default_value;
} ConfigKey;

#define CONFIG_FIELD(field) offsetof(Config, field), sizeof(((Config *)0)->field)

static const ConfigKey config_keys[] = {
    {"server", "listen", CONFIG_TYPE_LISTEN, CONFIG_FIELD(listen), 0, 0, "127.0.0.1:8080"},
    {"server", "api_token_file", CONFIG_TYPE_STRING, CONFIG_FIELD(api_token_file), 0, 0, ""},
    {"server", "max_body", CONFIG_TYPE_SIZE, CONFIG_FIELD(max_body), 64, 64 * 1024 * 1024,
     "256KiB"},
    {"server", "threads", CONFIG_TYPE_INTEGER, CONFIG_FIELD(threads), 0, 64, "0"},
    {"server", "max_connections", CONFIG_TYPE_INTEGER, CONFIG_FIELD(max_connections), 1, 100000,
     "1024"},
    {"server", "connection_timeout", CONFIG_TYPE_DURATION, CONFIG_FIELD(connection_timeout_ms),
     1000, 3600 * 1000, "30s"},
    {"server", "log_level", CONFIG_TYPE_LOG_LEVEL, CONFIG_FIELD(log_level), 0, 0, "info"},
    {"storage", "path", CONFIG_TYPE_STRING, CONFIG_FIELD(storage_path), 0, 0, "var/herald.db"},
    {"storage", "busy_timeout", CONFIG_TYPE_DURATION, CONFIG_FIELD(busy_timeout_ms), 0,
     600 * 1000, "5s"},
    {"storage", "intake_queue_limit", CONFIG_TYPE_INTEGER, CONFIG_FIELD(intake_queue_limit), 1,
     1000000, "10000"},
};

#define CONFIG_KEY_COUNT (sizeof config_keys / sizeof config_keys[0])

typedef struct ConfigParse {
    Config *config;
    FILE *stream;
    int line;                       /* of the line inih is handling */
    int error_line;                 /* 0 = no error yet */
    char error[CONFIG_MESSAGE_MAX]; /* first error only */
    bool seen[CONFIG_KEY_COUNT];
} ConfigParse;

static int config_store_number(const ConfigKey *key, int64_t value, void *field, char *err,
                               size_t errlen)
{
    if (value < key->min || value > key->max) {
        snprintf(err, errlen, "must be between %lld and %lld", (long long)key->min,
                 (long long)key->max);
        return -1;
    }
    *(int64_t *)field = value;
    return 0;
}

static int config_store_value(const ConfigKey *key, const char *value, void *base, char *err,
                              size_t errlen)
{
    void *field = (char *)base + key->offset;
    switch (key->type) {
    case CONFIG_TYPE_STRING:
        if (strlen(value) >= key->size) {
            snprintf(err, errlen, "value longer than %zu characters", key->size - 1);
            return -1;
        }
        strcpy(field, value);
        return 0;
    case CONFIG_TYPE_LISTEN: {
        struct sockaddr_storage address;
        socklen_t length;
        if (strlen(value) >= key->size) {
            snprintf(err, errlen, "value longer than %zu characters", key->size - 1);
            return -1;
        }
        if (address_parse_listen(value, &address, &length, err, errlen) != 0)
            return -1;
        strcpy(field, value);
        return 0;
    }
    case CONFIG_TYPE_SIZE: {
        uint64_t bytes;
        if (units_parse_size(value, &bytes, err, errlen) != 0)
            return -1;
        if (bytes < (uint64_t)key->min || bytes > (uint64_t)key->max) {
            snprintf(err, errlen, "must be between %lld and %lld bytes", (long long)key->min,
                     (long long)key->max);
            return -1;
        }
        *(uint64_t *)field = bytes;
        return 0;
    }
    case CONFIG_TYPE_DURATION: {
        int64_t ms;
        if (units_parse_duration_ms(value, &ms, err, errlen) != 0)
            return -1;
        if (ms < key->min || ms > key->max) {
            snprintf(err, errlen, "must be between %lldms and %lldms", (long long)key->min,
                     (long long)key->max);
            return -1;
        }
        *(int64_t *)field = ms;
        return 0;
    }
    case CONFIG_TYPE_INTEGER: {
        char *end;
        errno = 0;
        long long number = strtoll(value, &end, 10);
        if (*value == '\0' || *end != '\0' || errno != 0) {
            snprintf(err, errlen, "invalid integer \"%s\"", value);
            return -1;
        }
        return config_store_number(key, number, field, err, errlen);
    }
    case CONFIG_TYPE_LOG_LEVEL:
        if (log_level_parse(value, (LogLevel *)field) != 0) {
            snprintf(err, errlen, "invalid level \"%s\": use error, warning, info or debug",
                     value);
            return -1;
        }
        return 0;
    }
    snprintf(err, errlen, "internal error: unknown key type");
    return -1;
}

void config_set_defaults(Config *config)
{
    memset(config, 0, sizeof *config);
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        char err[CONFIG_MESSAGE_MAX];
        /* The defaults are ours and unit-tested; failing here is a programming error. */
        if (config_store_value(&config_keys[i], config_keys[i].default_value, config, err,
                               sizeof err) != 0)
            abort();
    }
}

static void config_fail(ConfigParse *parse, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Records the first error with the line being parsed; later ones are noise. */
static void config_fail(ConfigParse *parse, const char *format, ...)
{
    if (parse->error_line != 0)
        return;
    parse->error_line = parse->line;
    va_list args;
    va_start(args, format);
    vsnprintf(parse->error, sizeof parse->error, format, args);
    va_end(args);
}

static int config_handle_pair(void *user, const char *section, const char *name,
                              const char *value)
{
    ConfigParse *parse = user;
    bool section_known = false;
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        const ConfigKey *key = &config_keys[i];
        if (strcmp(key->section, section) != 0)
            continue;
        section_known = true;
        if (strcmp(key->name, name) != 0)
            continue;
        if (parse->seen[i]) {
            config_fail(parse, "[%s] %s: key given twice", section, name);
            return 0;
        }
        parse->seen[i] = true;
        char err[CONFIG_MESSAGE_MAX];
        if (config_store_value(key, value, parse->config, err, sizeof err) != 0) {
            config_fail(parse, "[%s] %s: %s", section, name, err);
            return 0;
        }
        return 1;
    }
    if (section[0] == '\0')
        config_fail(parse, "key \"%s\" outside any section", name);
    else if (!section_known)
        config_fail(parse, "unknown section [%s]", section);
    else
        config_fail(parse, "[%s] unknown key \"%s\"", section, name);
    return 0;
}

/* fgets() for inih that counts lines and refuses those longer than inih's buffer. */
static char *config_read_line(char *str, int num, void *stream)
{
    ConfigParse *parse = stream;
    if (parse->error_line != 0)
        return NULL; /* stop at the first error */
    if (fgets(str, num, parse->stream) == NULL)
        return NULL;
    parse->line++;
    size_t length = strlen(str);
    bool complete = length > 0 && str[length - 1] == '\n';
    if (!complete && !feof(parse->stream)) {
        config_fail(parse, "line longer than %d characters", CONFIG_LINE_MAX);
        return NULL;
    }
    return str;
}

static int config_parse_stream(Config *config, FILE *stream, const char *name, char *err,
                               size_t errlen)
{
    ConfigParse parse = {.config = config, .stream = stream};
    config_set_defaults(config);
    int result = ini_parse_stream(config_read_line, &parse, config_handle_pair, &parse);
    if (parse.error_line != 0) {
        snprintf(err, errlen, "%s:%d: %s", name, parse.error_line, parse.error);
        return -1;
    }
    if (result == -2) {
        snprintf(err, errlen, "%s: out of memory while parsing", name);
        return -1;
    }
    if (result != 0) {
        snprintf(err, errlen, "%s:%d: syntax error: expected [section] or key = value", name,
                 result);
        return -1;
    }
    if (ferror(stream)) {
        snprintf(err, errlen, "%s: read error: %s", name, strerror(errno));
        return -1;
    }
    return 0;
}

int config_load(Config *config, const char *path, char *err, size_t errlen)
{
    FILE *stream = fopen(path, "r");
    if (stream == NULL) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    int result = config_parse_stream(config, stream, path, err, errlen);
    fclose(stream);
    return result;
}

int config_load_text(Config *config, const char *text, const char *name, char *err,
                     size_t errlen)
{
    /* fmemopen() refuses a zero-length buffer; an empty config is one newline. */
    if (text[0] == '\0')
        text = "\n";
    FILE *stream = fmemopen((void *)text, strlen(text), "r");
    if (stream == NULL) {
        snprintf(err, errlen, "%s: cannot read: %s", name, strerror(errno));
        return -1;
    }
    int result = config_parse_stream(config, stream, name, err, errlen);
    fclose(stream);
    return result;
}
