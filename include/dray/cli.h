/* cli.h — the command line: subcommands, options, help text. */
#ifndef DRAY_CLI_H
#define DRAY_CLI_H

#include <stdio.h>

#include <apr_pools.h>
#include <apr_tables.h>

#include "dray/error.h"
#include "dray/settings.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dray_command_t {
  DRAY_CMD_NONE = 0,
  DRAY_CMD_RUN,
  DRAY_CMD_BUILD,
  DRAY_CMD_PUSH,
  DRAY_CMD_PLAN,
  DRAY_CMD_REPORT,
  DRAY_CMD_VERSION,
  DRAY_CMD_HELP
} dray_command_t;

typedef struct dray_cli_t {
  dray_command_t command;
  const char *command_name;
  int help;                          /* --help given: print help for command */
  apr_array_header_t *paths;         /* const char * */
  const char *compose_file;          /* the first -f, or NULL */
  apr_array_header_t *compose_files; /* const char *: every -f, in order */
  apr_array_header_t *profiles;      /* --profile */
  apr_array_header_t *env_files;     /* --env-file */
  const char *project_name;          /* --project-name, or NULL */
  int format_json;                   /* plan --format json */
  /* Run-wide settings given as flags (source DRAY_SOURCE_FLAG), checked by
   * settings.c: registry, tags, limits, retries, global slots, engine,
   * progress, logs. */
  dray_settings_t settings;
  apr_array_header_t *build_args;
  apr_array_header_t *only;
  apr_array_header_t *skip;
  /* --engine-host and --context are the setting "engines" (settings.h). */
  int engines_optional;              /* --engines-optional */
  apr_array_header_t *insecure;      /* --insecure-registry hosts */
  int skip_existing;
  int no_verify;
  int events_json;                   /* --events json */
  int no_cache;
  int ignore_unsupported;            /* build without the keys the builder cannot do */
  const char *report;
  const char *junit;                 /* --junit FILE, or NULL */
  const char *timeline;              /* --timeline FILE.svg, or NULL */
  int dry_run;
  int quiet;
  int verbose;
} dray_cli_t;

/* Parse ARGV (argv[0] is the program). Usage errors come back as
 * DRAY_ERR_USAGE naming the option. */
dray_error_t *dray_cli_parse(dray_cli_t **cli, int argc, const char *const *argv,
                             apr_pool_t *result_pool);

/* Print the help of COMMAND (DRAY_CMD_NONE: the overview) to OUT. */
void dray_cli_print_help(FILE *out, dray_command_t command);

/* Shell completion (`dray __complete WORD... CURRENT`, called by the bash,
 * zsh and fish scripts in packaging/completions/): what may follow the words
 * after "dray", from the same tables as parsing and help. */
typedef enum dray_complete_kind_t {
  DRAY_COMPLETE_WORDS = 0,  /* only the words listed */
  DRAY_COMPLETE_FILES,      /* the words, and file names */
  DRAY_COMPLETE_DIRS,       /* the words, and folder names */
  DRAY_COMPLETE_IMAGES      /* image names of the plan (the caller makes it) */
} dray_complete_kind_t;

typedef struct dray_completion_t {
  dray_complete_kind_t kind;
  apr_array_header_t *words;  /* const char *: candidates starting with the current word */
  const char *prefix;         /* images: what each candidate must start with */
  const char *compose_file;   /* images: -f/--file given on the line, or NULL */
} dray_completion_t;

/* WORDS[0..NWORDS-1] are the words after "dray"; the last one is the word
 * being completed (may be ""). "--opt=VAL" and bash's split "--opt" "=" "VAL"
 * both complete VAL. */
dray_completion_t *dray_cli_complete(int nwords, const char *const *words,
                                     apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_CLI_H */
