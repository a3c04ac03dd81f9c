/*
 * config: see config.h.
 *
 * inih calls config_handle_pair() once per "key = value". The key is looked
 * up in one of two tables: config_keys (fields of Config) or config_policy_keys
 * (fields of a Policy: the [retry] one or a [business.NAME] one), and
 * config_value_store() converts and range-checks it into the field at the
 * row's offset (config_value.c). inih does not pass line numbers to the handler in Debian's
 * build, so config_read_line() (our stream reader) counts lines and also
 * refuses lines longer than inih's buffer, which inih would otherwise split
 * silently into two lines.
 */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "address.h"
#include "config_keys.h"
#include "config_receiver.h"
#include "config_value.h"
#include "clock.h"
#include "netguard.h"
#include "sign.h"
#include "task.h"
#include "units.h"

/* Debian builds inih with INI_MAX_LINE 200: a line must fit, newline included. */
#define CONFIG_LINE_MAX 199
#define CONFIG_MESSAGE_MAX 512
#define CONFIG_BUSINESS_PREFIX "business."
#define CONFIG_BUSINESS_MAX 1024

typedef struct ConfigParse {
    Config *config;
    FILE *stream;
    int line;                       /* of the line inih is handling */
    int error_line;                 /* 0 = no error yet */
    char error[CONFIG_MESSAGE_MAX]; /* first error only */
    /* The line each key was given on, 0 if it was not (parallel to the
     * tables): defaults and inherited values adapt to what was given, and a
     * contradiction between given keys names the line. */
    int key_line[CONFIG_KEYS_MAX];
    int retry_line[CONFIG_POLICY_KEYS_MAX];
    int (*business_line)[CONFIG_POLICY_KEYS_MAX]; /* parallel to config->business */
} ConfigParse;

void config_set_defaults(Config *config)
{
    memset(config, 0, sizeof *config);
    config_value_apply_defaults(config_keys, config_key_count, config);
    config_value_apply_defaults(config_policy_keys, config_policy_key_count, &config->retry);
}

int64_t config_scheduler_alive_ms(const Config *config)
{
    return config->retry_interval_ms * 2 + 10000;
}

void config_free(Config *config)
{
    free(config->business);
    config->business = NULL;
    config->business_count = 0;
    free(config->receivers);
    config->receivers = NULL;
    config->receiver_count = 0;
}

