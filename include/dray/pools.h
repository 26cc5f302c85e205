/* pools.h — how dray makes its APR pools: one out-of-memory policy, and
 * pools that several threads may share as a parent.
 *
 * Every pool has a parent. The root pool gets dray_pool_abort as its abort
 * function, and every pool below inherits it: an allocation that fails ends
 * dray with a message instead of returning NULL to code that never checks
 * (Subversion's policy).
 */
#ifndef DRAY_POOLS_H
#define DRAY_POOLS_H

#include <apr_pools.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The abort function: prints "dray: out of memory" and aborts. */
int dray_pool_abort(int retcode);

/* The root pool of a program (main, a test): a child of APR's global pool
 * with dray_pool_abort. */
apr_pool_t *dray_pool_create_root(void);

/* A subpool of PARENT (never NULL: dray has no parentless pools but the
 * root). Fails only for lack of memory, which is the abort function's: the
 * one policy, so no caller checks. */
apr_pool_t *dray_pool_create_sub(apr_pool_t *parent);

/* A child of PARENT with an allocator of its own that has a mutex, so that
 * threads may create and destroy children of it at the same time (each
 * child still belongs to one thread at a time). */
apr_status_t dray_pool_create_threadsafe(apr_pool_t **pool, apr_pool_t *parent);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_POOLS_H */
