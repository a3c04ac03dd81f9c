/*
 * api_route: the API's route table (the tables of api_tasks.c, api_manual.c,
 * api_repair.c, api_redeliver.c, api_redeliveries.c, api_receivers.c, api_ordering.c,
 * api_system.c, api_overview.c, api_policy.c and api_console.c) and how a request finds
 * its route. See api_route.h.
 */
#include "api_route.h"

#include <stdbool.h>
#include <string.h>

#include "api_console.h"
#include "api_manual.h"
#include "api_ordering.h"
#include "api_overview.h"
#include "api_policy.h"
#include "api_receivers.h"
#include "api_redeliver.h"
#include "api_redeliveries.h"
#include "api_repair.h"
#include "api_system.h"
#include "api_tasks.h"

static const ApiRoute *const api_route_tables[] = {api_task_routes, api_manual_routes,
                                                   api_repair_routes, api_redeliver_routes,
                                                   api_redeliveries_routes, api_receivers_routes,
                                                   api_ordering_routes, api_system_routes, api_overview_routes,
                                                   api_policy_routes, api_console_routes};
static const size_t *const api_route_counts[] = {&api_task_route_count, &api_manual_route_count,
                                                 &api_repair_route_count,
                                                 &api_redeliver_route_count,
                                                 &api_redeliveries_route_count,
                                                 &api_receivers_route_count,
                                                 &api_ordering_route_count,
                                                 &api_system_route_count,
                                                 &api_overview_route_count,
                                                 &api_policy_route_count,
                                                 &api_console_route_count};

void api_route_print(FILE *out)
{
    for (size_t t = 0; t < sizeof api_route_tables / sizeof api_route_tables[0]; t++) {
        for (size_t i = 0; i < *api_route_counts[t]; i++)
            fprintf(out, "%s %s%s\n", api_route_tables[t][i].method,
                    api_route_tables[t][i].pattern, api_route_tables[t][i].public ? " public" : "");
    }
}

/* Matches PATH against PATTERN; a "{name}" captures into PARAMETER: one
 * segment at the end of the pattern, or, before a fixed end ("/pause"),
 * everything up to it, slashes too (a receiver, "https://host:443", comes
 * percent-encoded and libmicrohttpd decodes it). */
static bool api_route_matches(const char *pattern, const char *path,
                              char parameter[API_PATH_PARAMETER_MAX])
{
    const char *placeholder = strchr(pattern, '{');
    if (placeholder == NULL)
        return strcmp(pattern, path) == 0;
    size_t prefix = (size_t)(placeholder - pattern);
    const char *suffix = strchr(placeholder, '}') + 1; /* the tables' patterns close it */
    if (strncmp(pattern, path, prefix) != 0)
        return false;
    const char *segment = path + prefix;
    size_t suffix_length = strlen(suffix), rest = strlen(segment);
    size_t segment_length = suffix_length == 0 ? strcspn(segment, "/")
                            : rest > suffix_length ? rest - suffix_length
                                                   : 0;
    if (segment_length == 0 || segment_length >= API_PATH_PARAMETER_MAX ||
        strcmp(segment + segment_length, suffix) != 0)
        return false;
    memcpy(parameter, segment, segment_length);
    parameter[segment_length] = '\0';
    return true;
}

const ApiRoute *api_route_find(const char *method, const char *path,
                               char parameter[API_PATH_PARAMETER_MAX], char allow[API_ALLOW_MAX])
{
    const char *wanted = strcmp(method, "HEAD") == 0 ? "GET" : method;
    allow[0] = '\0';
    for (int literal = 1; literal >= 0; literal--) {
        bool get = false, post = false;
        for (size_t t = 0; t < sizeof api_route_tables / sizeof api_route_tables[0]; t++) {
            for (size_t i = 0; i < *api_route_counts[t]; i++) {
                const ApiRoute *route = &api_route_tables[t][i];
                if ((strchr(route->pattern, '{') == NULL) != literal ||
                    !api_route_matches(route->pattern, path, parameter))
                    continue;
                if (strcmp(route->method, wanted) == 0)
                    return route;
                get |= strcmp(route->method, "GET") == 0;
                post |= strcmp(route->method, "POST") == 0;
            }
        }
        if (get || post) {
            snprintf(allow, API_ALLOW_MAX, "%s%s%s", get ? "GET, HEAD" : "",
                     get && post ? ", " : "", post ? "POST" : "");
            return NULL;
        }
    }
    return NULL;
}
