/*
 * fault: see fault.h. Compiled to nothing unless HERALD_FAULT_SEAM is
 * defined (the test build). One mutex guards the spec and the counts: the
 * test build is slow anyway, and an exact count is the point.
 */
#include "fault.h"

#include <stdlib.h>

#include "log.h"

#ifdef HERALD_FAULT_SEAM

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAULT_ROLE_MAX 16

static const char *const fault_roles[] = {"main", "writer", "scheduler", "alert", "beacon", "other"};
#define FAULT_ROLE_COUNT (sizeof fault_roles / sizeof fault_roles[0])

static _Thread_local const char *fault_role = "other";

static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long fault_counted[FAULT_ROLE_COUNT]; /* operations since arming */
static struct {
    char role[FAULT_ROLE_MAX]; /* "" = nothing armed */
    unsigned long at;          /* the first operation to fail, 1-based */
    unsigned long count;       /* how many from there; 0 = all */
    FaultKind kind;
} fault_spec;

static size_t fault_role_index(const char *role)
{
    for (size_t i = 0; i < FAULT_ROLE_COUNT; i++) {
        if (strcmp(fault_roles[i], role) == 0)
            return i;
    }
    return FAULT_ROLE_COUNT - 1;
}

void fault_set_role(const char *role)
{
    fault_role = role;
}

FaultKind fault_next(void)
{
    size_t index = fault_role_index(fault_role);
    FaultKind kind = FAULT_NONE;
    pthread_mutex_lock(&fault_lock);
    unsigned long number = ++fault_counted[index];
    if (fault_spec.role[0] != '\0' && strcmp(fault_spec.role, fault_roles[index]) == 0 &&
        number >= fault_spec.at &&
        (fault_spec.count == 0 || number < fault_spec.at + fault_spec.count))
        kind = fault_spec.kind;
    pthread_mutex_unlock(&fault_lock);
    return kind;
}

int fault_configure(const char *spec, char *err, size_t errlen)
{
    char role[FAULT_ROLE_MAX] = "";
    unsigned long at = 0, count = 1;
    char kind_name[16] = "full";
    FaultKind kind = FAULT_FULL;
    char copy[128];
    snprintf(copy, sizeof copy, "%s", spec);
    copy[strcspn(copy, "\r\n")] = '\0';
    if (strcmp(copy, "count") != 0 && strcmp(copy, "") != 0) {
        int fields = sscanf(copy, "%15[a-z]:%lu:%lu:%15[a-z]", role, &at, &count, kind_name);
        bool known = false;
        for (size_t i = 0; i < FAULT_ROLE_COUNT; i++)
            known |= strcmp(fault_roles[i], role) == 0;
        if (strcmp(kind_name, "ioerr") == 0)
            kind = FAULT_IOERR;
        else if (strcmp(kind_name, "busy") == 0)
            kind = FAULT_BUSY;
        else if (strcmp(kind_name, "drop") == 0)
            kind = FAULT_DROP;
        else if (strcmp(kind_name, "lost") == 0)
            kind = FAULT_LOST;
        else if (strcmp(kind_name, "full") != 0)
            known = false;
        if (fields < 2 || !known || at == 0) {
            snprintf(err, errlen, "fault spec \"%s\": expected ROLE:AT[:COUNT[:full|ioerr|busy|drop|lost]]",
                     copy);
            return -1;
        }
    }
    pthread_mutex_lock(&fault_lock);
    memset(fault_counted, 0, sizeof fault_counted);
    snprintf(fault_spec.role, sizeof fault_spec.role, "%s", role);
    fault_spec.at = at;
    fault_spec.count = count;
    fault_spec.kind = kind;
    pthread_mutex_unlock(&fault_lock);
    return 0;
}

void fault_counts(char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    pthread_mutex_lock(&fault_lock);
    for (size_t i = 0; i < FAULT_ROLE_COUNT && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%s=%lu", i ? " " : "",
                                 fault_roles[i], fault_counted[i]);
    pthread_mutex_unlock(&fault_lock);
}

static void fault_arm(const char *spec, const char *from)
{
    char err[256], quoted[300], counts[256];
    fault_counts(counts, sizeof counts);
    log_warning("event=fault_counts %s", counts);
    if (fault_configure(spec, err, sizeof err) != 0)
        log_error("event=fault_invalid from=%s error=%s", from,
                  log_quote(quoted, sizeof quoted, err));
    else
        log_warning("event=fault_armed from=%s spec=%s", from,
                    log_quote(quoted, sizeof quoted, spec));
}

void fault_arm_from_environment(void)
{
    const char *spec = getenv("HERALD_FAULT");
    if (spec != NULL)
        fault_arm(spec, "HERALD_FAULT");
}

void fault_rearm(void)
{
    const char *path = getenv("HERALD_FAULT_FILE");
    char spec[128] = "";
    FILE *file = path ? fopen(path, "r") : NULL;
    if (file != NULL) {
        if (fgets(spec, sizeof spec, file) == NULL)
            spec[0] = '\0';
        spec[strcspn(spec, "\r\n")] = '\0';
        fclose(file);
    }
    fault_arm(spec, path ? path : "nothing");
}

#else

void fault_arm_from_environment(void)
{
    if (getenv("HERALD_FAULT") != NULL)
        log_warning("event=fault_seam_absent detail=\"HERALD_FAULT is ignored: only the test "
                    "build (make asan) has the fault seam\"");
}

#endif
