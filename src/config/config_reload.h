/*
 * config_reload: what a reload (SIGHUP) changes, derived from the key tables.
 *
 * Each key's row says whether a reload applies it (CONFIG_RELOAD) or it needs
 * a restart (CONFIG_RESTART); this module compares two configurations field
 * by field through the same rows, so main's reload report can never forget a
 * key (a new key is reported as soon as it has a row).
 */
#ifndef HERALD_CONFIG_RELOAD_H
#define HERALD_CONFIG_RELOAD_H

#include <stddef.h>

#include "config.h"
#include "config_value.h"

/* Writes into OUT (SIZE bytes) the keys whose row says APPLY and whose value
 * differs between OLD and FRESH, as "section.name,section.name" ("" if none).
 * The [retry] keys are "retry.NAME"; any change to [business.*] sections is
 * "business" (they are all reloadable). A key too long for OUT ends the list
 * with "...". */
void config_reload_changes(const Config *old, const Config *fresh, ConfigApply apply, char *out,
                           size_t size);

#endif
