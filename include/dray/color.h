/* color.h — whether output gets colors, and which color a word gets.
 *
 * The common rules, decided here only: colors only on a terminal (and not
 * TERM=dumb); NO_COLOR (set, not empty) turns them off; CLICOLOR_FORCE or
 * FORCE_COLOR (set, not empty, not "0" / "false") turns them on anywhere,
 * over NO_COLOR (an explicit force is the more specific wish).
 */
#ifndef DRAY_COLOR_H
#define DRAY_COLOR_H

#include <stdio.h>

#include <apr_pools.h>

#include "dray/event.h"
#include "dray/run.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dray_color_t {
  DRAY_COLOR_NONE = 0,
  DRAY_COLOR_GOOD,   /* built, pushed, up to date: green */
  DRAY_COLOR_BAD,    /* failed: red */
  DRAY_COLOR_WARN    /* retrying, skipped, interrupted, drain/cancel: yellow */
} dray_color_t;

/* The rule above, from its inputs (NULL: variable not set). */
int dray_color_decide(int is_terminal, const char *term, const char *no_color,
                      const char *clicolor_force, const char *force_color);

/* The rule for STREAM in this process's environment. */
int dray_color_wanted(FILE *stream, apr_pool_t *scratch_pool);

dray_color_t dray_color_of_event(dray_event_kind_t kind);
dray_color_t dray_color_of_state(dray_job_state_t state);

/* TEXT in COLOR when ON (SGR escape, then reset); else TEXT itself. */
const char *dray_color_wrap(dray_color_t color, const char *text, int on, apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_COLOR_H */
