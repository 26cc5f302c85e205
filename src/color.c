/* color.c — the color rules (color.h) and the colors of words. */
#include "dray/color.h"

#include <string.h>

#include <apr_env.h>
#include <apr_strings.h>

#include "dray/platform.h"

static int is_on(const char *v)
{
  return v && *v && strcmp(v, "0") != 0 && strcmp(v, "false") != 0;
}

int dray_color_decide(int is_terminal, const char *term, const char *no_color,
                      const char *clicolor_force, const char *force_color)
{
  if (is_on(clicolor_force) || is_on(force_color))
    return 1;
  if (no_color && *no_color)
    return 0;
  if (term && strcmp(term, "dumb") == 0)
    return 0;
  return is_terminal;
}

static const char *env(const char *name, apr_pool_t *pool)
{
  char *v;
  return apr_env_get(&v, name, pool) == APR_SUCCESS ? v : NULL;
}

int dray_color_wanted(FILE *stream, apr_pool_t *scratch_pool)
{
  return dray_color_decide(dray_platform_is_terminal(stream), env("TERM", scratch_pool),
                           env("NO_COLOR", scratch_pool), env("CLICOLOR_FORCE", scratch_pool),
                           env("FORCE_COLOR", scratch_pool));
}

dray_color_t dray_color_of_event(dray_event_kind_t kind)
{
  switch (kind) {
  case DRAY_EVENT_BUILT:
  case DRAY_EVENT_PUSHED:
  case DRAY_EVENT_UP_TO_DATE:
    return DRAY_COLOR_GOOD;
  case DRAY_EVENT_BUILD_FAILED:
  case DRAY_EVENT_PUSH_FAILED:
    return DRAY_COLOR_BAD;
  case DRAY_EVENT_BUILD_RETRY:
  case DRAY_EVENT_PUSH_RETRY:
  case DRAY_EVENT_SKIPPED:
  case DRAY_EVENT_INTERRUPTED:
  case DRAY_EVENT_DRAIN:
  case DRAY_EVENT_CANCEL:
  case DRAY_EVENT_KILL:
  case DRAY_EVENT_ENGINE_DOWN:
    return DRAY_COLOR_WARN;
  default:
    return DRAY_COLOR_NONE;
  }
}

dray_color_t dray_color_of_state(dray_job_state_t state)
{
  switch (state) {
  case DRAY_JOB_DONE: return DRAY_COLOR_GOOD;
  case DRAY_JOB_FAILED: return DRAY_COLOR_BAD;
  case DRAY_JOB_BUILD_RETRY:
  case DRAY_JOB_PUSH_RETRY:
  case DRAY_JOB_SKIPPED:
  case DRAY_JOB_INTERRUPTED:
    return DRAY_COLOR_WARN;
  default:
    return DRAY_COLOR_NONE;
  }
}

const char *dray_color_wrap(dray_color_t color, const char *text, int on, apr_pool_t *result_pool)
{
  static const char *const sgr[] = {"", "\033[32m", "\033[31m", "\033[33m"};
  if (!on || color == DRAY_COLOR_NONE)
    return text;
  return apr_pstrcat(result_pool, sgr[color], text, "\033[0m", NULL);
}
