/*
 * assets: files heraldd serves from its own binary, embedded at build time by
 * tools/embed_assets.sh (the way migrations are): the OpenAPI description at
 * /v1/openapi.yaml and the web console's files under /ui/ (api_console.h). Nothing is read from disk at run time, so what is served
 * is exactly what the binary was built and tested with.
 */
#ifndef HERALD_ASSETS_H
#define HERALD_ASSETS_H

#include <stddef.h>

typedef struct Asset {
    const char *path;         /* the URL path it is served at */
    const char *content_type; /* its Content-Type */
    const char *data;         /* static; SIZE bytes (and a NUL after them) */
    size_t size;
} Asset;

extern const Asset assets[];
extern const size_t asset_count;

/* The asset served at PATH, or NULL. */
const Asset *assets_find(const char *path);

#endif
