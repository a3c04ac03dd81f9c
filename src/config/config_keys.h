/*
 * config_keys: the tables of herald.conf's keys (config_keys.c), shared by
 * the file reader (config.c) and the reload report (config_reload.c).
 */
#ifndef HERALD_CONFIG_KEYS_H
#define HERALD_CONFIG_KEYS_H

#include <stddef.h>

#include "config.h"
#include "config_value.h"

/* Bounds of the tables' lengths, for arrays parallel to them (checked at
 * compile time in config_keys.c). */
#define CONFIG_KEYS_MAX 64
#define CONFIG_POLICY_KEYS_MAX 16

/* The keys of Config, by section. */
extern const ConfigKey config_keys[];
extern const size_t config_key_count;

/* The keys of a Policy: "retry" and "telemetry" rows also belong in
 * [business.NAME] (inherited from their own section, Config.retry, when not
 * set there), "business" rows only there. */
extern const ConfigKey config_policy_keys[];
extern const size_t config_policy_key_count;

/* The row of KEYS (COUNT rows) for SECTION's NAME, or -1. */
int config_key_find(const ConfigKey *keys, size_t count, const char *section, const char *name);

/* The line of the file that gave that key (LINES parallel to KEYS), 0 if none. */
int config_key_line(const ConfigKey *keys, size_t count, const int *lines, const char *section,
                    const char *name);

/* [telemetry] keys not given in the file (LINES, parallel to config_keys) from
 * the standard OTEL_* environment variables, then the rules of the section:
 * the endpoint an http(s) URL, headers "name=value,...", compression gzip or
 * none (config_telemetry.c). Returns 0, or -1 with "FILE:LINE: message" (or
 * naming the variable) in ERR. */
int config_telemetry_settle(Config *config, const int *lines, const char *file, char *err,
                            size_t errlen);

#endif
