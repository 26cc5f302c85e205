/* cancel.h — one cancellation token per run.
 *
 * Anything that can be stopped (a child process, a curl transfer) registers a
 * callback while it runs. The scheduler triggers the token on the second
 * Ctrl+C: first politely (interrupt), and after a grace period by force.
 */
#ifndef DRAY_CANCEL_H
#define DRAY_CANCEL_H

#include <apr_pools.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dray_cancel_t dray_cancel_t;
typedef struct dray_cancel_reg_t dray_cancel_reg_t;

/* FORCE is 0 for "please stop" (SIGINT, Ctrl+Break, close a connection) and
 * 1 for "stop now" (SIGKILL, TerminateJobObject). Called with the token's lock
 * held: keep it short and never call back into the token. */
typedef void (*dray_cancel_fn)(void *baton, int force);

apr_status_t dray_cancel_create(dray_cancel_t **token, apr_pool_t *pool);

/* 0 while running, 1 once interrupted, 2 once forced. Thread-safe. */
int dray_cancel_level(dray_cancel_t *token);

/* Raise the level to 1 (FORCE 0) or 2 (FORCE 1) and call every registered
 * callback with FORCE. Thread-safe. */
void dray_cancel_trigger(dray_cancel_t *token, int force);

/* Sleep for INTERVAL, or less if TOKEN (or NULL) is triggered meanwhile
 * (checked every 50 ms). Returns whether it was. */
int dray_cancel_sleep(dray_cancel_t *token, apr_interval_time_t interval);

/* Register FN while an operation runs. Returns DRAY_ERR_CANCELLED (and registers
 * nothing) if the token was already triggered, so that nothing new starts
 * after a cancel.
 *
 * The registration belongs to POOL: a cleanup on POOL removes it, so a
 * caller makes POOL live exactly as long as the operation (a subpool it
 * destroys when the operation is over) and has nothing to undo by hand on
 * any exit path. Once that cleanup (or dray_cancel_unregister) has returned,
 * FN is not running and is never called again, so FN's baton may live in
 * POOL too. TOKEN must outlive POOL. REG may be NULL when the caller never
 * unregisters by hand; otherwise *REG is set on success (NULL on failure). */
apr_status_t dray_cancel_register(dray_cancel_reg_t **reg, dray_cancel_t *token,
                                  dray_cancel_fn fn, void *baton,
                                  apr_pool_t *pool);

/* Remove REG now, before its pool goes (e.g. as soon as a transfer ends).
 * Idempotent: a second call, and the pool cleanup afterwards, do nothing.
 * REG may be NULL; its pool must not be gone yet. */
void dray_cancel_unregister(dray_cancel_reg_t *reg);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_CANCEL_H */
