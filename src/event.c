/* event.c — the one table of event words. */
#include "dray/event.h"

#include <apr_strings.h>

typedef struct event_row_t {
  dray_event_kind_t kind;
  const char *word;
  dray_event_class_t cls;
  int problem;
} event_row_t;

/* In enum order: the unit test walks it. */
static const event_row_t event_table[DRAY_EVENT_COUNT] = {
  {DRAY_EVENT_BUILD_STARTED, "build-started", DRAY_EVENT_CLASS_STARTED, 0},
  {DRAY_EVENT_BUILT, "built", DRAY_EVENT_CLASS_FINISHED, 0},
  {DRAY_EVENT_BUILD_RETRY, "build-retry", DRAY_EVENT_CLASS_RETRY, 1},
  {DRAY_EVENT_BUILD_FAILED, "build-failed", DRAY_EVENT_CLASS_FINISHED, 1},
  {DRAY_EVENT_PUSH_STARTED, "push-started", DRAY_EVENT_CLASS_STARTED, 0},
  {DRAY_EVENT_PUSHED, "pushed", DRAY_EVENT_CLASS_FINISHED, 0},
  {DRAY_EVENT_UP_TO_DATE, "up-to-date", DRAY_EVENT_CLASS_FINISHED, 0},
  {DRAY_EVENT_PUSH_RETRY, "push-retry", DRAY_EVENT_CLASS_RETRY, 1},
  {DRAY_EVENT_PUSH_FAILED, "push-failed", DRAY_EVENT_CLASS_FINISHED, 1},
  {DRAY_EVENT_SKIPPED, "skipped", DRAY_EVENT_CLASS_FINISHED, 1},
  {DRAY_EVENT_INTERRUPTED, "interrupted", DRAY_EVENT_CLASS_FINISHED, 1},
  {DRAY_EVENT_DRAIN, "drain", DRAY_EVENT_CLASS_RUN, 1},
  {DRAY_EVENT_CANCEL, "cancel", DRAY_EVENT_CLASS_RUN, 1},
  {DRAY_EVENT_KILL, "kill", DRAY_EVENT_CLASS_RUN, 1},
  {DRAY_EVENT_ENGINE_DOWN, "engine-down", DRAY_EVENT_CLASS_RUN, 1},
};

static const char *const class_words[] = {"started", "finished", "retry", "run"};

static const event_row_t *row(dray_event_kind_t kind)
{
  if ((int)kind < 0 || kind >= DRAY_EVENT_COUNT)
    return NULL;
  return &event_table[kind];
}

const char *dray_event_word(dray_event_kind_t kind)
{
  const event_row_t *r = row(kind);
  return r ? r->word : "unknown";
}

dray_event_class_t dray_event_class(dray_event_kind_t kind)
{
  const event_row_t *r = row(kind);
  return r ? r->cls : DRAY_EVENT_CLASS_RUN;
}

const char *dray_event_class_word(dray_event_class_t cls)
{
  if ((int)cls < 0 || (apr_size_t)cls >= sizeof(class_words) / sizeof(class_words[0]))
    return "unknown";
  return class_words[cls];
}

int dray_event_is_problem(dray_event_kind_t kind)
{
  const event_row_t *r = row(kind);
  return r ? r->problem : 0;
}

const char *dray_event_detail(const dray_event_t *ev, apr_pool_t *result_pool)
{
  switch (ev->kind) {
  case DRAY_EVENT_BUILT:
    return ev->job ? ev->job->image_id : NULL;
  case DRAY_EVENT_PUSHED:
  case DRAY_EVENT_UP_TO_DATE:
    return ev->job ? dray_job_digest(ev->job) : NULL;
  case DRAY_EVENT_BUILD_RETRY:
  case DRAY_EVENT_PUSH_RETRY:
    return apr_psprintf(result_pool, "%s; retrying in %.1fs", ev->error ? ev->error : "failed",
                        (double)ev->retry_in / APR_USEC_PER_SEC);
  case DRAY_EVENT_DRAIN:
    return "interrupted: running builds and pushes finish, nothing new starts "
           "(Ctrl+C again to cancel them)";
  case DRAY_EVENT_CANCEL:
    return "cancelling: running builds and pushes are being stopped";
  case DRAY_EVENT_KILL:
    return "stopping every running build and push now";
  default:
    return ev->error;
  }
}
