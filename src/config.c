/*
 * config: see config.h.
 *
 * inih calls config_handle_pair() once per "key = value". The key is looked
 * up in one of two tables: config_keys (fields of Config) or policy_keys
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
#define CONFIG_DAY_MS (86400LL * 1000)

#define CONFIG_FIELD(field) offsetof(Config, field), sizeof(((Config *)0)->field)
#define POLICY_FIELD(field) offsetof(Policy, field), sizeof(((Policy *)0)->field)

static const ConfigKey config_keys[] = {
    {"server", "listen", CONFIG_TYPE_LISTEN, CONFIG_FIELD(listen), 0, 0, "127.0.0.1:8080"},
    {"server", "api_token_file", CONFIG_TYPE_STRING, CONFIG_FIELD(api_token_file), 0, 0, ""},
    {"server", "max_body", CONFIG_TYPE_SIZE, CONFIG_FIELD(max_body), 64, 64 * 1024 * 1024,
     "256KiB"},
    {"server", "threads", CONFIG_TYPE_INTEGER, CONFIG_FIELD(threads), 0, 64, "0"},
    {"server", "max_connections", CONFIG_TYPE_INTEGER, CONFIG_FIELD(max_connections), 1, 100000,
     "1024"},
    {"server", "max_connections_per_ip", CONFIG_TYPE_INTEGER,
     CONFIG_FIELD(max_connections_per_ip), 0, 100000, "256"},
    {"server", "max_header_bytes", CONFIG_TYPE_SIZE, CONFIG_FIELD(max_header_bytes), 8192,
     1024 * 1024, "32KiB"},
    {"server", "connection_timeout", CONFIG_TYPE_DURATION, CONFIG_FIELD(connection_timeout_ms),
     1000, 3600 * 1000, "30s"},
    {"server", "header_timeout", CONFIG_TYPE_DURATION, CONFIG_FIELD(header_timeout_ms), 500,
     3600 * 1000, "10s"},
    {"server", "body_timeout", CONFIG_TYPE_DURATION, CONFIG_FIELD(body_timeout_ms), 500,
     3600 * 1000, "60s"},
    {"server", "drain_timeout", CONFIG_TYPE_DURATION, CONFIG_FIELD(drain_timeout_ms), 0,
     600 * 1000, "3s"},
    {"server", "log_level", CONFIG_TYPE_LOG_LEVEL, CONFIG_FIELD(log_level), 0, 0, "info"},
    {"storage", "path", CONFIG_TYPE_STRING, CONFIG_FIELD(storage_path), 0, 0, "var/herald.db"},
    {"storage", "busy_timeout", CONFIG_TYPE_DURATION, CONFIG_FIELD(busy_timeout_ms), 0,
     600 * 1000, "5s"},
    {"storage", "intake_queue_limit", CONFIG_TYPE_INTEGER, CONFIG_FIELD(intake_queue_limit), 1,
     1000000, "10000"},
    {"storage", "retention", CONFIG_TYPE_DURATION, CONFIG_FIELD(retention_ms), 1000,
     3650 * CONFIG_DAY_MS, "7d"},
    {"delivery", "timeout", CONFIG_TYPE_DURATION, CONFIG_FIELD(delivery_timeout_ms), 100,
     600 * 1000, "10s"},
    {"delivery", "connect_timeout", CONFIG_TYPE_DURATION, CONFIG_FIELD(connect_timeout_ms), 100,
     600 * 1000, "5s"},
    {"delivery", "concurrency", CONFIG_TYPE_INTEGER, CONFIG_FIELD(concurrency), 1, 100000, "256"},
    {"delivery", "per_host_concurrency", CONFIG_TYPE_INTEGER, CONFIG_FIELD(per_host_concurrency),
     1, 100000, "16"},
    {"delivery", "max_response_bytes", CONFIG_TYPE_SIZE, CONFIG_FIELD(max_response_bytes), 0,
     1024 * 1024, "4KiB"},
    {"delivery", "allow_private_targets", CONFIG_TYPE_BOOLEAN,
     CONFIG_FIELD(allow_private_targets), 0, 0, "false"},
    {"delivery", "allow_cidrs", CONFIG_TYPE_CIDRS, CONFIG_FIELD(allow_cidrs), 0, 0, ""},
    {"delivery", "ca_file", CONFIG_TYPE_STRING, CONFIG_FIELD(ca_file), 0, 0, ""},
    {"delivery", "secret", CONFIG_TYPE_SECRET, CONFIG_FIELD(delivery_secret), 0, 0, ""},
    {"delivery", "secret_file", CONFIG_TYPE_SECRET_FILE, CONFIG_FIELD(delivery_secret), 0, 0,
     ""},
    {"delivery", "previous_secret", CONFIG_TYPE_SECRET, CONFIG_FIELD(delivery_previous_secret),
     0, 0, ""},
    {"delivery", "previous_secret_until", CONFIG_TYPE_TIME,
     CONFIG_FIELD(delivery_previous_secret_until), 0, 0, ""},
    {"retry", "retry_interval", CONFIG_TYPE_DURATION, CONFIG_FIELD(retry_interval_ms), 10,
     CONFIG_DAY_MS, "30s"},
    {"alert", "interval", CONFIG_TYPE_DURATION, CONFIG_FIELD(alert_interval_ms), 100,
     CONFIG_DAY_MS, "30s"},
    {"alert", "window", CONFIG_TYPE_DURATION, CONFIG_FIELD(alert_window_ms), 1000,
     365 * CONFIG_DAY_MS, "24h"},
    {"alert", "threshold", CONFIG_TYPE_INTEGER, CONFIG_FIELD(alert_threshold), 1, 100000000,
     "10"},
    {"alert", "cooldown", CONFIG_TYPE_DURATION, CONFIG_FIELD(alert_cooldown_ms), 0,
     30 * CONFIG_DAY_MS, "1h"},
    {"alert", "webhook_url", CONFIG_TYPE_STRING, CONFIG_FIELD(alert_webhook_url), 0, 0, ""},
    {"alert", "command", CONFIG_TYPE_STRING, CONFIG_FIELD(alert_command), 0, 0, ""},
    {"alert", "max_lag", CONFIG_TYPE_DURATION, CONFIG_FIELD(alert_max_lag_ms), 1000,
     30 * CONFIG_DAY_MS, "5m"},
};

static const ConfigKey policy_keys[] = {
    {"retry", "max_retry", CONFIG_TYPE_INTEGER, POLICY_FIELD(max_retry), 1, 100, "5"},
    {"retry", "base_delay", CONFIG_TYPE_DURATION, POLICY_FIELD(base_delay_ms), 0,
     30 * CONFIG_DAY_MS, "1m"},
    {"retry", "max_delay", CONFIG_TYPE_DURATION, POLICY_FIELD(max_delay_ms), 0,
     30 * CONFIG_DAY_MS, "30m"},
    {"retry", "exponential_backoff", CONFIG_TYPE_BOOLEAN, POLICY_FIELD(exponential_backoff), 0,
     0, "true"},
    {"retry", "jitter", CONFIG_TYPE_REAL, POLICY_FIELD(jitter), 0, 1, "0.1"},
    {"retry", "schedule", CONFIG_TYPE_SCHEDULE, POLICY_FIELD(schedule), 0, 30 * CONFIG_DAY_MS,
     ""},
    {"business", "success_body", CONFIG_TYPE_STRING, POLICY_FIELD(success_body), 0, 0, ""},
    {"business", "timeout", CONFIG_TYPE_DURATION, POLICY_FIELD(timeout_ms), 0, 600 * 1000, "0"},
    {"business", "secret", CONFIG_TYPE_SECRET, POLICY_FIELD(secret), 0, 0, ""},
    {"business", "secret_file", CONFIG_TYPE_SECRET_FILE, POLICY_FIELD(secret), 0, 0, ""},
    {"business", "previous_secret", CONFIG_TYPE_SECRET, POLICY_FIELD(previous_secret), 0, 0, ""},
    {"business", "previous_secret_until", CONFIG_TYPE_TIME, POLICY_FIELD(previous_secret_until),
     0, 0, ""},
};

#define CONFIG_KEY_COUNT (sizeof config_keys / sizeof config_keys[0])
#define POLICY_KEY_COUNT (sizeof policy_keys / sizeof policy_keys[0])

typedef struct ConfigParse {
    Config *config;
    FILE *stream;
    int line;                       /* of the line inih is handling */
    int error_line;                 /* 0 = no error yet */
    char error[CONFIG_MESSAGE_MAX]; /* first error only */
    bool seen[CONFIG_KEY_COUNT];
    bool retry_seen[POLICY_KEY_COUNT];
    bool (*business_seen)[POLICY_KEY_COUNT]; /* parallel to config->business */
} ConfigParse;

