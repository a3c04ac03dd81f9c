/*
 * api_route: the API's route table and how a request finds its route: a
 * literal path ("/v1/tasks/batch") before a pattern ("/v1/tasks/{id}"), HEAD
 * as GET, and the Allow list when only the method is wrong. Read-only tables:
 * any thread.
 */
#ifndef HERALD_API_ROUTE_H
#define HERALD_API_ROUTE_H

#include <stdio.h>

#include "api_call.h"
#include "api_internal.h"

/* Finds the route for METHOD and PATH (HEAD is answered as GET, without the
 * body). A path some route names literally ("/v1/tasks/batch") belongs to
 * the literal routes only, never to a pattern that would also match it
 * ("/v1/tasks/{id}"). When only the method is wrong, fills ALLOW with the
 * methods the path takes ("GET, HEAD, POST"); ALLOW is "" otherwise. */
const ApiRoute *api_route_find(const char *method, const char *path,
                               char parameter[API_PATH_PARAMETER_MAX], char allow[API_ALLOW_MAX]);

/* Prints every route, "METHOD PATTERN" a line (" public" after those that need
 * no token; every GET also answers HEAD): heraldd --list-routes, which the
 * OpenAPI contract test compares with docs/openapi.yaml. */
void api_route_print(FILE *out);

#endif
