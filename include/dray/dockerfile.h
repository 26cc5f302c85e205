/* dockerfile.h — the images a Dockerfile is built from.
 *
 * Only what the build order needs is read: parser directives (escape), ARG
 * before the first FROM and in stages, ENV, every FROM, COPY --from= and
 * RUN --mount=…,from=. Variables in those are substituted the way BuildKit
 * does ($VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:+alt}, …), with
 * build args overriding ARG defaults. Heredocs are skipped.
 */
#ifndef DRAY_DOCKERFILE_H
#define DRAY_DOCKERFILE_H

#include <apr_pools.h>
#include <apr_hash.h>
#include <apr_tables.h>

#include "dray/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One external image the Dockerfile uses. */
typedef struct dray_dockerfile_ref_t {
  const char *ref;          /* as written, variables substituted: "busybox:1.36" */
  int line;                 /* 1-based line where the instruction starts */
  int stage;                /* index of the stage it appears in */
  const char *instruction;  /* "FROM", "COPY --from" or "RUN --mount" */
} dray_dockerfile_ref_t;

typedef struct dray_dockerfile_stage_t {
  const char *name;         /* "AS" name, lower-cased, or NULL */
  int line;                 /* line of its FROM */
  apr_array_header_t *uses; /* int: indices of the stages it needs */
} dray_dockerfile_stage_t;

typedef struct dray_dockerfile_t {
  const char *path;
  apr_array_header_t *stages; /* dray_dockerfile_stage_t *, file order */
  apr_array_header_t *refs;   /* dray_dockerfile_ref_t *, file order; no
                                 stage names, stage indices or "scratch" */
  apr_hash_t *stage_names;    /* lower-case name -> int * index of the first
                                 stage so named */
} dray_dockerfile_t;

/* Read the Dockerfile at PATH. BUILD_ARGS (may be NULL) holds "K=V" strings,
 * or "K" to take K's value from the environment; they override ARG defaults.
 * All problems (no FROM, empty or invalid image after substitution, a bad
 * escape directive, unreadable file) come back together as one DRAY_ERR_INPUT
 * chain, each link starting with "PATH:LINE: ". */
dray_error_t *dray_dockerfile_parse(dray_dockerfile_t **dockerfile,
                                    const char *path,
                                    const apr_array_header_t *build_args,
                                    apr_pool_t *result_pool,
                                    apr_pool_t *scratch_pool);

/* The same for TEXT[0..LEN); PATH only names it in messages. */
dray_error_t *dray_dockerfile_parse_string(dray_dockerfile_t **dockerfile,
                                           const char *text, apr_size_t len,
                                           const char *path,
                                           const apr_array_header_t *build_args,
                                           apr_pool_t *result_pool,
                                           apr_pool_t *scratch_pool);

/* The refs (dray_dockerfile_ref_t *) of the stages that building TARGET needs,
 * as BuildKit builds only those: TARGET's stage and every stage it uses,
 * transitively. TARGET NULL means the last stage. An unknown TARGET is a
 * DRAY_ERR_INPUT error naming the file. */
dray_error_t *dray_dockerfile_target_refs(apr_array_header_t **refs,
                                          const dray_dockerfile_t *dockerfile,
                                          const char *target,
                                          apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_DOCKERFILE_H */
