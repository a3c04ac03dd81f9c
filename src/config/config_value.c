/*
 * config_value: see config_value.h.
 */
#include "config_value.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "address.h"
#include "clock.h"
#include "log.h"
#include "netguard.h"
#include "origin_guard.h"
#include "policy.h"
#include "sign.h"
#include "units.h"

static int config_store_string(const ConfigKey *key, const char *value, void *field, char *err,
                               size_t errlen)
{
    if (strlen(value) >= key->size) {
        snprintf(err, errlen, "value longer than %zu characters", key->size - 1);
        return -1;
    }
    strcpy(field, value);
    return 0;
}

static int config_check_range(const ConfigKey *key, int64_t value, const char *unit, char *err,
                              size_t errlen)
{
    if (value >= key->min && value <= key->max)
        return 0;
    snprintf(err, errlen, "must be between %lld%s and %lld%s", (long long)key->min, unit,
             (long long)key->max, unit);
    return -1;
}

/* "15s,15s,30s,3m": each entry a duration. */
static int config_store_schedule(const ConfigKey *key, const char *value, PolicySchedule *out,
                                 char *err, size_t errlen)
{
    PolicySchedule schedule = {.count = 0};
    char copy[CONFIG_VALUE_MAX + 1];
    snprintf(copy, sizeof copy, "%s", value);
    char *saveptr = NULL;
    for (char *item = strtok_r(copy, ",", &saveptr); item != NULL;
         item = strtok_r(NULL, ",", &saveptr)) {
        item += strspn(item, " \t");
        size_t length = strlen(item);
        while (length > 0 && (item[length - 1] == ' ' || item[length - 1] == '\t'))
            item[--length] = '\0';
        if (schedule.count == POLICY_SCHEDULE_MAX) {
            snprintf(err, errlen, "at most %d delays", POLICY_SCHEDULE_MAX);
            return -1;
        }
        int64_t ms;
        if (units_parse_duration_ms(item, &ms, err, errlen) != 0 ||
            config_check_range(key, ms, "ms", err, errlen) != 0)
            return -1;
        schedule.delays_ms[schedule.count++] = ms;
    }
    *out = schedule;
    return 0;
}

/* Reads the secret in PATH into FIELD (the secret's own field): nobody but
 * its owner and group may read it (the installed unit reads /etc/herald
 * through the herald group), nobody but its owner write it, and it holds one
 * valid secret. */
static int config_read_secret_file(const ConfigKey *key, const char *path, void *field,
                                   char *err, size_t errlen)
{
    struct stat status;
    if (stat(path, &status) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if ((status.st_mode & 027) != 0) {
        snprintf(err, errlen, "%s may be read or written by others (mode %03o); chmod 640 it",
                 path, (unsigned)(status.st_mode & 0777));
        return -1;
    }
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char secret[SIGN_SECRET_MAX + 2] = "";
    bool read = fgets(secret, sizeof secret, file) != NULL;
    fclose(file);
    secret[strcspn(secret, "\r\n")] = '\0';
    SignKey parsed;
    char detail[256];
    if (!read || sign_parse_secret(secret, &parsed, detail, sizeof detail) != 0) {
        snprintf(err, errlen, "%s: %s", path, read ? detail : "empty");
        return -1;
    }
    return config_store_string(key, secret, field, err, errlen);
}

int config_value_store(const ConfigKey *key, const char *value, void *base, char *err,
                              size_t errlen)
{
    void *field = (char *)base + key->offset;
    switch (key->type) {
    case CONFIG_TYPE_STRING:
        return config_store_string(key, value, field, err, errlen);
    case CONFIG_TYPE_SECRET: {
        SignKey decoded;
        if (value[0] != '\0' && sign_parse_secret(value, &decoded, err, errlen) != 0)
            return -1;
        return config_store_string(key, value, field, err, errlen);
    }
    case CONFIG_TYPE_SECRET_FILE:
        return value[0] == '\0' ? 0 : config_read_secret_file(key, value, field, err, errlen);
    case CONFIG_TYPE_TIME:
        if (value[0] == '\0') {
            *(int64_t *)field = 0;
            return 0;
        }
        if (clock_parse_rfc3339(value, (int64_t *)field) != 0) {
            snprintf(err, errlen, "invalid time \"%s\": use RFC 3339, e.g. 2026-12-01T00:00:00Z",
                     value);
            return -1;
        }
        return 0;
    case CONFIG_TYPE_CIDRS: {
        NetGuard guard = {.allow_private = false};
        if (netguard_parse_allow(&guard, value, err, errlen) != 0)
            return -1;
        return config_store_string(key, value, field, err, errlen);
    }
    case CONFIG_TYPE_HOSTS:
        if (origin_guard_check_list(value, err, errlen) != 0)
            return -1;
        return config_store_string(key, value, field, err, errlen);
    case CONFIG_TYPE_LISTEN: {
        struct sockaddr_storage address;
        socklen_t length;
        if (address_parse_listen(value, &address, &length, err, errlen) != 0)
            return -1;
        return config_store_string(key, value, field, err, errlen);
    }
    case CONFIG_TYPE_SIZE: {
        uint64_t bytes;
        if (units_parse_size(value, &bytes, err, errlen) != 0)
            return -1;
        /* Compare as unsigned first: a size may not fit in int64. */
        if (config_check_range(key, bytes > (uint64_t)key->max ? key->max + 1 : (int64_t)bytes,
                               " bytes", err, errlen) != 0)
            return -1;
        *(uint64_t *)field = bytes;
        return 0;
    }
    case CONFIG_TYPE_DURATION: {
        int64_t ms;
        if (units_parse_duration_ms(value, &ms, err, errlen) != 0 ||
            config_check_range(key, ms, "ms", err, errlen) != 0)
            return -1;
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
        if (config_check_range(key, number, "", err, errlen) != 0)
            return -1;
        *(int64_t *)field = number;
        return 0;
    }
    case CONFIG_TYPE_BOOLEAN: {
        static const char *const truths[] = {"true", "yes", "on", "1"};
        static const char *const falsehoods[] = {"false", "no", "off", "0"};
        for (size_t i = 0; i < 4; i++) {
            if (strcasecmp(value, truths[i]) == 0 || strcasecmp(value, falsehoods[i]) == 0) {
                *(bool *)field = strcasecmp(value, truths[i]) == 0;
                return 0;
            }
        }
        snprintf(err, errlen, "invalid boolean \"%s\": use true or false", value);
        return -1;
    }
    case CONFIG_TYPE_REAL: {
        char *end;
        errno = 0;
        double number = strtod(value, &end);
        if (*value == '\0' || *end != '\0' || errno != 0 || !(number >= (double)key->min) ||
            !(number <= (double)key->max)) {
            snprintf(err, errlen, "must be a number from %lld to %lld", (long long)key->min,
                     (long long)key->max);
            return -1;
        }
        *(double *)field = number;
        return 0;
    }
    case CONFIG_TYPE_SCHEDULE:
        return config_store_schedule(key, value, field, err, errlen);
    case CONFIG_TYPE_ON_FAILURE:
        if (strcasecmp(value, "block") != 0 && strcasecmp(value, "skip") != 0) {
            snprintf(err, errlen, "invalid value \"%s\": use block or skip", value);
            return -1;
        }
        *(bool *)field = strcasecmp(value, "block") == 0;
        return 0;
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

void config_value_apply_defaults(const ConfigKey *keys, size_t count, void *base)
{
    for (size_t i = 0; i < count; i++) {
        char err[512];
        if (config_value_store(&keys[i], keys[i].default_value, base, err, sizeof err) != 0)
            abort();
    }
}
