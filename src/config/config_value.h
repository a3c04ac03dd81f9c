/*
 * config_value: one configuration value, from text into its field.
 *
 * config.c describes every key in a table of ConfigKey rows (section, name,
 * type, field offset, bounds, default); this module converts a value of each
 * type (sizes, durations, booleans, schedules, listen addresses, CIDR lists,
 * secrets, secret files, RFC 3339 times) and range-checks it into the field.
 * It knows nothing of sections or files: parsing the file is config.c's job.
 */
#ifndef HERALD_CONFIG_VALUE_H
#define HERALD_CONFIG_VALUE_H

#include <stddef.h>
#include <stdint.h>

/* The longest value a line can carry (inih's buffer, less the key). */
#define CONFIG_VALUE_MAX 199

typedef enum {
    CONFIG_TYPE_STRING,
    CONFIG_TYPE_SIZE,
    CONFIG_TYPE_DURATION,
    CONFIG_TYPE_INTEGER,
    CONFIG_TYPE_BOOLEAN,
    CONFIG_TYPE_REAL,
    CONFIG_TYPE_SCHEDULE,
    CONFIG_TYPE_LOG_LEVEL,
    CONFIG_TYPE_LISTEN,
    CONFIG_TYPE_CIDRS,
    CONFIG_TYPE_HOSTS,       /* host names herald answers to (origin_guard) */
    CONFIG_TYPE_SECRET,      /* "whsec_..." */
    CONFIG_TYPE_SECRET_FILE, /* a file (mode 0600) holding one; fills the secret's field */
    CONFIG_TYPE_TIME,        /* RFC 3339, into Unix ms */
    CONFIG_TYPE_ON_FAILURE,  /* "block" or "skip", into a bool (true = block) */
} ConfigType;

/* What a reload (SIGHUP) does with a changed key. */
typedef enum {
    CONFIG_RESTART, /* nothing: it shapes sockets, threads or files; logged as needing a restart */
    CONFIG_RELOAD,  /* applied: read from the snapshot in force where it is used */
} ConfigApply;

typedef struct ConfigKey {
    const char *section; /* for policy keys: "retry" (also business) or "business" (only) */
    const char *name;
    ConfigType type;
    size_t offset; /* into Config, or into Policy for policy_keys */
    size_t size;
    int64_t min; /* bounds for numbers: bytes, milliseconds, units */
    int64_t max;
    const char *default_value;
    ConfigApply apply;
} ConfigKey;

/* Converts VALUE for KEY and stores it at BASE + KEY->offset. Strings are
 * copied into their fixed-size field; nothing is allocated. Returns 0, or -1
 * with the reason in ERR (without the key's name: the caller adds where). */
int config_value_store(const ConfigKey *key, const char *value, void *base, char *err,
                       size_t errlen);

/* Stores the default of each of the COUNT KEYS into BASE. The defaults are
 * ours and unit-tested, so one that fails to parse aborts: a programming error. */
void config_value_apply_defaults(const ConfigKey *keys, size_t count, void *base);

#endif
