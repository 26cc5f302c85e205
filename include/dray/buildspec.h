/* buildspec.h — the compose "build:" keys: one table of what each key is,
 * which builders can do it, and the build options it becomes.
 *
 * Every key of the Compose Specification's build object (and the service's
 * "platform") is in the table. A key is either passed to the build as the
 * matching option or, where the builder in use cannot do it, refused at plan
 * time (dray_buildspec_refusals): dray never builds something other than
 * what the file says without saying so.
 */
#ifndef DRAY_BUILDSPEC_H
#define DRAY_BUILDSPEC_H

#include <apr_pools.h>
#include <apr_tables.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The compose build keys, in the specification's (alphabetical) order,
 * then the service-level "platform". */
typedef enum dray_build_key_t {
  DRAY_BK_ADDITIONAL_CONTEXTS = 0,
  DRAY_BK_ARGS,
  DRAY_BK_CACHE_FROM,
  DRAY_BK_CACHE_TO,
  DRAY_BK_CONTEXT,
  DRAY_BK_DOCKERFILE,
  DRAY_BK_DOCKERFILE_INLINE,
  DRAY_BK_ENTITLEMENTS,
  DRAY_BK_EXTRA_HOSTS,
  DRAY_BK_ISOLATION,
  DRAY_BK_LABELS,
  DRAY_BK_NETWORK,
  DRAY_BK_NO_CACHE,
  DRAY_BK_NO_CACHE_FILTER,
  DRAY_BK_PLATFORMS,
  DRAY_BK_PRIVILEGED,
  DRAY_BK_PROVENANCE,
  DRAY_BK_PULL,
  DRAY_BK_SBOM,
  DRAY_BK_SECRETS,
  DRAY_BK_SHM_SIZE,
  DRAY_BK_SSH,
  DRAY_BK_TAGS,
  DRAY_BK_TARGET,
  DRAY_BK_ULIMITS,
  DRAY_BK_PLATFORM,          /* the service's "platform", not build's */
  DRAY_BK_COUNT
} dray_build_key_t;

/* How the YAML value of a key is read (compose.c). */
typedef enum dray_build_shape_t {
  DRAY_SHAPE_STRING = 0,     /* a scalar */
  DRAY_SHAPE_BOOL,           /* true/false */
  DRAY_SHAPE_BOOL_OR_STRING, /* provenance, sbom: true, false or a word */
  DRAY_SHAPE_SIZE,           /* shm_size: a number of bytes or "2gb" */
  DRAY_SHAPE_LIST,           /* a list of strings (or one string) */
  DRAY_SHAPE_MAPPING,        /* a map or a list of "K=V": "K=V" */
  DRAY_SHAPE_HOSTS,          /* extra_hosts: a map or a list of "host:ip"/"host=ip" */
  DRAY_SHAPE_ULIMITS,        /* a map of name: N or {soft, hard} */
  DRAY_SHAPE_SECRETS,        /* names of top-level secrets, or {source, target} */
  DRAY_SHAPE_SPECIAL         /* args, context, dockerfile, target: compose.c's own */
} dray_build_shape_t;

/* The program that runs the build. */
typedef enum dray_builder_t {
  DRAY_BUILDER_DOCKER = 0,   /* docker build (BuildKit inside the engine) */
  DRAY_BUILDER_BUILDX,       /* docker buildx build --load */
  DRAY_BUILDER_PODMAN,       /* podman build */
  DRAY_BUILDER_COUNT
} dray_builder_t;

/* One secret a build may mount (RUN --mount=type=secret,id=ID). */
typedef struct dray_build_secret_t {
  const char *id;            /* the target, else the secret's name */
  const char *source;        /* the top-level secret it names */
  const char *where;         /* "compose.yaml:12": where the build names it */
  const char *file;          /* absolute path, or NULL */
  const char *env;           /* variable name, or NULL */
  const char *value;         /* env: the value (from the environment or
                                .env), given to the build child only;
                                never printed */
} dray_build_secret_t;

/* What a compose service's build says beyond context, dockerfile, args and
 * target. Lists hold const char * values as the option takes them. */
