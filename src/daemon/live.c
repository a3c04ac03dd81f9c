/*
 * live: see live.h. Snapshots form a list (newest first) that only grows
 * until exit; the list head is published with release/acquire ordering.
 */
#include "live.h"

#include <stdatomic.h>
#include <stdlib.h>

typedef struct LiveNode {
    LiveConfig live;
    struct LiveNode *older;
} LiveNode;

static _Atomic(LiveNode *) live_head;

const LiveConfig *live_publish(Config *config)
{
    LiveNode *node = calloc(1, sizeof *node);
    if (node == NULL) {
        config_free(config);
        return NULL;
    }
    node->live.config = *config;
    node->live.policies = config_policy_set(&node->live.config);
    node->older = atomic_load(&live_head);
    /* Only main publishes, so no other writer races this store. */
    atomic_store_explicit(&live_head, node, memory_order_release);
    return &node->live;
}

const LiveConfig *live_current(void)
{
    LiveNode *node = atomic_load_explicit(&live_head, memory_order_acquire);
    return node ? &node->live : NULL;
}

const PolicySet *live_policies(void)
{
    return &live_current()->policies;
}

void live_free_all(void)
{
    LiveNode *node = atomic_exchange(&live_head, NULL);
    while (node != NULL) {
        LiveNode *older = node->older;
        config_free(&node->live.config);
        free(node);
        node = older;
    }
}
