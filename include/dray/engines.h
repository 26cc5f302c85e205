/* engines.h — the engines one run builds on, as the user names them.
 *
 * An engine is named by a host URL (--engine-host, repeatable) or a docker
 * context (--context, repeatable), each optionally followed by its own
 * limits: "tcp://build1:2376#builders=4,pushers=2", "fast#builders=8". It is
 * reached exactly as one engine is (engine.h): the URL or the context's
 * endpoint and TLS material; docker CLI children get DOCKER_HOST or
 * DOCKER_CONTEXT.
 *
 * Whether an engine answers is asked the same way before the run and after
 * a failed attempt on it (dray_engine_target_probe): GET /version over HTTP
 * where dray speaks to it, else `ENGINE_CMD version` through the CLI (ssh://,
 * npipe://), each within a deadline.
 */
#ifndef DRAY_ENGINES_H
#define DRAY_ENGINES_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "dray/cancel.h"
#include "dray/engine.h"
#include "dray/error.h"
#include "dray/scheduler.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How long a probe may take before the engine counts as not answering. */
#define DRAY_ENGINE_PROBE_SECONDS 10

typedef struct dray_engine_target_t {
  dray_engine_spec_t spec;               /* name as given (limits stripped), limits */
  const char *host;                      /* the URL, or NULL */
  const char *context;                   /* the context, or NULL */
  const char *const *env;                /* "K=V" for CLI children, NULL-ended */
  const dray_engine_endpoint_t *endpoint;/* resolved (dray_engine_targets_resolve) */
} dray_engine_target_t;

/* Whether WORD names an engine by URL (it has "://" before any '#'); else
 * it names a docker context. The one rule, for flags, variables and x-dray. */
int dray_engine_word_is_host(const char *word);

/* Parse WORD ("URL[#builders=N,pushers=M]" or "CONTEXT[#...]") into
 * *TARGET. DRAY_ERR_USAGE naming OPTION (where the word was given) and the
 * word for a bad limit. */
dray_error_t *dray_engine_target_parse(dray_engine_target_t **target, const char *word,
                                       const char *option, apr_pool_t *result_pool);

/* Resolve each target's endpoint (engine.h's rules with the host or context
 * given). Two targets that reach the same endpoint are an error naming both. */
dray_error_t *dray_engine_targets_resolve(apr_array_header_t *targets,
                                          apr_pool_t *result_pool,
                                          apr_pool_t *scratch_pool);

/* Whether TARGET answers: DRAY_NO_ERROR, or an error saying how it did not
 * (DRAY_ERR_HTTP). ENGINE_CMD runs `ENGINE_CMD version` where the engine is
 * not reachable over HTTP from here. CANCEL (or NULL) ends the probe early. */
dray_error_t *dray_engine_target_probe(const dray_engine_target_t *target,
                                       const char *engine_cmd, dray_cancel_t *cancel,
                                       apr_pool_t *scratch_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_ENGINES_H */
