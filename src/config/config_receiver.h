/*
 * config_receiver: the [receiver.PATTERN] sections of herald.conf, the
 * settings of the receivers whose key ("scheme://host:port", lower case,
 * the port always given) matches PATTERN, a shell glob (fnmatch: *, ?,
 * [...]). Today one setting: rate_limit (COUNT/s or COUNT/min) with
 * rate_burst (rate_limit.h). A receiver takes the first section, in the
 * file's order, that matches it. config.c hands these sections' pairs here.
 */
#ifndef HERALD_CONFIG_RECEIVER_H
#define HERALD_CONFIG_RECEIVER_H

#include <stddef.h>

#include "rate_limit.h"

#define CONFIG_RECEIVER_PREFIX "receiver."
#define CONFIG_RECEIVER_PATTERN_MAX 192
#define CONFIG_RECEIVER_MAX 256

typedef struct ConfigReceiver {
    char pattern[CONFIG_RECEIVER_PATTERN_MAX];
    RateLimit rate;  /* interval_us 0: no limit */
    int rate_line;   /* the lines the keys were given on, 0: not given */
    int burst_line;
    long long burst; /* rate_burst as given */
} ConfigReceiver;

struct Config;

/* NAME = VALUE in [receiver.PATTERN] (SECTION, whole), given on LINE.
 * Returns 0, or -1 with ERR. */
int config_receiver_pair(struct Config *config, const char *section, const char *name,
                         const char *value, int line, char *err, size_t errlen);

/* After the whole file: rate_burst applied, and it only beside rate_limit.
 * Returns 0, or -1 with ERR and *LINE the line at fault. */
int config_receiver_settle(struct Config *config, int *line, char *err, size_t errlen);

/* The rate limit RECEIVER ("scheme://host:port") is under, or NULL. */
const RateLimit *config_receiver_rate(const struct Config *config, const char *receiver);

#endif
