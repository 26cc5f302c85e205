/* push_auto.h — what --push-driver auto pushes with for an engine on this
 * machine: the engine's own push first, dray's registry client for an
 * image whose engine push failed.
 *
 * Measured (bench/RESULTS.md), the engine's push is the cheaper one here:
 * it compresses only the new layers, where reading an image out of the
 * engine re-exports its shared base every time. But a layer upload the
 * engine has under way cannot be ended from outside: after a stall, every
 * retry of the engine's push joins the same hung upload. So a reference
 * whose engine push failed is pushed by the registry driver from then on:
 * its own connections, resumed uploads, nothing it cannot end.
 */
#ifndef DRAY_PUSH_AUTO_H
#define DRAY_PUSH_AUTO_H

#include <apr_pools.h>

#include "dray/error.h"
#include "dray/push.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A driver pushing with FIRST, and with THEN a reference FIRST failed to
 * push (unless cancelled). Both must outlive it; safe to share between
 * threads as they are. */
dray_error_t *dray_push_auto_driver_create(dray_push_driver_t **driver,
                                           const dray_push_driver_t *first,
                                           const dray_push_driver_t *then,
                                           apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_PUSH_AUTO_H */
