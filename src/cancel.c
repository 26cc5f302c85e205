/* cancel.c — a cancellation token: a level and a list of live operations. */
#include "dray/cancel.h"

#include <apr_ring.h>
#include <apr_thread_mutex.h>

#include "dray/error.h"

struct dray_cancel_reg_t {
  APR_RING_ENTRY(dray_cancel_reg_t) link;
  dray_cancel_t *token;
  dray_cancel_fn fn;
  void *baton;
  int linked;          /* on the token's ring; guarded by the token's lock */
};

APR_RING_HEAD(reg_ring, dray_cancel_reg_t);

struct dray_cancel_t {
  apr_thread_mutex_t *lock;
  int level;
  struct reg_ring regs;
};

apr_status_t dray_cancel_create(dray_cancel_t **token, apr_pool_t *pool)
{
  dray_cancel_t *t = apr_pcalloc(pool, sizeof(*t));
  apr_status_t status = apr_thread_mutex_create(&t->lock, APR_THREAD_MUTEX_DEFAULT, pool);
  if (status != APR_SUCCESS)
    return status;
  APR_RING_INIT(&t->regs, dray_cancel_reg_t, link);
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
  for (reg = APR_RING_FIRST(&token->regs);
       reg != APR_RING_SENTINEL(&token->regs, dray_cancel_reg_t, link);
       reg = APR_RING_NEXT(reg, link))
    reg->fn(reg->baton, force);
  apr_thread_mutex_unlock(token->lock);
}

/* Take REG off its token's ring unless that was done already. Taking the
 * lock also waits for a trigger that is calling REG's callback right now. */
static void unlink_reg(dray_cancel_reg_t *reg)
{
  dray_cancel_t *token = reg->token;
  apr_thread_mutex_lock(token->lock);
  if (reg->linked) {
    APR_RING_REMOVE(reg, link);
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
  /* Allocated and its cleanup set up before it is linked: once on the ring
   * it must already be sure to come off it when POOL goes. */
  reg = apr_pcalloc(pool, sizeof(*reg));
  reg->token = token;
  reg->fn = fn;
  reg->baton = baton;
  APR_RING_ELEM_INIT(reg, link);
  apr_pool_cleanup_register(pool, reg, reg_cleanup, apr_pool_cleanup_null);

  apr_thread_mutex_lock(token->lock);
  if (token->level > 0) {
    status = DRAY_ERR_CANCELLED;
  } else {
    APR_RING_INSERT_TAIL(&token->regs, reg, dray_cancel_reg_t, link);
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
