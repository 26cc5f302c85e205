/* push_engine.h — the Engine API push driver (POST /images/{name}/push).
 *
 * Streams the engine's progress through the progress parser, reports it to
 * the request's callback at most every DRAY_PUSH_ENGINE_REPORT_MS, aborts a
 * push that makes no progress for the request's stall_timeout (outcome
 * stalled), and cancels by closing the connection, which cancels the push
 * inside the engine (outcome cancelled).
 */
#ifndef DRAY_PUSH_ENGINE_H
#define DRAY_PUSH_ENGINE_H

#include <apr_pools.h>

#include "dray/auth.h"
#include "dray/engine.h"
#include "dray/error.h"
#include "dray/push.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DRAY_PUSH_ENGINE_REPORT_MS 200

/* A driver that pushes through ENGINE with X-Registry-Auth built from AUTH
 * (NULL: anonymous). ENGINE and AUTH must outlive the driver; the driver may
 * be used from several threads at once. */
dray_error_t *dray_push_engine_driver_create(dray_push_driver_t **driver,
                                             const dray_engine_t *engine,
                                             dray_auth_config_t *auth,
                                             apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_PUSH_ENGINE_H */