typedef struct dray_buildspec_t {
  const char *dockerfile_inline;          /* the Dockerfile's text, or NULL */
  apr_array_header_t *additional_contexts; /* "name=location" */
  apr_array_header_t *cache_from;
  apr_array_header_t *cache_to;
  apr_array_header_t *entitlements;
  apr_array_header_t *extra_hosts;        /* "host:ip" */
  apr_array_header_t *labels;             /* "K=V" */
  apr_array_header_t *no_cache_filter;    /* stage names */
  apr_array_header_t *platforms;          /* build.platforms, else platform */
  apr_array_header_t *secrets;            /* dray_build_secret_t * */
  apr_array_header_t *ssh;                /* "default" or "id=path" */
  apr_array_header_t *tags;               /* whole references, as written */
  apr_array_header_t *ulimits;            /* "nofile=1024:2048" */
  const char *isolation;
  const char *network;
  const char *shm_size;
  const char *provenance;                 /* "true", "false", "mode=max"... */
  const char *sbom;
  int no_cache, privileged, pull;         /* booleans */
  /* The line of each key in the file that set it (0: not given;
   * DRAY_BK_NO_LINE: given in a file without lines, JSON) and that file,
   * for messages (dray_buildspec_where). */
  int line[DRAY_BK_COUNT];
  const char *path[DRAY_BK_COUNT];
} dray_buildspec_t;

#define DRAY_BK_NO_LINE (-1)

/* Where SPEC's KEY was given: "compose.yaml:12", or the file alone. */
const char *dray_buildspec_where(const dray_buildspec_t *spec, dray_build_key_t key,
                                 apr_pool_t *result_pool);

/* The key's word ("cache_from"; "platform" for the service's), its shape. */
const char *dray_build_key_word(dray_build_key_t key);
dray_build_shape_t dray_build_key_shape(dray_build_key_t key);

/* The build key called WORD, or -1. DRAY_BK_PLATFORM is not found: it is
 * not a key of build:. */
int dray_build_key_find(const char *word);

/* The builder's command for messages: "docker build", "docker buildx build",
 * "podman build". */
const char *dray_builder_word(dray_builder_t builder);

/* The builder running ENGINE_CMD: podman, else docker buildx when HAS_BUILDX,
 * else docker build. */
dray_builder_t dray_builder_for(const char *engine_cmd, int has_buildx);

/* The platforms of a --platform value: "linux/amd64, linux/arm64" split at
 * commas, blanks trimmed, empty words dropped; NULL or "" gives none. */
apr_array_header_t *dray_buildspec_split_platforms(const char *value, apr_pool_t *result_pool);

/* An empty spec in RESULT_POOL. */
dray_buildspec_t *dray_buildspec_create(apr_pool_t *result_pool);

/* Set KEY in SPEC from compose.c's reading of its shape: a string (STRING,
 * SIZE, BOOL_OR_STRING), a flag (BOOL), a list of strings (the others). */
void dray_buildspec_set_string(dray_buildspec_t *spec, dray_build_key_t key, const char *value);
void dray_buildspec_set_bool(dray_buildspec_t *spec, dray_build_key_t key, int value);
void dray_buildspec_set_list(dray_buildspec_t *spec, dray_build_key_t key,
                             apr_array_header_t *values);

/* OVER's keys over BASE's, by the Compose Specification's merge rules: a
 * key OVER sets replaces a single value; mappings (labels, extra_hosts,
 * ulimits, ssh, additional_contexts) merge by name, OVER's winning; other
 * lists (cache_from, tags, ...) and secrets are appended without repeats. */
dray_buildspec_t *dray_buildspec_merge(const dray_buildspec_t *base, const dray_buildspec_t *over,
                                       apr_pool_t *result_pool);

/* Whether SPEC uses KEY in a way that changes the build (provenance: false
 * changes nothing; one platform is not several). */
int dray_buildspec_uses(const dray_buildspec_t *spec, dray_build_key_t key);

/* Drop KEY from SPEC (the user said to ignore it). */
void dray_buildspec_drop(dray_buildspec_t *spec, dray_build_key_t key);

/* What would make KEY work when BUILDER cannot do it; NULL when it can. */
const char *dray_build_key_needs(dray_build_key_t key, dray_builder_t builder);

/* The keys of SPEC that BUILDER cannot do: for each, *NEEDS (parallel to
 * the result, const char *) says what would make it work. Returns int keys
 * (dray_build_key_t), in table order. */
apr_array_header_t *dray_buildspec_refusals(apr_array_header_t **needs,
                                            const dray_buildspec_t *spec,
                                            dray_builder_t builder,
                                            apr_pool_t *result_pool);

/* Append to ARGV (const char *) the options SPEC asks of BUILDER, in table
 * order, except tags, platforms and the Dockerfile (build.c places those).
 * Secrets from a variable name it; their values go in ENV ("K=V", for the
 * child; may be NULL when SPEC has none). */
void dray_buildspec_append_argv(apr_array_header_t *argv, apr_array_header_t *env,
                                const dray_buildspec_t *spec, dray_builder_t builder,
                                apr_pool_t *result_pool);

/* A string that is equal for two specs exactly when they build the same
 * (tags excluded: they are where it goes, not what it is). */
const char *dray_buildspec_fingerprint(const dray_buildspec_t *spec, apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_BUILDSPEC_H */
