/* settings.h — run-wide settings and where each value comes from.
 *
 * A setting may come from the command line, a DRAY_* environment variable,
 * a compose file's x-dray section, the user's config file, or dray's
 * default. The precedence (flag > environment > x-dray > config file >
 * default) is decided here and nowhere else (dray_settings_resolve), and so
 * is what each setting accepts (dray_settings_set): every source hands its
 * words to the same parser, which names the source in its errors.
 *
 * One name everywhere: the key in x-dray and the config file is the long
 * option's name ("stall-timeout"), the variable is DRAY_ and the key in
 * capitals with "_" for "-" (DRAY_STALL_TIMEOUT). Only the tags' option is
 * singular (--tag, repeatable; key "tags", DRAY_TAGS="latest,1.4").
 * builders and pushers take a number or "auto" (found while running, up to
 * builders-max and pushers-max); global-slots takes NAME[:N].
 * engine-cmd names a program dray runs on this machine: a compose file (a
 * cloned repository's) may not set it; the user's flag, variable and config
 * file may.
 */
#ifndef DRAY_SETTINGS_H
#define DRAY_SETTINGS_H

#include <stdio.h>

#include <apr_pools.h>
#include <apr_tables.h>

#include "dray/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DRAY_SETTING_UNSET (-1)
#define DRAY_SETTING_AUTO 0       /* builders, pushers: found while running */

typedef enum dray_setting_id_t {
  DRAY_SETTING_REGISTRY = 0,
  DRAY_SETTING_TAGS,
  DRAY_SETTING_BUILDERS,
  DRAY_SETTING_PUSHERS,
  DRAY_SETTING_BUILDERS_MAX,
  DRAY_SETTING_PUSHERS_MAX,
  DRAY_SETTING_RETRIES,
  DRAY_SETTING_BUILD_RETRIES,
  DRAY_SETTING_RETRY_DELAY,
  DRAY_SETTING_STALL_TIMEOUT,
  DRAY_SETTING_GLOBAL_SLOTS,
  DRAY_SETTING_NETWORK,
  DRAY_SETTING_PLATFORM,
  DRAY_SETTING_ENGINE_CMD,
  DRAY_SETTING_PUSH_DRIVER,
  DRAY_SETTING_PROGRESS,
  DRAY_SETTING_LOG_DIR,
  DRAY_SETTING_ENGINES,
  DRAY_SETTING_COUNT
} dray_setting_id_t;

/* Where a value came from, weakest first. */
typedef enum dray_setting_source_t {
  DRAY_SOURCE_NONE = 0,     /* unset */
  DRAY_SOURCE_DEFAULT,
  DRAY_SOURCE_CONFIG,       /* the user's config file */
  DRAY_SOURCE_COMPOSE,      /* the compose file's x-dray */
  DRAY_SOURCE_ENV,          /* a DRAY_* variable */
  DRAY_SOURCE_FLAG          /* the command line */
} dray_setting_source_t;

typedef struct dray_settings_t {
  const char *registry;           /* HOST[:PORT][/NAMESPACE], or NULL */
  apr_array_header_t *tags;       /* const char *, or NULL */
  int builders;                   /* builds at once, AUTO, or UNSET */
  int pushers;                    /* pushes at once, AUTO, or UNSET */
  int builders_max;               /* the bound of AUTO builders, or UNSET */
  int pushers_max;                /* the bound of AUTO pushers, or UNSET */
  int retries;                    /* push attempts beyond the first, or UNSET */
  int build_retries;              /* build attempts beyond the first, or UNSET */
  double retry_delay;             /* first backoff delay in seconds, < 0: unset */
  int stall_timeout;              /* seconds, 0 = never, or UNSET */
  const char *global_slots;       /* machine-wide push slots' NAME, or NULL */
  int global_slot_count;          /* their number N (with global_slots) */
  const char *network;            /* RUN steps' network, or NULL */
  const char *platform;           /* target platform, or NULL */
  const char *engine_cmd;         /* docker, podman or a path, or NULL */
  const char *push_driver;        /* "auto", "engine", "cli" or "registry", or NULL */
  const char *progress;           /* "auto", "live", "plain" or "quiet", or NULL */
  const char *log_dir;            /* folder of the per-image logs, or NULL */
  apr_array_header_t *engines;    /* const char *: engines the run builds on, each
                                     "URL[#limits]" or "CONTEXT[#limits]" (engines.h),
                                     or NULL: the one engine found as always */
  /* Where each set value came from, and its words for people: "--builders",
   * "DRAY_BUILDERS", "compose.yaml x-dray", "/home/u/.config/dray/config.yaml". */
  dray_setting_source_t source[DRAY_SETTING_COUNT];
  const char *where[DRAY_SETTING_COUNT];
} dray_settings_t;

