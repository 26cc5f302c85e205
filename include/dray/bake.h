/* bake.h — docker buildx bake's JSON files (docker-bake.json, and what
 * "docker buildx bake --print" writes) as the services of a compose
 * project, so that the plan treats both alike.
 *
 * Read: "target" (each a service: its keys map onto the compose build keys,
 * buildspec.h, with the same honour-or-refuse rule), "inherits" (nested,
 * the target's own keys over its parents'), "group" (the targets named, else
 * the "default" group, else every target), "variable" (${NAME} in strings:
 * the environment, else the variable's default). A target key with no
 * compose counterpart that changes the image (annotations, call, matrix,
 * an output that is not the engine's image store) is refused, naming it.
 * An HCL file is refused with the command that converts it.
 */
#ifndef DRAY_BAKE_H
#define DRAY_BAKE_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "dray/compose.h"
#include "dray/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dray_bake_kind_t {
  DRAY_BAKE_NONE = 0,        /* not a bake file: a compose file */
  DRAY_BAKE_JSON,
  DRAY_BAKE_HCL
} dray_bake_kind_t;

/* What TEXT[0..LEN) of PATH is, by its content (and an .hcl name): a JSON
 * object with "target" and no "services" is bake JSON. */
dray_bake_kind_t dray_bake_sniff(const char *path, const char *text, apr_size_t len);

/* The bake target key KEY is read from ("cache-to", "attest" for
 * provenance and sbom, "secret"), for messages. */
const char *dray_bake_key_word(dray_build_key_t key);

/* The bake JSON file at PATH as a compose project whose services are the
 * targets of NAMES (target or group names; empty: the default group, else
 * every target), resolved. Relative paths are relative to PATH's folder. */
dray_error_t *dray_bake_load(dray_compose_t **compose, const char *path,
                             const apr_array_header_t *names,
                             apr_pool_t *result_pool, apr_pool_t *scratch_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_BAKE_H */