PolicySet config_policy_set(const Config *config)
{
    PolicySet set = {.fallback = config->retry, .business = config->business,
                     .business_count = config->business_count};
    return set;
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

/* Stores VALUE for the row KEYS[INDEX] into BASE, once, noting its line in
 * LINES. Returns 1 (inih: go on) or 0. */
static int config_set_key(ConfigParse *parse, const ConfigKey *keys, size_t index, int *lines,
                          void *base, const char *section, const char *value)
{
    const ConfigKey *key = &keys[index];
    if (lines[index] != 0) {
        config_fail(parse, "[%s] %s: key given twice", section, key->name);
        return 0;
    }
    /* An empty secret or secret_file (as shipped) does not count as given. */
    bool secret = key->type == CONFIG_TYPE_SECRET || key->type == CONFIG_TYPE_SECRET_FILE;
    lines[index] = secret && value[0] == '\0' ? 0 : parse->line;
    char err[CONFIG_MESSAGE_MAX];
    if (config_value_store(key, value, base, err, sizeof err) != 0) {
        config_fail(parse, "[%s] %s: %s", section, key->name, err);
        return 0;
    }
    return 1;
}

/* The business entry for NAME, created (with business-only defaults) if new. */
static int config_business_index(ConfigParse *parse, const char *name)
{
    Config *config = parse->config;
    for (size_t i = 0; i < config->business_count; i++) {
        if (strcmp(config->business[i].name, name) == 0)
            return (int)i;
    }
    if (config->business_count == CONFIG_BUSINESS_MAX) {
        config_fail(parse, "more than %d [business.*] sections", CONFIG_BUSINESS_MAX);
        return -1;
    }
    size_t count = config->business_count + 1;
    PolicyBusiness *business = realloc(config->business, count * sizeof *business);
    int(*lines)[CONFIG_POLICY_KEYS_MAX] = realloc(parse->business_line, count * sizeof *lines);
    if (business != NULL)
        config->business = business;
    if (lines != NULL)
        parse->business_line = lines;
    if (business == NULL || lines == NULL) {
        config_fail(parse, "out of memory");
        return -1;
    }
    PolicyBusiness *entry = &business[count - 1];
    memset(entry, 0, sizeof *entry);
    snprintf(entry->name, sizeof entry->name, "%s", name);
    config_value_apply_defaults(config_policy_keys, config_policy_key_count, &entry->policy);
    memset(lines[count - 1], 0, sizeof lines[count - 1]);
    config->business_count = count;
    return (int)(count - 1);
}

static int config_handle_business(ConfigParse *parse, const char *section, const char *name,
                                  const char *value)
{
    const char *type = section + strlen(CONFIG_BUSINESS_PREFIX);
    if (!task_business_type_is_valid(type)) {
        config_fail(parse, "[%s]: business type must match [A-Za-z0-9_.:-]{1,64}", section);
        return 0;
    }
    /* Every policy key, whichever section sets its default (names are unique). */
    int key = -1;
    for (size_t i = 0; key < 0 && i < config_policy_key_count; i++)
        if (strcmp(config_policy_keys[i].name, name) == 0)
            key = (int)i;
    if (key < 0) {
        config_fail(parse, "[%s] unknown key \"%s\"", section, name);
        return 0;
    }
    int index = config_business_index(parse, type);
    if (index < 0)
        return 0;
    return config_set_key(parse, config_policy_keys, (size_t)key, parse->business_line[index],
                          &parse->config->business[index].policy, section, value);
}

static int config_handle_pair(void *user, const char *section, const char *name,
                              const char *value)
{
    ConfigParse *parse = user;
    if (strncmp(section, CONFIG_BUSINESS_PREFIX, strlen(CONFIG_BUSINESS_PREFIX)) == 0)
        return config_handle_business(parse, section, name, value);
    if (strncmp(section, CONFIG_RECEIVER_PREFIX, strlen(CONFIG_RECEIVER_PREFIX)) == 0) {
        char err[CONFIG_MESSAGE_MAX];
        if (config_receiver_pair(parse->config, section, name, value, parse->line, err,
                                 sizeof err) == 0)
            return 1;
        config_fail(parse, "%s", err);
        return 0;
    }
    if (strcmp(section, "business") != 0) { /* [retry], [telemetry]: Config.retry */
        int key = config_key_find(config_policy_keys, config_policy_key_count, section, name);
        if (key >= 0)
            return config_set_key(parse, config_policy_keys, (size_t)key, parse->retry_line,
                                  &parse->config->retry, section, value);
    }
    int key = config_key_find(config_keys, config_key_count, section, name);
    if (key >= 0)
        return config_set_key(parse, config_keys, (size_t)key, parse->key_line, parse->config,
                              section, value);
    bool section_known = false;
    for (size_t i = 0; i < config_key_count; i++)
        section_known |= strcmp(config_keys[i].section, section) == 0;
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

/* Business sections inherit every [retry] and [telemetry] key they did not set. */
static void config_inherit_retry(ConfigParse *parse)
{
    Config *config = parse->config;
    for (size_t b = 0; b < config->business_count; b++) {
        for (size_t k = 0; k < config_policy_key_count; k++) {
            if (strcmp(config_policy_keys[k].section, "business") == 0 ||
                parse->business_line[b][k])
                continue;
            const ConfigKey *key = &config_policy_keys[k];
            memcpy((char *)&config->business[b].policy + key->offset,
                   (const char *)&config->retry + key->offset, key->size);
        }
    }
}

/* A key given as both NAME and NAME_file in one section. */
static bool config_both_given(const ConfigKey *keys, size_t count, const int *lines,
                              const char *section, const char *name)
{
    char file_name[64];
    snprintf(file_name, sizeof file_name, "%s_file", name);
    int plain = config_key_find(keys, count, section, name);
    int file = config_key_find(keys, count, section, file_name);
    return plain >= 0 && file >= 0 && lines[plain] && lines[file];
}

/* Fills POLICY's secrets from [delivery] where it has none, and decodes them. */
static void config_resolve_secrets(const Config *config, Policy *policy)
{
    if (policy->secret[0] == '\0') {
        snprintf(policy->secret, sizeof policy->secret, "%s", config->delivery_secret);
        snprintf(policy->previous_secret, sizeof policy->previous_secret, "%s",
                 config->delivery_previous_secret);
        policy->previous_secret_until = config->delivery_previous_secret_until;
    }
    char err[256];
    /* Both were validated when read; an empty one leaves its key empty. */
    if (policy->secret[0] == '\0' || sign_parse_secret(policy->secret, &policy->key, err,
                                                        sizeof err) != 0)
        memset(&policy->key, 0, sizeof policy->key);
    if (policy->previous_secret[0] == '\0' ||
        sign_parse_secret(policy->previous_secret, &policy->previous_key, err, sizeof err) != 0)
        memset(&policy->previous_key, 0, sizeof policy->previous_key);
}

/* The line KEY (a row of KEYS, found by section and name) was given on in
 * LINES, 0 if it was not. */
/* Two keys that must keep LOW <= HIGH. Whichever was not given adapts to the
 * one that was (a default never makes a file fail); when both were given and
 * contradict, that is an error at the later line. Returns 0, or -1 with ERR
 * set as "FILE:LINE: [SECTION] LOW_NAME (...) exceeds HIGH_NAME (...)". */
static int config_order(int64_t *low, int low_line, const char *low_name, int64_t *high,
                        int high_line, const char *high_name, const char *section,
                        const char *unit, const char *file, char *err, size_t errlen)
{
    if (*low <= *high)
        return 0;
    if (low_line == 0) {
        *low = *high;
        return 0;
    }
    if (high_line == 0) {
        *high = *low;
        return 0;
    }
    snprintf(err, errlen, "%s:%d: [%s] %s (%lld%s) exceeds %s (%lld%s)", file,
             low_line > high_line ? low_line : high_line, section, low_name, (long long)*low,
             unit, high_name, (long long)*high, unit);
    return -1;
}

/* base_delay <= max_delay in one policy section, with LINES its keys' lines. */
static int config_settle_policy(Policy *policy, const int *lines, const char *section,
                                const char *file, char *err, size_t errlen)
{
    const ConfigKey *keys = config_policy_keys;
    size_t count = config_policy_key_count;
    if (policy->previous_secret[0] != '\0' && policy->previous_secret_until == 0) {
        snprintf(err, errlen, "%s:%d: [%s] previous_secret needs previous_secret_until (when to "
                 "stop signing with it)", file,
                 config_key_line(keys, count, lines, "business", "previous_secret"), section);
        return -1;
    }
    return config_order(&policy->base_delay_ms,
                        config_key_line(keys, count, lines, "retry", "base_delay"), "base_delay",
                        &policy->max_delay_ms,
                        config_key_line(keys, count, lines, "retry", "max_delay"), "max_delay",
                        section, "ms", file, err, errlen);
}

/* The rules that involve several keys, once everything is read. */
static int config_settle(ConfigParse *parse, const char *file, char *err, size_t errlen)
{
    Config *config = parse->config;
    const int *lines = parse->key_line;
    const ConfigKey *keys = config_keys;
    size_t count = config_key_count;
    if (config->storage_url[0] != '\0' && strncmp(config->storage_url, "postgresql://", 13) != 0 &&
        strncmp(config->storage_url, "postgres://", 11) != 0) {
        snprintf(err, errlen, "%s:%d: [storage] url must be a PostgreSQL URI (postgresql://...)",
                 file, config_key_line(keys, count, lines, "storage", "url"));
        return -1;
    }
    if (config->storage_url[0] == '\0' && config->storage_password_file[0] != '\0') {
        snprintf(err, errlen, "%s:%d: [storage] password_file is for url (PostgreSQL)", file,
                 config_key_line(keys, count, lines, "storage", "password_file"));
        return -1;
    }
    if (config->delivery_previous_secret[0] != '\0' &&
        config->delivery_previous_secret_until == 0) {
        snprintf(err, errlen, "%s:%d: [delivery] previous_secret needs previous_secret_until",
                 file, config_key_line(keys, count, lines, "delivery", "previous_secret"));
        return -1;
    }
    if (config_order(&config->per_host_concurrency,
                     config_key_line(keys, count, lines, "delivery", "per_host_concurrency"),
                     "per_host_concurrency", &config->concurrency,
                     config_key_line(keys, count, lines, "delivery", "concurrency"), "concurrency",
                     "delivery", "", file, err, errlen) != 0 ||
        config_order(&config->connect_timeout_ms,
                     config_key_line(keys, count, lines, "delivery", "connect_timeout"),
                     "connect_timeout", &config->delivery_timeout_ms,
                     config_key_line(keys, count, lines, "delivery", "timeout"), "timeout",
                     "delivery", "ms", file, err, errlen) != 0 ||
        config_settle_policy(&config->retry, parse->retry_line, "retry", file, err, errlen) != 0)
        return -1;
    /* Business sections inherit [retry] as settled, then settle their own. */
    config_inherit_retry(parse);
    for (size_t i = 0; i < config->business_count; i++) {
        char section[128];
        snprintf(section, sizeof section, "business.%s", config->business[i].name);
        if (config_settle_policy(&config->business[i].policy, parse->business_line[i], section,
                                 file, err, errlen) != 0)
            return -1;
    }
    int line = 0;
    char reason[CONFIG_MESSAGE_MAX];
    if (config_receiver_settle(config, &line, reason, sizeof reason) != 0) {
        snprintf(err, errlen, "%s:%d: %s", file, line, reason);
        return -1;
    }
    return 0;
}

static int config_parse_stream(Config *config, FILE *stream, const char *name, char *err,
                               size_t errlen)
{
    ConfigParse parse = {.config = config, .stream = stream};
    config_set_defaults(config);
    int result = ini_parse_stream(config_read_line, &parse, config_handle_pair, &parse);
    int status = -1;
    if (parse.error_line != 0)
        snprintf(err, errlen, "%s:%d: %s", name, parse.error_line, parse.error);
    else if (result == -2)
        snprintf(err, errlen, "%s: out of memory while parsing", name);
    else if (result != 0)
        snprintf(err, errlen, "%s:%d: syntax error: expected [section] or key = value", name,
                 result);
    else if (ferror(stream))
        snprintf(err, errlen, "%s: read error: %s", name, strerror(errno));
    else
        status = 0;
    if (status == 0 &&
        config_both_given(config_keys, config_key_count, parse.key_line, "delivery", "secret")) {
        snprintf(err, errlen, "%s: [delivery] set secret or secret_file, not both", name);
        status = -1;
    }
    for (size_t i = 0; status == 0 && i < config->business_count; i++) {
        if (config_both_given(config_policy_keys, config_policy_key_count,
                              parse.business_line[i], "business", "secret")) {
            snprintf(err, errlen, "%s: [business.%s] set secret or secret_file, not both", name,
                     config->business[i].name);
            status = -1;
        }
    }
    if (status == 0)
        status = config_telemetry_settle(config, parse.key_line, name, err, errlen);
    if (status == 0)
        status = config_settle(&parse, name, err, errlen);
    if (status == 0) {
        config_resolve_secrets(config, &config->retry);
        for (size_t i = 0; i < config->business_count; i++)
            config_resolve_secrets(config, &config->business[i].policy);
    }
    free(parse.business_line);
    return status;
}

int config_load(Config *config, const char *path, char *err, size_t errlen)
{
    FILE *stream = fopen(path, "r");
    if (stream == NULL) {
        int error = errno; /* config_set_defaults may change it */
        config_set_defaults(config);
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(error));
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
        int error = errno; /* config_set_defaults may change it */
        config_set_defaults(config);
        snprintf(err, errlen, "%s: cannot read: %s", name, strerror(error));
        return -1;
    }
    int result = config_parse_stream(config, stream, name, err, errlen);
    fclose(stream);
    return result;
}