void config_set_defaults(Config *config)
{
    memset(config, 0, sizeof *config);
    config_value_apply_defaults(config_keys, CONFIG_KEY_COUNT, config);
    config_value_apply_defaults(policy_keys, POLICY_KEY_COUNT, &config->retry);
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

/* Stores VALUE for the row KEYS[INDEX] into BASE, once. Returns 1 (inih: go on) or 0. */
static int config_set_key(ConfigParse *parse, const ConfigKey *keys, size_t index, bool *seen,
                          void *base, const char *section, const char *value)
{
    const ConfigKey *key = &keys[index];
    if (seen[index]) {
        config_fail(parse, "[%s] %s: key given twice", section, key->name);
        return 0;
    }
    /* An empty secret or secret_file (as shipped) does not count as given. */
    bool secret = key->type == CONFIG_TYPE_SECRET || key->type == CONFIG_TYPE_SECRET_FILE;
    seen[index] = !(secret && value[0] == '\0');
    char err[CONFIG_MESSAGE_MAX];
    if (config_value_store(key, value, base, err, sizeof err) != 0) {
        config_fail(parse, "[%s] %s: %s", section, key->name, err);
        return 0;
    }
    return 1;
}

static int config_find_key(const ConfigKey *keys, size_t count, const char *section,
                           const char *name)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
            return (int)i;
    }
    return -1;
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
    bool(*seen)[POLICY_KEY_COUNT] = realloc(parse->business_seen, count * sizeof *seen);
    if (business != NULL)
        config->business = business;
    if (seen != NULL)
        parse->business_seen = seen;
    if (business == NULL || seen == NULL) {
        config_fail(parse, "out of memory");
        return -1;
    }
    PolicyBusiness *entry = &business[count - 1];
    memset(entry, 0, sizeof *entry);
    snprintf(entry->name, sizeof entry->name, "%s", name);
    config_value_apply_defaults(policy_keys, POLICY_KEY_COUNT, &entry->policy);
    memset(seen[count - 1], 0, sizeof seen[count - 1]);
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
    int key = config_find_key(policy_keys, POLICY_KEY_COUNT, "retry", name);
    if (key < 0)
        key = config_find_key(policy_keys, POLICY_KEY_COUNT, "business", name);
    if (key < 0) {
        config_fail(parse, "[%s] unknown key \"%s\"", section, name);
        return 0;
    }
    int index = config_business_index(parse, type);
    if (index < 0)
        return 0;
    return config_set_key(parse, policy_keys, (size_t)key, parse->business_seen[index],
                          &parse->config->business[index].policy, section, value);
}

