/* slots.c — N locked files, tried in turn.
 *
 * Each slot is an exclusive apr_file_lock on its own lock file, which the
 * system drops when the holder's process ends however it ends. (APR 1.7's
 * file-based apr_global_mutex mechanisms create their file exclusively and,
 * for fcntl, unlink it: made for a parent and its children, not for
 * unrelated processes.) File locks belong to a process, not a thread, so a
 * mutex and a flag per slot keep two pushers of one run from both taking
 * the same slot. */
#include "dray/slots.h"

#include <stdlib.h>
#include <string.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_thread_mutex.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "dray/platform.h"

#define SLOT_POLL apr_time_from_msec(100)

struct dray_slots_t {
  const char *name;
  int count;
  apr_file_t **files;             /* open for the run's whole life */
  char *held;                     /* per slot: a pusher of this run holds it */
  apr_thread_mutex_t *lock;       /* guards HELD */
};

dray_error_t *dray_slots_parse(const char **name, int *count, const char *spec,
                               apr_pool_t *result_pool)
{
  const char *colon = strrchr(spec, ':'), *p;
  apr_size_t len = colon ? (apr_size_t)(colon - spec) : strlen(spec);

  *count = DRAY_SLOTS_DEFAULT;
  if (colon) {
    char *end;
    long n = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || n < 1 || n > DRAY_SLOTS_MAX)
      return dray_error_createf(DRAY_ERR_USAGE, NULL,
                                "--global-slots %s: the count must be 1 to %d", spec,
                                DRAY_SLOTS_MAX);
    *count = (int)n;
  }
  if (len == 0 || len > 64)
    return dray_error_createf(DRAY_ERR_USAGE, NULL, "--global-slots %s: a name is needed "
                              "(at most 64 characters)", spec);
  /* The name becomes a file name: nothing that could leave the folder. */
  for (p = spec; p < spec + len; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '.' || *p == '_' || *p == '-') || (p == spec && *p == '.'))
      return dray_error_createf(DRAY_ERR_USAGE, NULL,
                                "--global-slots %s: the name may hold only letters, digits, "
                                "'.', '_' and '-' (not first '.')", spec);
  *name = apr_pstrmemdup(result_pool, spec, len);
  return DRAY_NO_ERROR;
}

dray_error_t *dray_slots_open(dray_slots_t **slots_p, const char *name, int count,
                              const char *dir, apr_pool_t *pool)
{
  dray_slots_t *slots = apr_pcalloc(pool, sizeof(*slots));
  int i;

  if (!dir)
    DRAY_APR_ERR(dray_platform_lock_dir(&dir, pool),
                 "--global-slots %s: no private folder for lock files", name);
  slots->name = apr_pstrdup(pool, name);
  slots->count = count;
  slots->files = apr_pcalloc(pool, sizeof(*slots->files) * (apr_size_t)count);
  slots->held = apr_pcalloc(pool, (apr_size_t)count);
  DRAY_APR_ERR(apr_thread_mutex_create(&slots->lock, APR_THREAD_MUTEX_DEFAULT, pool),
               "--global-slots %s", name);
  for (i = 0; i < count; i++) {
    char *path;
    DRAY_APR_ERR(apr_filepath_merge(&path, dir, apr_psprintf(pool, "%s.%d.lock", name, i), 0,
                                    pool),
                 "--global-slots %s: bad lock file name", name);
    DRAY_APR_ERR(apr_file_open(&slots->files[i], path,
                               APR_FOPEN_READ | APR_FOPEN_WRITE | APR_FOPEN_CREATE,
                               APR_FPROT_UREAD | APR_FPROT_UWRITE, pool),
                 "--global-slots %s: cannot open lock %s", name, path);
  }
  *slots_p = slots;
  return DRAY_NO_ERROR;
}

/* The first slot free here and elsewhere, taken; -1 if none. */
static apr_status_t try_slots(int *slot, dray_slots_t *slots)
{
  apr_status_t st = APR_SUCCESS;
  int i;
  *slot = -1;
  apr_thread_mutex_lock(slots->lock);
  for (i = 0; i < slots->count && *slot < 0; i++) {
    if (slots->held[i])
      continue;
    st = apr_file_lock(slots->files[i], APR_FLOCK_EXCLUSIVE | APR_FLOCK_NONBLOCK);
    if (st == APR_SUCCESS) {
      slots->held[i] = 1;
      *slot = i;
    } else if (APR_STATUS_IS_EAGAIN(st) || APR_STATUS_IS_EBUSY(st) || APR_STATUS_IS_EACCES(st)) {
      st = APR_SUCCESS; /* held by another process */
    } else {
      break;
    }
  }
  apr_thread_mutex_unlock(slots->lock);
  return st;
}

dray_error_t *dray_slots_acquire(int *slot, dray_slots_t *slots, dray_cancel_t *cancel)
{
  for (;;) {
    apr_status_t st = try_slots(slot, slots);
    if (st != APR_SUCCESS)
      return dray_error_wrap_apr(st, "push slots %s", slots->name);
    if (*slot >= 0)
      return DRAY_NO_ERROR;
    /* All held, here or elsewhere: look again soon. A wait (not a queue)
     * is enough for a handful of processes, and needs no shared state. */
    if (cancel && dray_cancel_level(cancel) > 0)
      return dray_error_createf(DRAY_ERR_CANCELLED, NULL,
                                "cancelled while waiting for a push slot of %s", slots->name);
    apr_sleep(SLOT_POLL);
  }
}

void dray_slots_release(dray_slots_t *slots, int slot)
{
  if (slot < 0 || slot >= slots->count)
    return;
  apr_thread_mutex_lock(slots->lock);
  apr_file_unlock(slots->files[slot]);
  slots->held[slot] = 0;
  apr_thread_mutex_unlock(slots->lock);
}

const char *dray_slots_describe(const dray_slots_t *slots, apr_pool_t *result_pool)
{
  return apr_psprintf(result_pool, "%s:%d", slots->name, slots->count);
}
