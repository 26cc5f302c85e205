/* dockercfg.h — where the docker CLI keeps its configuration.
 *
 * One answer for everything that reads it: credentials (auth.c: config.json)
 * and engine endpoints (engine.c: contexts, TLS files, currentContext).
 */
#ifndef DRAY_DOCKERCFG_H
#define DRAY_DOCKERCFG_H

#include <apr_pools.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The docker configuration folder: $DOCKER_CONFIG when set and not empty,
 * else HOME/.docker (Windows: %USERPROFILE%\.docker, from the platform
 * layer's home folder); NULL when neither is known. In RESULT_POOL. */
const char *dray_dockercfg_dir(apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_DOCKERCFG_H */
