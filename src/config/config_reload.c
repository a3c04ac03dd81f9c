/*
 * config_reload: see config_reload.h.
 */
#include "config_reload.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config_keys.h"
#include "config_receiver.h"

/* Appends "SECTION.NAME" (or "SECTION") to OUT; a list too long for OUT is
 * cut short. */
static void config_reload_append(char *out, size_t size, const char *section, const char *name)
{
    size_t used = strlen(out);
    snprintf(out + used, size - used, "%s%s%s%s", used ? "," : "", section, name ? "." : "",
             name ? name : "");
}

/* The keys of TABLE (COUNT rows) of SECTION (NULL: any) marked APPLY whose
 * fields differ between OLD and FRESH (the structs the rows' offsets are
 * into). Rows sharing one field (secret and secret_file) are reported once,
 * by the first. */
static void config_reload_compare(const ConfigKey *table, size_t count, const void *old,
                                  const void *fresh, ConfigApply apply, const char *section,
                                  char *out, size_t size)
{
    for (size_t i = 0; i < count; i++) {
        const ConfigKey *key = &table[i];
        bool repeated = false;
        for (size_t j = 0; j < i; j++)
            repeated |= table[j].offset == key->offset;
        if (key->apply != apply || repeated ||
            (section != NULL && strcmp(key->section, section) != 0) ||
            memcmp((const char *)old + key->offset, (const char *)fresh + key->offset,
                   key->size) == 0)
            continue;
        config_reload_append(out, size, key->section, key->name);
    }
}

void config_reload_changes(const Config *old, const Config *fresh, ConfigApply apply, char *out,
                           size_t size)
{
    out[0] = '\0';
    config_reload_compare(config_keys, config_key_count, old, fresh, apply, NULL, out, size);
    /* The [retry] policy: its "retry" and "telemetry" rows (its secrets are
     * [delivery]'s, above). */
    config_reload_compare(config_policy_keys, config_policy_key_count, &old->retry, &fresh->retry,
                          apply, "retry", out, size);
    config_reload_compare(config_policy_keys, config_policy_key_count, &old->retry, &fresh->retry,
                          apply, "telemetry", out, size);
    if (apply != CONFIG_RELOAD)
        return;
    bool business_changed = old->business_count != fresh->business_count;
    for (size_t i = 0; !business_changed && i < old->business_count; i++)
        business_changed = memcmp(&old->business[i], &fresh->business[i],
                                  sizeof old->business[i]) != 0;
    if (business_changed)
        config_reload_append(out, size, "business", NULL);
    bool receivers_changed = old->receiver_count != fresh->receiver_count;
    for (size_t i = 0; !receivers_changed && i < old->receiver_count; i++) {
        const ConfigReceiver *before = &old->receivers[i], *after = &fresh->receivers[i];
        receivers_changed = strcmp(before->pattern, after->pattern) != 0 ||
                            memcmp(&before->rate, &after->rate, sizeof before->rate) != 0;
    }
    if (receivers_changed)
        config_reload_append(out, size, "receiver", NULL);
}
