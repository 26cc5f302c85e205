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

#include <apr_hash.h>
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
  const char *image_path;         /* the file that says image: */
  const char *default_image;      /* without image: compose's "<project>-<name>" */
  int has_build;                  /* the service has build: */
  /* As written (dray_compose_read_file); NULL where the file says nothing.
   * Relative paths are relative to BASE_DIR: the project folder for the -f
   * files, an included or extended file's own folder for its services. */
  const char *context;            /* build.context (or the short form) */
  const char *dockerfile_written; /* build.dockerfile */
  const char *base_dir;
  /* Resolved (dray_compose_resolve_service): */
  const char *context_dir;        /* absolute */
  const char *dockerfile;         /* absolute; relative to the context */
  int dockerfile_given;           /* build.dockerfile was set */
  const char *target;             /* or NULL */
  apr_array_header_t *build_args; /* const char * "K=V", file order */
  dray_buildspec_t *spec;         /* every other build key, and platform */
  apr_array_header_t *profiles;   /* const char *, or NULL: always active */
  const char *extends_service;    /* extends: the service, or NULL */
  const char *extends_file;       /* extends.file as written, or NULL */
  int extends_line;
  const char *path;               /* the file it is defined in */
} dray_compose_service_t;

/* A top-level secret: what a build secret naming it mounts. */
typedef struct dray_compose_secret_t {
  const char *file;               /* absolute, or NULL */
  const char *env;                /* the variable, or NULL */
  const char *value;              /* its value, or NULL when unset */
  const char *problem;            /* why a build cannot use it, or NULL */
  const char *where;              /* "compose.yaml:3" */
} dray_compose_secret_t;

/* One entry of include: (its short form is one path). */
typedef struct dray_compose_include_t {
  apr_array_header_t *paths;      /* const char *: absolute; later ones override */
  const char *project_directory;  /* absolute, or NULL: the first path's folder */
  apr_array_header_t *env_files;  /* const char *: absolute, or NULL */
  const char *where;              /* "compose.yaml:3" */
} dray_compose_include_t;

typedef struct dray_compose_t {
  const char *path;               /* as given (the first file of a project) */
  const char *dir;                /* absolute folder holding it: the project's */
  const char *name;               /* the project's name (a file: its name:, or NULL) */
  apr_array_header_t *services;   /* dray_compose_service_t *: of a project, the
                                     buildable ones of the active profiles,
                                     merged and resolved, in file order */
  apr_array_header_t *all;        /* dray_compose_service_t *: every service */
  int inactive;                   /* services with build: left out by profiles */
  apr_array_header_t *includes;   /* dray_compose_include_t * */
  apr_hash_t *secrets;            /* name -> dray_compose_secret_t * */
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

/* What a project is made of: files in order (later ones override, by the
 * specification's merge rules), profiles, .env files, a name. */
typedef struct dray_compose_options_t {
  apr_array_header_t *files;      /* const char *: -f in order; at least one */
  apr_array_header_t *profiles;   /* const char *: --profile, or NULL */
  apr_array_header_t *env_files;  /* const char *: --env-file, or NULL: the
                                     project folder's .env */
  const char *project_name;       /* -p, or NULL */
  const char *first_text;         /* the first file's text, or NULL: read it */
  apr_size_t first_len;
} dray_compose_options_t;

/* Load the compose project OPTS names: each file read, its include:
 * followed (paths relative to the including file, a cycle reported),
 * extends: resolved (same file or another, nested), the files merged in
 * order, the services of inactive profiles left out (active: OPTS->profiles
 * and COMPOSE_PROFILES; "*" is every one), paths resolved. The project's
 * name is OPTS->project_name, else COMPOSE_PROJECT_NAME, else the last
 * name: of the files, else the project folder's name; lower-cased, other
 * characters than a-z 0-9 _ - dropped. Interpolation reads the environment,
 * then the env files (default: .env in the project folder, the first file's).
 * All problems come back together as one DRAY_ERR_INPUT chain: YAML syntax
 * errors as "PATH:LINE:COLUMN: …", structural ones as "PATH:LINE: …". Nothing
 * is checked on disk but the files themselves and their .env; the caller
 * checks contexts and Dockerfiles. */
dray_error_t *dray_compose_load_project(dray_compose_t **compose,
                                       const dray_compose_options_t *opts,
                                       apr_pool_t *result_pool, apr_pool_t *scratch_pool);

/* The project of the one compose file at PATH. */
dray_error_t *dray_compose_load(dray_compose_t **compose, const char *path,
                                apr_pool_t *result_pool,
                                apr_pool_t *scratch_pool);

/* The same for TEXT[0..LEN), which PATH names: relative paths and the .env
 * file are looked up beside PATH. */
dray_error_t *dray_compose_parse(dray_compose_t **compose, const char *text,
                                 apr_size_t len, const char *path,
                                 apr_pool_t *result_pool,
                                 apr_pool_t *scratch_pool);

/* One file as written (compose_project.c's part): every service in ALL,
 * unmerged and unresolved; SERVICES empty. BASE_DIR is what relative paths
 * of its services are relative to; DOTENV (name -> value) what
 * interpolation reads after the environment. */
dray_error_t *dray_compose_read_file(dray_compose_t **file, const char *text, apr_size_t len,
                                     const char *path, const char *base_dir,
                                     apr_hash_t *dotenv, apr_pool_t *result_pool,
                                     apr_pool_t *scratch_pool);

/* KEY=VALUE lines of an env file into ENV (export, quotes, comments as
 * compose reads them). A missing file is no error when MAY_BE_MISSING. */
dray_error_t *dray_compose_read_env_file(apr_hash_t *env, const char *path, int may_be_missing,
                                         apr_pool_t *pool);

/* SVC's context, Dockerfile and build secrets, from what was written and
 * the project's SECRETS: context_dir, dockerfile (a Containerfile when no
 * Dockerfile was named and only that exists), spec->secrets' files and
 * variables. Problems name the file and line. */
dray_error_t *dray_compose_resolve_service(dray_compose_service_t *svc, apr_hash_t *secrets,
                                           apr_pool_t *result_pool, apr_pool_t *scratch_pool);

/* The user's config file at PATH (dray_settings_config_path): a YAML mapping
 * of the same settings as x-dray. A missing file sets nothing; a problem is
 * a DRAY_ERR_INPUT error naming the file and line. */
dray_error_t *dray_compose_load_config(dray_settings_t *settings, const char *path,
                                       apr_pool_t *result_pool, apr_pool_t *scratch_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_COMPOSE_H */