/* Every setting unset. */
void dray_settings_init(dray_settings_t *settings);

/* The key of ID ("stall-timeout"), its option ("--stall-timeout"; tags:
 * "--tag") and its variable ("DRAY_STALL_TIMEOUT"): static. */
const char *dray_setting_key(dray_setting_id_t id);
const char *dray_setting_flag(dray_setting_id_t id);
const char *dray_setting_env(dray_setting_id_t id);

/* The setting whose key is KEY, or -1. */
int dray_setting_find(const char *key);

/* "registry, tags, builders, ...": every key, for "known: ..." messages. */
const char *dray_setting_keys(apr_pool_t *result_pool);

/* The word for SOURCE: "command line", "environment", "compose x-dray",
 * "config file", "default". */
const char *dray_setting_source_word(dray_setting_source_t source);

/* Set ID from VALUE, a word as a flag, a variable or a YAML scalar gives it
 * (tags: added to those set before; from a flag one tag, left for the plan
 * to check with the other input problems; from elsewhere one or several
 * separated by "," or blanks, checked here), checked: a DRAY_ERR_USAGE error "WHERE needs ..., not 'VALUE'"
 * when it is not a value ID takes. SOURCE and WHERE are recorded. */
dray_error_t *dray_settings_set(dray_settings_t *settings, dray_setting_id_t id,
                                const char *value, dray_setting_source_t source,
                                const char *where, apr_pool_t *result_pool);

/* Every DRAY_* variable LOOKUP knows (LOOKUP returns NULL for one that is
 * not set; an empty value counts as not set). Errors name the variable;
 * all of them are returned together. */
typedef const char *(*dray_settings_lookup_fn)(void *baton, const char *name, apr_pool_t *pool);
dray_error_t *dray_settings_from_env(dray_settings_t *settings, dray_settings_lookup_fn lookup,
                                     void *baton, apr_pool_t *result_pool);

/* The process environment, for dray_settings_from_env. */
const char *dray_settings_getenv(void *baton, const char *name, apr_pool_t *pool);

/* The user's config file: $XDG_CONFIG_HOME/dray/config.yaml (default
 * ~/.config), %APPDATA%\dray\config.yaml on Windows; NULL when neither
 * folder is known. (compose.c reads it: dray_compose_load_config.) */
const char *dray_settings_config_path(apr_pool_t *result_pool);

/* OUT gets each setting (value, source, where) from OVER when set there,
 * else from UNDER. OUT may be either of them. */
void dray_settings_merge(dray_settings_t *out, const dray_settings_t *over,
                         const dray_settings_t *under);

/* Fill what is still unset with dray's defaults: builders and pushers auto
 * (at most 4 per CPU and 8), retries 2, build retries 0, retry delay 2 s,
 * stall timeout 60 s, tags "latest", no global slots, engine command docker,
 * push driver auto, progress auto, log folder .dray/logs. Arrays are made in
 * RESULT_POOL. */
void dray_settings_default(dray_settings_t *settings, apr_pool_t *result_pool);

/* The settings in force: FLAGS over ENV over COMPOSE over CONFIG over the
 * defaults. Any argument but OUT may be NULL (nothing from there). */
void dray_settings_resolve(dray_settings_t *out, const dray_settings_t *flags,
                           const dray_settings_t *env, const dray_settings_t *compose,
                           const dray_settings_t *config, apr_pool_t *result_pool);

/* One line per setting that does not have its default value's source:
 * "  builders       8        environment (DRAY_BUILDERS)"; how many. */
int dray_settings_print(FILE *out, const dray_settings_t *settings, apr_pool_t *scratch_pool);

/* The value of ID as a word ("8", "latest, 1.4", "-" when unset). */
const char *dray_settings_value_word(const dray_settings_t *settings, dray_setting_id_t id,
                                     apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_SETTINGS_H */
