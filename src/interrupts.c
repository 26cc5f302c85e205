/* interrupts.c — keep or deliver interrupts; see interrupts.h. */
#include "dray/interrupts.h"

#include <apr_thread_mutex.h>

#define KEPT_MAX 8  /* more than three already means "stop now" */

static apr_thread_mutex_t *lock;
static dray_interrupt_fn target;
static void *target_baton;
static dray_interrupt_kind_t kept[KEPT_MAX];
static int nkept, installed;

/* On the platform's watcher thread. Delivering under the lock keeps a
 * detach from returning while the target runs. */
static void on_interrupt(void *baton, dray_interrupt_kind_t kind)
{
  (void)baton;
  apr_thread_mutex_lock(lock);
  if (target)
    target(target_baton, kind);
  else if (nkept < KEPT_MAX)
    kept[nkept++] = kind;
  apr_thread_mutex_unlock(lock);
}

apr_status_t dray_interrupts_begin(apr_pool_t *pool)
{
  apr_status_t st;
  if (installed)
    return APR_EEXIST;
  if ((st = apr_thread_mutex_create(&lock, APR_THREAD_MUTEX_DEFAULT, pool)))
    return st;
  if ((st = dray_platform_interrupts_start(on_interrupt, NULL, pool)))
    return st;
  installed = 1;
  return APR_SUCCESS;
}

void dray_interrupts_attach(dray_interrupt_fn fn, void *baton)
{
  int i;
  if (!installed)
    return;
  apr_thread_mutex_lock(lock);
  target = fn;
  target_baton = baton;
  for (i = 0; i < nkept; i++)
    fn(baton, kept[i]);
  nkept = 0;
  apr_thread_mutex_unlock(lock);
}

void dray_interrupts_detach(void)
{
  if (!installed)
    return;
  apr_thread_mutex_lock(lock);
  target = NULL;
  target_baton = NULL;
  apr_thread_mutex_unlock(lock);
}

int dray_interrupts_take(void)
{
  int n;
  if (!installed)
    return 0;
  apr_thread_mutex_lock(lock);
  n = nkept;
  nkept = 0;
  apr_thread_mutex_unlock(lock);
  return n;
}

void dray_interrupts_end(void)
{
  if (!installed)
    return;
  dray_platform_interrupts_stop();
  installed = 0;
  target = NULL;
  nkept = 0;
}
