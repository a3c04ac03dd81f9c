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

/* The keys of a Policy: section "retry" rows also belong in [business.NAME]
 * (inherited from [retry] when not set there), "business" rows only there. */
extern const ConfigKey config_policy_keys[];
extern const size_t config_policy_key_count;

#endif
