/* compose_merge.h — the Compose Specification's merge rules for a service:
 * several -f files, and extends.
 */
#ifndef DRAY_COMPOSE_MERGE_H
#define DRAY_COMPOSE_MERGE_H

#include <apr_pools.h>

#include "dray/compose.h"

#ifdef __cplusplus
extern "C" {
#endif

/* BASE with OVER's service over it, in RESULT_POOL (neither is changed):
 * what OVER sets replaces a single value (image, context with the folder it
 * is relative to, dockerfile, dockerfile_inline, target, profiles, and the
 * build keys of one value); build.args and the build keys that are mappings
 * merge by name, OVER's winning; lists are appended without repeats
 * (dray_buildspec_merge). The result keeps BASE's name and place; it has
 * build: when either has. dockerfile and dockerfile_inline replace each
 * other. */
dray_compose_service_t *dray_compose_service_merge(const dray_compose_service_t *base,
                                                   const dray_compose_service_t *over,
                                                   apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_COMPOSE_MERGE_H */
