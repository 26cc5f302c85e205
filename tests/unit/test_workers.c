/* test_workers.c — the worker pool's mechanics, with no build or push. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <apr_atomic.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_time.h>

#include "dray/workers.h"

typedef struct counter_t {
  volatile apr_uint32_t ran, running, peak, not_started;
  apr_thread_mutex_t *lock;
  apr_thread_cond_t *cond;
  int gate_open;                 /* items block until the gate opens */
  int seen[64];                  /* per item value: times run */
} counter_t;

static void wait_gate(counter_t *c)
{
  apr_thread_mutex_lock(c->lock);
  while (!c->gate_open)
    apr_thread_cond_wait(c->cond, c->lock);
  apr_thread_mutex_unlock(c->lock);
}

static void open_gate(counter_t *c)
{
  apr_thread_mutex_lock(c->lock);
  c->gate_open = 1;
  apr_thread_cond_broadcast(c->cond);
  apr_thread_mutex_unlock(c->lock);
}

static void run_item(void *baton, void *item, apr_pool_t *scratch_pool)
{
  counter_t *c = baton;
  int v = *(int *)item;
  apr_uint32_t now = apr_atomic_inc32(&c->running) + 1, peak;
  /* The scratch pool is usable and private to this thread. */
  assert_non_null(apr_palloc(scratch_pool, 1024));
  while ((peak = apr_atomic_read32(&c->peak)) < now &&
         apr_atomic_cas32(&c->peak, now, peak) != peak)
    ;
  wait_gate(c);
  apr_sleep(apr_time_from_msec(2));
  apr_thread_mutex_lock(c->lock);
  c->seen[v]++;
  apr_thread_mutex_unlock(c->lock);
  apr_atomic_dec32(&c->running);
  apr_atomic_inc32(&c->ran);
}

static void not_started(void *baton, void *item)
{
  counter_t *c = baton;
  (void)item;
  apr_atomic_inc32(&c->not_started);
}

static int taken_back;
static void take_back(void *baton, void *item)
{
  (void)baton;
  (void)item;
  taken_back++;
}

static counter_t *make_counter(int gate_open)
{
  counter_t *c = apr_pcalloc(pool, sizeof(*c));
  assert_int_equal(apr_thread_mutex_create(&c->lock, APR_THREAD_MUTEX_DEFAULT, pool), APR_SUCCESS);
  assert_int_equal(apr_thread_cond_create(&c->cond, pool), APR_SUCCESS);
  c->gate_open = gate_open;
  return c;
}

/* Every item runs exactly once, never more than N at once, all N in use. */
static void test_runs_each_item_once_within_limit(void **state)
{
  (void)state;
  counter_t *c = make_counter(0);
  dray_workers_t *w;
  int items[40], i;

  assert_int_equal(dray_workers_create(&w, 3, 40, run_item, not_started, c, pool), APR_SUCCESS);
  assert_int_equal(dray_workers_threads(w), 3);
  for (i = 0; i < 40; i++) {
    items[i] = i;
    assert_int_equal(dray_workers_submit(w, &items[i]), APR_SUCCESS);
  }
  /* Let the three threads pick up their first items, then open the gate. */
  while (apr_atomic_read32(&c->running) < 3)
    apr_sleep(apr_time_from_msec(1));
  open_gate(c);
  dray_workers_destroy(w); /* queued items run before the threads stop */
  assert_int_equal(apr_atomic_read32(&c->ran), 40);
  assert_int_equal(apr_atomic_read32(&c->peak), 3);
  assert_int_equal(apr_atomic_read32(&c->not_started), 0);
  for (i = 0; i < 40; i++)
    assert_int_equal(c->seen[i], 1);
}

/* Drain: queued items come back to the caller, running ones finish, and
 * nothing submitted afterwards is accepted. */
static void test_drain_hands_back_queued_items(void **state)
{
  (void)state;
  counter_t *c = make_counter(0);
  dray_workers_t *w;
  int items[10], i, extra = 99;

  assert_int_equal(dray_workers_create(&w, 2, 10, run_item, not_started, c, pool), APR_SUCCESS);
  for (i = 0; i < 10; i++) {
    items[i] = i;
    assert_int_equal(dray_workers_submit(w, &items[i]), APR_SUCCESS);
  }
  while (apr_atomic_read32(&c->running) < 2)
    apr_sleep(apr_time_from_msec(1));
  taken_back = 0;
  dray_workers_drain(w, take_back, NULL);
  assert_int_equal(dray_workers_submit(w, &extra), APR_EOF);
  open_gate(c);
  dray_workers_destroy(w);
  /* The two running items finished; the other eight were not run. */
  assert_int_equal(apr_atomic_read32(&c->ran), 2);
  assert_int_equal(taken_back + (int)apr_atomic_read32(&c->not_started), 8);
  assert_true(taken_back >= 7); /* at most one raced into a thread */
}

/* The queue holds what it was sized for and says when it is full. */
static void test_full_queue_says_so(void **state)
{
  (void)state;
  counter_t *c = make_counter(0);
  dray_workers_t *w;
  int items[8], i;
  apr_status_t st = APR_SUCCESS;

  assert_int_equal(dray_workers_create(&w, 0, 2, run_item, not_started, c, pool), APR_SUCCESS);
  for (i = 0; i < 8 && st == APR_SUCCESS; i++) {
    items[i] = i;
    st = dray_workers_submit(w, &items[i]);
  }
  assert_int_equal(st, APR_EAGAIN);
  assert_true(i > 2);
  taken_back = 0;
  dray_workers_drain(w, take_back, NULL);
  assert_int_equal(taken_back, i - 1);
  dray_workers_destroy(w);
  assert_int_equal(apr_atomic_read32(&c->ran), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_runs_each_item_once_within_limit),
    cmocka_unit_test(test_drain_hands_back_queued_items),
    cmocka_unit_test(test_full_queue_says_so),
  };
  int rc;
  apr_initialize();
  rc = cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
  apr_terminate();
  return rc;
}
