/* plan_json.h — "dray plan --format json": the plan as a document a CI
 * system can build a matrix from. The field names are stable (README,
 * "Machine-readable plan"); fields are only ever added.
 */
#ifndef DRAY_PLAN_JSON_H
#define DRAY_PLAN_JSON_H

#include <apr_pools.h>
#include <jansson.h>

#include "dray/build.h"
#include "dray/plan.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DRAY_PLAN_JSON_VERSION 1

/* PLAN as JSON (a new reference): its version, the builder in use, the
 * warnings, and each image in build order with its references, context,
 * dockerfile, args, target, platforms, the images it is built after, and
 * the build command of each builder (null where that builder would refuse
 * a key; secrets' values never appear). OPTS gives the engine command and
 * the run-wide platform, network and no-cache the commands carry. */
json_t *dray_plan_json(const dray_plan_t *plan, const dray_build_options_t *opts,
                       apr_pool_t *scratch_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_PLAN_JSON_H */
