/*
 * api_policy: the retry policies in force, as a task of each business type
 * gets them (the [retry] section, or a [business.NAME] one):
 *   GET /v1/policies          the default and every configured business type;
 *   GET /v1/policies/{type}   one type's effective policy and its planned
 *                             attempts: when each happens after the first
 *                             (policy_plan_attempts), e.g. "attempt 8 comes
 *                             4h 15m after the first".
 * Secrets are never shown, only whether deliveries are signed. Reads the
 * configuration in force (a reload changes the answer), not the database.
 */
#ifndef HERALD_API_POLICY_H
#define HERALD_API_POLICY_H

#include <stddef.h>

#include "api_call.h"

extern const ApiRoute api_policy_routes[];
extern const size_t api_policy_route_count;

#endif
