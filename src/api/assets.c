/*
 * assets: see assets.h. The table itself is generated (build/gen/asset_table.c).
 */
#include "assets.h"

#include <string.h>

const Asset *assets_find(const char *path)
{
    for (size_t i = 0; i < asset_count; i++) {
        if (strcmp(assets[i].path, path) == 0)
            return &assets[i];
    }
    return NULL;
}
