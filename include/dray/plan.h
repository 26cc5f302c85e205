/* plan.h — what to build: discovery, compose files, references, build order.
 *
 * Everything is read and validated before anything starts. All problems are
 * collected and returned together as one DRAY_ERR_INPUT chain, one link per
 * problem, each naming the file and line (or folder, or image).
 */
#ifndef DRAY_PLAN_H
#define DRAY_PLAN_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "dray/buildspec.h"
#include "dray/error.h"
#include "dray/settings.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dray_image_t {
  int index;                 /* position in plan->images (build order) */
  const char *name;          /* short name shown to users: "services/web", compose service name */
  const char *repository;    /* full reference without tag: "localhost:5000/ns/services/web" */
  apr_array_header_t *tags;  /* const char *: at least one; each a tag of
                                REPOSITORY or a whole reference "repo:tag"
                                (build.tags, or a service built the same way
                                under another repository): dray_image_ref
                                gives the reference either way */
  const char *context_dir;   /* absolute build context */
  const char *dockerfile;    /* absolute path of the Dockerfile (with
                                dockerfile_inline: names it for messages) */
  const dray_buildspec_t *spec; /* the compose build keys, or NULL (a folder) */
  const char *target;        /* build stage (--target) or NULL */
  apr_array_header_t *platforms; /* const char *: what it is built for: build.platforms
                                (or the service's platform), else --platform's
                                comma-separated list; empty: the engine's. Set
                                by the plan; NULL (an image made elsewhere):
                                the build options' platform. Several: one
                                manifest list (dray_image_is_list) */
  apr_array_header_t *build_args; /* const char * "K=V": command line first, then file */
  const char *origin;        /* where it was defined: folder, or "compose.yaml:12" */
  apr_array_header_t *deps;  /* int: indices of images that must be built first */
  const char *base;          /* normalised repository of the image the built stage
                                starts FROM ("docker.io/library/debian"), or NULL
                                (scratch, or none found): images with one base
                                share its layers */
  const struct dray_image_t *base_image; /* the image of this run BASE names, or NULL */
} dray_image_t;

typedef struct dray_plan_options_t {
  apr_array_header_t *paths;        /* const char *: folders to discover; may be empty */
  const char *compose_file;         /* or NULL; or several: */
  apr_array_header_t *compose_files; /* const char *: -f in order, or NULL */
  apr_array_header_t *profiles;     /* --profile, or NULL (COMPOSE_PROFILES) */
  apr_array_header_t *env_files;    /* --env-file, or NULL (the project's .env) */
  const char *project_name;         /* -p, or NULL */
  const dray_settings_t *settings;   /* the command line's (registry, tags, limits...) */
  const dray_settings_t *env_settings;    /* from DRAY_* variables, or NULL */
  const dray_settings_t *config_settings; /* from the user's config file, or NULL */
  apr_array_header_t *build_args;   /* const char * "K=V" from --build-arg */
  apr_array_header_t *only;         /* const char * glob patterns on image names */
  apr_array_header_t *skip;         /* const char * glob patterns on image names */
  dray_builder_t builder;           /* what will build: decides what is refused;
                                       with HAS_BUILDX set, found from the
                                       engine command in force instead */
  int (*has_buildx)(const char *engine_cmd, apr_pool_t *scratch_pool); /* or NULL */
  int ignore_unsupported;           /* --ignore-unsupported: refusals are warnings */
} dray_plan_options_t;

typedef struct dray_plan_t {
  apr_array_header_t *images;      /* dray_image_t *, dependencies before dependents */
  dray_settings_t settings;        /* in force: flags, environment, x-dray, config, defaults */
  dray_builder_t builder;          /* what builds the images */
  apr_array_header_t *warnings;    /* const char *: for the user, before anything runs */
  const char *nothing_to_build;    /* why a compose file plans no image, or NULL:
                                      "no service has build:" */
} dray_plan_t;

/* Discover, parse and validate everything OPTS names; order the images so
 * that every image comes after those it is built FROM. An image whose name
 * matches a --skip pattern, or no --only pattern when some are given, is left
 * out; edges to images left out are dropped (they count as external).
 *
 * Details (plan.c): patterns are apr_fnmatch globs without flags ("*" also
 * matches "/") tried on the name and on the repository; an --only pattern
 * that matches nothing is an error. Folder images come first (sorted by
 * folder, depth first), then compose services in file order; the order keeps
 * that wherever dependencies allow. A FROM / COPY --from / RUN --mount from=
 * (in the stages the target needs) is an edge when its familiar name equals
 * an image's repository and its tag is one of that image's tags or absent;
 * digests and an image's own name are not edges. Problems of images left out
 * by --only/--skip are not reported, except naming and duplicates. On error
 * *PLAN is untouched and nothing stays allocated in RESULT_POOL. */
dray_error_t *dray_plan_load(dray_plan_t **plan,
                             const dray_plan_options_t *opts,
                             apr_pool_t *result_pool,
                             apr_pool_t *scratch_pool);

/* Whether IMAGE is built for several platforms, as one manifest list. */
int dray_image_is_list(const dray_image_t *image);

/* "repository:tag" for TAG of IMAGE, in RESULT_POOL; TAG itself when it is
 * a whole reference (a tag has no ":" or "/"). */
const char *dray_image_ref(const dray_image_t *image, const char *tag,
                           apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_PLAN_H */
