/*
 * config_receiver: see config_receiver.h.
 */
#include "config_receiver.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* The entry for PATTERN, created if new; NULL with ERR. */
static ConfigReceiver *config_receiver_entry(Config *config, const char *pattern, char *err,
                                             size_t errlen)
{
    for (size_t i = 0; i < config->receiver_count; i++)
        if (strcmp(config->receivers[i].pattern, pattern) == 0)
            return &config->receivers[i];
    if (config->receiver_count == CONFIG_RECEIVER_MAX) {
        snprintf(err, errlen, "more than %d [receiver.*] sections", CONFIG_RECEIVER_MAX);
        return NULL;
    }
    ConfigReceiver *grown =
        realloc(config->receivers, (config->receiver_count + 1) * sizeof *grown);
    if (grown == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    config->receivers = grown;
    ConfigReceiver *entry = &grown[config->receiver_count++];
    memset(entry, 0, sizeof *entry);
    snprintf(entry->pattern, sizeof entry->pattern, "%s", pattern);
    return entry;
}

int config_receiver_pair(Config *config, const char *section, const char *name,
                         const char *value, int line_number, char *err, size_t errlen)
{
    const char *pattern = section + strlen(CONFIG_RECEIVER_PREFIX);
    size_t length = strlen(pattern);
    if (length == 0 || length >= CONFIG_RECEIVER_PATTERN_MAX || strchr(pattern, ' ') != NULL) {
        snprintf(err, errlen,
                 "[%s]: the pattern (a receiver's scheme://host:port, * and ? allowed) must "
                 "have 1 to %d characters and no space",
                 section, CONFIG_RECEIVER_PATTERN_MAX - 1);
        return -1;
    }
    ConfigReceiver *entry = config_receiver_entry(config, pattern, err, errlen);
    if (entry == NULL)
        return -1;
    int *line;
    if (strcmp(name, "rate_limit") == 0)
        line = &entry->rate_line;
    else if (strcmp(name, "rate_burst") == 0)
        line = &entry->burst_line;
    else {
        snprintf(err, errlen, "[%s] unknown key \"%s\"", section, name);
        return -1;
    }
    if (*line != 0) {
        snprintf(err, errlen, "[%s] %s: key given twice", section, name);
        return -1;
    }
    *line = line_number;
    char reason[160];
    if (line == &entry->rate_line) {
        if (rate_limit_parse(value, &entry->rate, reason, sizeof reason) != 0) {
            snprintf(err, errlen, "[%s] rate_limit: %s", section, reason);
            return -1;
        }
        return 0;
    }
    char *end = NULL;
    errno = 0;
    entry->burst = strtoll(value, &end, 10);
    if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0 || entry->burst < 1 ||
        entry->burst > RATE_LIMIT_BURST_MAX) {
        snprintf(err, errlen, "[%s] rate_burst: \"%s\": a whole number from 1 to %d", section,
                 value, RATE_LIMIT_BURST_MAX);
        return -1;
    }
    return 0;
}

int config_receiver_settle(Config *config, int *line, char *err, size_t errlen)
{
    for (size_t i = 0; i < config->receiver_count; i++) {
        ConfigReceiver *entry = &config->receivers[i];
        if (entry->burst_line == 0)
            continue;
        if (entry->rate.interval_us == 0) {
            *line = entry->burst_line;
            snprintf(err, errlen, "[receiver.%s] rate_burst needs a rate_limit", entry->pattern);
            return -1;
        }
        entry->rate.burst = entry->burst;
    }
    return 0;
}

const RateLimit *config_receiver_rate(const Config *config, const char *receiver)
{
    for (size_t i = 0; i < config->receiver_count; i++) {
        const ConfigReceiver *entry = &config->receivers[i];
        if (fnmatch(entry->pattern, receiver, FNM_CASEFOLD) == 0)
            return entry->rate.interval_us > 0 ? &entry->rate : NULL;
    }
    return NULL;
}