static int config_handle_pair(void *user, const char *section, const char *name,
                              const char *value)
{
    ConfigParse *parse = user;
    if (strncmp(section, CONFIG_BUSINESS_PREFIX, strlen(CONFIG_BUSINESS_PREFIX)) == 0)
        return config_handle_business(parse, section, name, value);
    if (strcmp(section, "retry") == 0) {
        int key = config_find_key(policy_keys, POLICY_KEY_COUNT, "retry", name);
        if (key >= 0)
            return config_set_key(parse, policy_keys, (size_t)key, parse->retry_seen,
                                  &parse->config->retry, section, value);
    }
    int key = config_find_key(config_keys, CONFIG_KEY_COUNT, section, name);
    if (key >= 0)
        return config_set_key(parse, config_keys, (size_t)key, parse->seen, parse->config,
                              section, value);
    bool section_known = false;
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++)
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

/* Business sections inherit every [retry] key they did not set. */
static void config_inherit_retry(ConfigParse *parse)
{
    Config *config = parse->config;
    for (size_t b = 0; b < config->business_count; b++) {
        for (size_t k = 0; k < POLICY_KEY_COUNT; k++) {
            if (strcmp(policy_keys[k].section, "retry") != 0 || parse->business_seen[b][k])
                continue;
            memcpy((char *)&config->business[b].policy + policy_keys[k].offset,
                   (const char *)&config->retry + policy_keys[k].offset, policy_keys[k].size);
        }
    }
}

