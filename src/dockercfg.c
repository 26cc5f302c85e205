/* dockercfg.c — the docker configuration folder. */
#include "dray/dockercfg.h"

#include <apr_env.h>
#include <apr_strings.h>

#include "dray/platform.h"

const char *dray_dockercfg_dir(apr_pool_t *result_pool)
{
  char *env = NULL;
  const char *home;
  if (apr_env_get(&env, "DOCKER_CONFIG", result_pool) == APR_SUCCESS && env && *env)
    return env;
  home = dray_platform_home_dir(result_pool);
  if (!home)
    return NULL;
  return apr_pstrcat(result_pool, home, "/.docker", NULL);
}
