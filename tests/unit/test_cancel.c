/* Unit tests: the cancellation token (include/dray/cancel.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_atomic.h>
#include <apr_general.h>
#include <apr_thread_proc.h>

#include "dray/cancel.h"

#include "testutil.h"

/* What a callback saw: how often, and with which FORCE, in order. */
typedef struct calls_t {
  int n;
  int force[8];
} calls_t;

static void record(void *baton, int force)
{
  calls_t *c = baton;
  if (c->n < (int)(sizeof(c->force) / sizeof(c->force[0])))
    c->force[c->n] = force;
  c->n++;
}

static dray_cancel_t *new_token(void)
{
  dray_cancel_t *token = NULL;
  assert_int_equal(dray_cancel_create(&token, pool), APR_SUCCESS);
  assert_non_null(token);
  return token;
}

static void test_levels(void **state)
{
  dray_cancel_t *token = new_token();
  (void)state;

  assert_int_equal(dray_cancel_level(token), 0);
  dray_cancel_trigger(token, 0);
  assert_int_equal(dray_cancel_level(token), 1);
  dray_cancel_trigger(token, 0); /* a repeat changes nothing */
  assert_int_equal(dray_cancel_level(token), 1);
  dray_cancel_trigger(token, 1);
  assert_int_equal(dray_cancel_level(token), 2);
  dray_cancel_trigger(token, 0); /* never goes back down */
  assert_int_equal(dray_cancel_level(token), 2);

  /* Forced at once, without the polite stage first. */
  token = new_token();
  dray_cancel_trigger(token, 1);
  assert_int_equal(dray_cancel_level(token), 2);
}

static void test_trigger_calls_every_registration(void **state)
{
  dray_cancel_t *token = new_token();
  calls_t a = {0}, b = {0};
  dray_cancel_reg_t *ra = NULL, *rb = NULL;
  apr_pool_t *op;
  (void)state;

  apr_pool_create(&op, pool);
  assert_int_equal(dray_cancel_register(&ra, token, record, &a, op), APR_SUCCESS);
  assert_int_equal(dray_cancel_register(&rb, token, record, &b, op), APR_SUCCESS);
  assert_non_null(ra);
  assert_non_null(rb);
  assert_int_equal(a.n, 0); /* registering calls nothing */

  dray_cancel_trigger(token, 0);
  dray_cancel_trigger(token, 1);
  assert_int_equal(a.n, 2);
  assert_int_equal(a.force[0], 0);
  assert_int_equal(a.force[1], 1);
  assert_int_equal(b.n, 2);
  assert_int_equal(b.force[0], 0);
  assert_int_equal(b.force[1], 1);
  apr_pool_destroy(op);
}

static void test_register_after_trigger_fails(void **state)
{
  dray_cancel_t *token = new_token();
  calls_t a = {0};
  dray_cancel_reg_t *reg = (dray_cancel_reg_t *)&a; /* must be reset */
  apr_pool_t *op;
  (void)state;

  apr_pool_create(&op, pool);
  dray_cancel_trigger(token, 0);
  assert_int_equal(dray_cancel_register(&reg, token, record, &a, op), DRAY_ERR_CANCELLED);
  assert_null(reg);
  assert_int_equal(dray_cancel_register(NULL, token, record, &a, op), DRAY_ERR_CANCELLED);
  dray_cancel_trigger(token, 1);
  assert_int_equal(a.n, 0); /* nothing was registered */
  apr_pool_destroy(op);
}

/* The pool the registration lives in takes it away: a later trigger does
 * not call the callback (under ASan a call would read freed memory). */
static void test_pool_destroy_unregisters(void **state)
{
  dray_cancel_t *token = new_token();
  calls_t kept = {0};
  calls_t *gone;
  apr_pool_t *op, *op2;
  (void)state;

  apr_pool_create(&op, pool);
  gone = apr_pcalloc(op, sizeof(*gone)); /* the baton dies with the pool */
  assert_int_equal(dray_cancel_register(NULL, token, record, gone, op), APR_SUCCESS);
  apr_pool_create(&op2, pool);
  assert_int_equal(dray_cancel_register(NULL, token, record, &kept, op2), APR_SUCCESS);
  apr_pool_destroy(op);

  dray_cancel_trigger(token, 0);
  assert_int_equal(kept.n, 1);

  /* A cleared pool runs its cleanups too. */
  apr_pool_clear(op2);
  dray_cancel_trigger(token, 1);
  assert_int_equal(kept.n, 1);
  apr_pool_destroy(op2);
}

/* By hand, twice, and then the pool: removed once, no crash, and the other
 * registrations on the token are left alone. */
static void test_unregister_idempotent(void **state)
{
  dray_cancel_t *token = new_token();
  calls_t a = {0}, b = {0}, c = {0};
  dray_cancel_reg_t *ra, *rb, *rc;
  apr_pool_t *op;
  (void)state;

  apr_pool_create(&op, pool);
  assert_int_equal(dray_cancel_register(&ra, token, record, &a, op), APR_SUCCESS);
  assert_int_equal(dray_cancel_register(&rb, token, record, &b, op), APR_SUCCESS);
  assert_int_equal(dray_cancel_register(&rc, token, record, &c, op), APR_SUCCESS);
  dray_cancel_unregister(rb);
  dray_cancel_unregister(rb);
  dray_cancel_unregister(NULL);
  dray_cancel_trigger(token, 0);
  assert_int_equal(a.n, 1);
  assert_int_equal(b.n, 0);
  assert_int_equal(c.n, 1);

  dray_cancel_unregister(ra);
  dray_cancel_trigger(token, 1);
  assert_int_equal(a.n, 1);
  assert_int_equal(c.n, 2);
  apr_pool_destroy(op); /* cleanups of ra and rb find nothing to do */
  dray_cancel_trigger(token, 1);
  assert_int_equal(c.n, 2);
}