/* A key given as both NAME and NAME_file in one section. */
static bool config_both_given(const ConfigKey *keys, size_t count, const bool *seen,
                              const char *section, const char *name)
{
    char file_name[64];
    snprintf(file_name, sizeof file_name, "%s_file", name);
    int plain = config_find_key(keys, count, section, name);
    int file = config_find_key(keys, count, section, file_name);
    return plain >= 0 && file >= 0 && seen[plain] && seen[file];
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

static int config_check_policy(const char *section, const Policy *policy, char *err,
                               size_t errlen)
{
    if (policy->previous_secret[0] != '\0' && policy->previous_secret_until == 0) {
        snprintf(err, errlen, "[%s] previous_secret needs previous_secret_until (when to stop "
                              "signing with it)", section);
        return -1;
    }
    if (policy->base_delay_ms > policy->max_delay_ms) {
        snprintf(err, errlen, "[%s] base_delay (%lldms) is longer than max_delay (%lldms)",
                 section, (long long)policy->base_delay_ms, (long long)policy->max_delay_ms);
        return -1;
    }
    return 0;
}

/* The rules that involve several keys, checked once everything is read. */
static int config_check(const Config *config, const char *name, char *err, size_t errlen)
{
    char detail[CONFIG_MESSAGE_MAX];
    if (config->delivery_previous_secret[0] != '\0' &&
        config->delivery_previous_secret_until == 0) {
        snprintf(err, errlen, "%s: [delivery] previous_secret needs previous_secret_until", name);
        return -1;
    }
    if (config->per_host_concurrency > config->concurrency) {
        snprintf(err, errlen, "%s: [delivery] per_host_concurrency (%lld) exceeds concurrency (%lld)",
                 name, (long long)config->per_host_concurrency, (long long)config->concurrency);
        return -1;
    }
    if (config->connect_timeout_ms > config->delivery_timeout_ms) {
        snprintf(err, errlen, "%s: [delivery] connect_timeout exceeds timeout", name);
        return -1;
    }
    if (config_check_policy("retry", &config->retry, detail, sizeof detail) != 0) {
        snprintf(err, errlen, "%s: %s", name, detail);
        return -1;
    }
    for (size_t i = 0; i < config->business_count; i++) {
        char section[128];
        snprintf(section, sizeof section, "business.%s", config->business[i].name);
        if (config_check_policy(section, &config->business[i].policy, detail, sizeof detail)) {
            snprintf(err, errlen, "%s: %s", name, detail);
            return -1;
        }
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
        config_both_given(config_keys, CONFIG_KEY_COUNT, parse.seen, "delivery", "secret")) {
        snprintf(err, errlen, "%s: [delivery] set secret or secret_file, not both", name);
        status = -1;
    }
    for (size_t i = 0; status == 0 && i < config->business_count; i++) {
        if (config_both_given(policy_keys, POLICY_KEY_COUNT, parse.business_seen[i], "business",
                              "secret")) {
            snprintf(err, errlen, "%s: [business.%s] set secret or secret_file, not both", name,
                     config->business[i].name);
            status = -1;
        }
    }
    if (status == 0) {
        config_inherit_retry(&parse);
        config_resolve_secrets(config, &config->retry);
        for (size_t i = 0; i < config->business_count; i++)
            config_resolve_secrets(config, &config->business[i].policy);
        status = config_check(config, name, err, errlen);
    }
    free(parse.business_seen);
    return status;
}

int config_load(Config *config, const char *path, char *err, size_t errlen)
{
    FILE *stream = fopen(path, "r");
    if (stream == NULL) {
        config_set_defaults(config);
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
        config_set_defaults(config);
        snprintf(err, errlen, "%s: cannot read: %s", name, strerror(errno));
        return -1;
    }
    int result = config_parse_stream(config, stream, name, err, errlen);
    fclose(stream);
    return result;
}
