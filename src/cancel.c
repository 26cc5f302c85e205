/* cancel.c — a cancellation token: a level and a list of live operations.
 *
 * The list is a plain doubly linked one, not APR_RING: APR's ring macros
 * treat the head as a fake element (APR_RING_SENTINEL, an offset back from
 * the head computed with APR_OFFSETOF's member access through a null
 * pointer), which clang's UBSan reports as "member access within null
 * pointer" on every token (gcc's does not). */
#include "dray/cancel.h"

#include <apr_thread_mutex.h>

#include "dray/error.h"

struct dray_cancel_reg_t {
  dray_cancel_reg_t *prev, *next; /* on the token's list, while LINKED */
  dray_cancel_t *token;
  dray_cancel_fn fn;
  void *baton;
  int linked;          /* on the token's list; guarded by the token's lock */
};

struct dray_cancel_t {
  apr_thread_mutex_t *lock;
  int level;
  dray_cancel_reg_t *first, *last; /* registrations, oldest first */
};

apr_status_t dray_cancel_create(dray_cancel_t **token, apr_pool_t *pool)
{
  dray_cancel_t *t = apr_pcalloc(pool, sizeof(*t));
  apr_status_t status = apr_thread_mutex_create(&t->lock, APR_THREAD_MUTEX_DEFAULT, pool);
  if (status != APR_SUCCESS)
    return status;
  *token = t;
  return APR_SUCCESS;
}

int dray_cancel_level(dray_cancel_t *token)
{
  int level;
  apr_thread_mutex_lock(token->lock);
  level = token->level;
  apr_thread_mutex_unlock(token->lock);
  return level;
}

void dray_cancel_trigger(dray_cancel_t *token, int force)
{
  dray_cancel_reg_t *reg;
  int level = force ? 2 : 1;

  apr_thread_mutex_lock(token->lock);
  if (token->level < level)
    token->level = level;
  for (reg = token->first; reg; reg = reg->next)
    reg->fn(reg->baton, force);
  apr_thread_mutex_unlock(token->lock);
}

/* Take REG off its token's list unless that was done already. Taking the
 * lock also waits for a trigger that is calling REG's callback right now. */
static void unlink_reg(dray_cancel_reg_t *reg)
{
  dray_cancel_t *token = reg->token;
  apr_thread_mutex_lock(token->lock);
  if (reg->linked) {
    if (reg->prev)
      reg->prev->next = reg->next;
    else
      token->first = reg->next;
    if (reg->next)
      reg->next->prev = reg->prev;
    else
      token->last = reg->prev;
    reg->prev = reg->next = NULL;
    reg->linked = 0;
  }
  apr_thread_mutex_unlock(token->lock);
}

static apr_status_t reg_cleanup(void *data)
{
  unlink_reg(data);
  return APR_SUCCESS;
}

apr_status_t dray_cancel_register(dray_cancel_reg_t **reg_p, dray_cancel_t *token,
                                  dray_cancel_fn fn, void *baton,
                                  apr_pool_t *pool)
{
  dray_cancel_reg_t *reg;
  apr_status_t status = APR_SUCCESS;

  if (reg_p)
    *reg_p = NULL;
  /* Allocated and its cleanup set up before it is linked: once on the list
   * it must already be sure to come off it when POOL goes. */
  reg = apr_pcalloc(pool, sizeof(*reg));
  reg->token = token;
  reg->fn = fn;
  reg->baton = baton;
  apr_pool_cleanup_register(pool, reg, reg_cleanup, apr_pool_cleanup_null);

  apr_thread_mutex_lock(token->lock);
  if (token->level > 0) {
    status = DRAY_ERR_CANCELLED;
  } else {
    reg->prev = token->last;
    if (token->last)
      token->last->next = reg;
    else
      token->first = reg;
    token->last = reg;
    reg->linked = 1;
  }
  apr_thread_mutex_unlock(token->lock);

  if (status != APR_SUCCESS)
    apr_pool_cleanup_kill(pool, reg, reg_cleanup);
  else if (reg_p)
    *reg_p = reg;
  return status;
}

void dray_cancel_unregister(dray_cancel_reg_t *reg)
{
  if (reg)
    unlink_reg(reg);
}

int dray_cancel_sleep(dray_cancel_t *token, apr_interval_time_t interval)
{
  apr_time_t until = apr_time_now() + interval;
  for (;;) {
    apr_time_t now = apr_time_now();
    if (token && dray_cancel_level(token) > 0)
      return 1;
    if (now >= until)
      return 0;
    apr_sleep(until - now < apr_time_from_msec(50) ? until - now : apr_time_from_msec(50));
  }
}
