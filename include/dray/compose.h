/* compose.h — the buildable services of a compose file, read with libyaml.
 *
 * Every service with a "build:" section is an image. Understood: build as a
 * string (the context) or a map of every key of the specification's build
 * object (context, dockerfile, args as a map or a list of "K=V" / "K",
 * target, and the others buildspec.h lists: a key outside that table is an
 * error), image, platform, the top-level "secrets" that build secrets name,
 * and a top-level "x-dray:" map of dray settings (and "ignore", a list of
 * build keys). Other keys do not change the image and are ignored. String values are interpolated as compose
 * does ($VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e}, ${VAR:+a}, $$) from the
 * environment, then from a ".env" file beside the compose file.
 */
#ifndef DRAY_COMPOSE_H
#define DRAY_COMPOSE_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "dray/buildspec.h"
#include "dray/error.h"
#include "dray/plan.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dray_compose_service_t {
  const char *name;               /* the service's key */
  int line;                       /* 1-based line of that key */
  const char *origin;             /* "compose.yaml:12", for messages */
  const char *image;              /* "image:" as written, or NULL */
  int image_line;
  const char *context_dir;        /* absolute; relative ones are resolved
                                     against the compose file's folder */
  const char *dockerfile;         /* absolute; relative to the context */
  int dockerfile_given;           /* build.dockerfile was set */
  const char *target;             /* or NULL */
  apr_array_header_t *build_args; /* const char * "K=V", file order */
  dray_buildspec_t *spec;         /* every other build key, and platform */
} dray_compose_service_t;

typedef struct dray_compose_t {
  const char *path;               /* as given */
  const char *dir;                /* absolute folder holding it */
  apr_array_header_t *services;   /* dray_compose_service_t *, with build:
                                     only, in file order */
  dray_settings_t settings;       /* from x-dray; unset where the file says nothing */
  apr_array_header_t *ignore;     /* int (dray_build_key_t): x-dray.ignore, keys
                                     to drop with a warning where the builder
                                     cannot do them */
  const char *ignore_where;       /* "compose.yaml:3" of x-dray.ignore, or NULL */
} dray_compose_t;

/* What no real compose file needs, refused with an error naming the file
 * (bounded work and memory on a hostile file): nesting depth (libyaml's
 * loader is quadratic in it), the work of looking anchors and aliases up,
 * "<<" merges nested deeper than this, and the entries all merges of the
 * file bring in together (each mapping is merged at most once per
 * mapping that merges it). */
#define DRAY_COMPOSE_MAX_DEPTH 256
#define DRAY_COMPOSE_MAX_ANCHOR_WORK 100000000
#define DRAY_COMPOSE_MAX_MERGE_DEPTH 32
#define DRAY_COMPOSE_MAX_MERGED 250000

/* Load the compose file at PATH. All problems come back together as one
 * DRAY_ERR_INPUT chain: YAML syntax errors as "PATH:LINE:COLUMN: …",
 * structural ones as "PATH:LINE: …". Nothing is checked on disk but the
 * file itself and its .env; the caller checks contexts and Dockerfiles. */
dray_error_t *dray_compose_load(dray_compose_t **compose, const char *path,
                                apr_pool_t *result_pool,
                                apr_pool_t *scratch_pool);

/* The same for TEXT[0..LEN), which PATH names: relative paths and the .env
 * file are looked up beside PATH. */
dray_error_t *dray_compose_parse(dray_compose_t **compose, const char *text,
                                 apr_size_t len, const char *path,
                                 apr_pool_t *result_pool,
                                 apr_pool_t *scratch_pool);

/* The user's config file at PATH (dray_settings_config_path): a YAML mapping
 * of the same settings as x-dray. A missing file sets nothing; a problem is
 * a DRAY_ERR_INPUT error naming the file and line. */
dray_error_t *dray_compose_load_config(dray_settings_t *settings, const char *path,
                                       apr_pool_t *result_pool, apr_pool_t *scratch_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_COMPOSE_H */
