/* engines.c — naming, resolving and probing the engines of a run; see
 * engines.h. */
#include "dray/engines.h"

#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "dray/child.h"

/* One "KEY=N" of an engine's limits into SPEC. */
static dray_error_t *parse_limit(dray_engine_spec_t *spec, const char *item, const char *word,
                                 const char *option)
{
  const char *eq = strchr(item, '=');
  char *end = NULL;
  long n;
  int *field = NULL;

  if (eq && (apr_size_t)(eq - item) == strlen("builders") && strncmp(item, "builders", 8) == 0)
    field = &spec->builders;
  else if (eq && (apr_size_t)(eq - item) == strlen("pushers") && strncmp(item, "pushers", 7) == 0)
    field = &spec->pushers;
  if (!field)
    return dray_error_createf(DRAY_ERR_USAGE, NULL,
                              "%s %s: '%s' is not a limit (builders=N or pushers=N)", option,
                              word, item);
  n = strtol(eq + 1, &end, 10);
  if (!*(eq + 1) || *end || n < 1 || n > 1024)
    return dray_error_createf(DRAY_ERR_USAGE, NULL,
                              "%s %s: '%s' needs a whole number from 1 to 1024", option, word,
                              item);
  *field = (int)n;
  return DRAY_NO_ERROR;
}

int dray_engine_word_is_host(const char *word)
{
  const char *hash = strchr(word, '#'), *scheme = strstr(word, "://");
  return scheme && (!hash || scheme < hash);
}

dray_error_t *dray_engine_target_parse(dray_engine_target_t **target_p, const char *word,
                                       const char *option, apr_pool_t *result_pool)
{
  int is_context = !dray_engine_word_is_host(word);
  dray_engine_target_t *t = apr_pcalloc(result_pool, sizeof(*t));
  const char *hash = strchr(word, '#');
  const char **env = apr_pcalloc(result_pool, 3 * sizeof(*env));
  const char *name = hash ? apr_pstrmemdup(result_pool, word, (apr_size_t)(hash - word))
                          : apr_pstrdup(result_pool, word);

  *target_p = NULL;
  if (!*name)
    return dray_error_createf(DRAY_ERR_USAGE, NULL, "%s %s: no engine named before '#'",
                              option, word);
  if (hash) {
    char *limits = apr_pstrdup(result_pool, hash + 1), *last, *item;
    if (!*limits)
      return dray_error_createf(DRAY_ERR_USAGE, NULL, "%s %s: no limits after '#'", option,
                                word);
    for (item = apr_strtok(limits, ",", &last); item; item = apr_strtok(NULL, ",", &last))
      DRAY_ERR(parse_limit(&t->spec, item, word, option));
  }
  t->spec.name = name;
  if (is_context) {
    t->context = name;
    env[0] = apr_pstrcat(result_pool, "DOCKER_CONTEXT=", name, NULL);
    env[1] = "DOCKER_HOST"; /* unset: the CLI puts a DOCKER_HOST, even empty, first */
  } else {
    t->host = name;
    env[0] = apr_pstrcat(result_pool, "DOCKER_HOST=", name, NULL);
  }
  t->env = env;
  *target_p = t;
  return DRAY_NO_ERROR;
}

dray_error_t *dray_engine_targets_resolve(apr_array_header_t *targets,
                                          apr_pool_t *result_pool,
                                          apr_pool_t *scratch_pool)
{
  apr_hash_t *seen = apr_hash_make(scratch_pool);
  int i;
  for (i = 0; i < targets->nelts; i++) {
    dray_engine_target_t *t = APR_ARRAY_IDX(targets, i, dray_engine_target_t *);
    const dray_engine_target_t *other;
    DRAY_ERR(dray_engine_resolve(&t->endpoint, t->host, t->context, NULL, result_pool,
                                 scratch_pool));
    other = apr_hash_get(seen, t->endpoint->host, APR_HASH_KEY_STRING);
    if (other)
      return dray_error_createf(DRAY_ERR_USAGE, NULL,
                                "engines %s and %s are the same engine (%s): name each once",
                                other->spec.name, t->spec.name, t->endpoint->host);
    apr_hash_set(seen, t->endpoint->host, APR_HASH_KEY_STRING, t);
  }
  return DRAY_NO_ERROR;
}

dray_error_t *dray_engine_target_probe(const dray_engine_target_t *t, const char *engine_cmd,
                                       dray_cancel_t *cancel, apr_pool_t *scratch_pool)
{
  const char *argv[] = {NULL, "version", "--format", "{{.Server.APIVersion}}", NULL};
  dray_child_spec_t spec;
  dray_child_result_t res;

  if (t->endpoint && dray_engine_http_capable(t->endpoint))
    return dray_engine_ping(t->endpoint, DRAY_ENGINE_PROBE_SECONDS, cancel, scratch_pool);
  /* ssh://, npipe://: only the CLI reaches it. */
  argv[0] = engine_cmd;
  memset(&spec, 0, sizeof(spec));
  spec.argv = argv;
  spec.env = t->env;
  spec.deadline = apr_time_from_sec(DRAY_ENGINE_PROBE_SECONDS);
  spec.cancel = cancel;
  spec.capture_max = 1024;
  DRAY_ERR(dray_child_run(&res, &spec, scratch_pool, scratch_pool));
  if (res.deadline_exceeded)
    return dray_error_createf(DRAY_ERR_HTTP, NULL, "engine %s: '%s version' did not answer in %d s",
                              t->spec.name, engine_cmd, DRAY_ENGINE_PROBE_SECONDS);
  if (res.exit_code != 0)
    return dray_error_createf(DRAY_ERR_HTTP, NULL, "engine %s: '%s version' failed: %s",
                              t->spec.name, engine_cmd, dray_child_last_line(&res, scratch_pool));
  return DRAY_NO_ERROR;
}