/* ---- threads ------------------------------------------------------------- */

#define THREADS 8
#define REFUSALS 50       /* each thread stops after this many refusals */
#define MAX_ROUNDS 200000 /* a bound, should the trigger never come */

typedef struct smoke_t {
  dray_cancel_t *token;
  volatile apr_uint32_t registered; /* successful registrations */
  volatile apr_uint32_t refused;    /* DRAY_ERR_CANCELLED */
  volatile apr_uint32_t calls;      /* callbacks run */
  volatile apr_uint32_t bad;        /* anything unexpected */
} smoke_t;

typedef struct op_t {
  smoke_t *smoke;
  volatile apr_uint32_t alive;      /* 0 once the registration is gone */
} op_t;

static void count_call(void *baton, int force)
{
  op_t *op = baton;
  if (apr_atomic_read32(&op->alive) != 1 || (force != 0 && force != 1))
    apr_atomic_inc32(&op->smoke->bad);
  apr_atomic_inc32(&op->smoke->calls);
}

/* Registered before the registration, so it runs after the registration's
 * own cleanup (LIFO): from here on no callback may see OP. */
static apr_status_t mark_dead(void *data)
{
  op_t *op = data;
  apr_atomic_set32(&op->alive, 0);
  return APR_SUCCESS;
}

/* Register and drop registrations in a loop, each in a pool of its own,
 * half of them by hand first, while the main thread triggers. */
static void *APR_THREAD_FUNC churn(apr_thread_t *thd, void *data)
{
  smoke_t *smoke = data;
  apr_pool_t *root;
  int i, refusals = 0;

  (void)thd;
  apr_pool_create(&root, NULL); /* every thread has a root pool of its own */
  for (i = 0; i < MAX_ROUNDS && refusals < REFUSALS; i++) {
    apr_pool_t *p;
    op_t *op;
    dray_cancel_reg_t *reg = NULL;
    apr_status_t st;

    apr_pool_create(&p, root);
    op = apr_pcalloc(p, sizeof(*op));
    op->smoke = smoke;
    apr_atomic_set32(&op->alive, 1);
    apr_pool_cleanup_register(p, op, mark_dead, apr_pool_cleanup_null);
    st = dray_cancel_register(&reg, smoke->token, count_call, op, p);
    if (st == APR_SUCCESS) {
      apr_atomic_inc32(&smoke->registered);
    } else if (st == DRAY_ERR_CANCELLED) {
      apr_atomic_inc32(&smoke->refused);
      refusals++;
    } else {
      apr_atomic_inc32(&smoke->bad);
    }
    if (i % 2) {
      dray_cancel_unregister(reg);
      apr_atomic_set32(&op->alive, 0);
    }
    apr_pool_destroy(p); /* unregisters (or finds it done), then OP is gone */
  }
  apr_pool_destroy(root);
  /* A plain return, not apr_thread_exit: pthread_exit unwinding trips ASan. */
  return NULL;
}

static void test_threads(void **state)
{
  apr_thread_t *threads[THREADS];
  smoke_t smoke;
  apr_status_t rv;
  apr_uint32_t calls;
  int i;
  (void)state;

  memset(&smoke, 0, sizeof(smoke));
  smoke.token = new_token();
  for (i = 0; i < THREADS; i++)
    assert_int_equal(apr_thread_create(&threads[i], NULL, churn, &smoke, pool), APR_SUCCESS);
  /* Let them churn a while, then cancel in the middle of it. */
  while (apr_atomic_read32(&smoke.registered) < THREADS * 500)
    apr_thread_yield();
  dray_cancel_trigger(smoke.token, 0);
  dray_cancel_trigger(smoke.token, 1);
  /* The threads return rather than call apr_thread_exit (ASan), and APR on
   * Windows then answers a join with APR_INCOMPLETE: only waiting counts. */
  for (i = 0; i < THREADS; i++)
    apr_thread_join(&rv, threads[i]);

  assert_int_equal(apr_atomic_read32(&smoke.bad), 0);
  assert_true(apr_atomic_read32(&smoke.registered) >= THREADS * 500);
  /* Every thread saw the trigger and was refused from then on. */
  assert_int_equal(apr_atomic_read32(&smoke.refused), THREADS * REFUSALS);
  assert_int_equal(dray_cancel_level(smoke.token), 2);
  /* Nothing is left registered: a further trigger calls no one. */
  calls = apr_atomic_read32(&smoke.calls);
  dray_cancel_trigger(smoke.token, 1);
  assert_int_equal(apr_atomic_read32(&smoke.calls), calls);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_levels),
    cmocka_unit_test(test_trigger_calls_every_registration),
    cmocka_unit_test(test_register_after_trigger_fails),
    cmocka_unit_test(test_pool_destroy_unregisters),
    cmocka_unit_test(test_unregister_idempotent),
    cmocka_unit_test(test_threads),
  };
  int rc;
  apr_initialize();
  rc = cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
  apr_terminate();
  return rc;
}
