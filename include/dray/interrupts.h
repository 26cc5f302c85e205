/* interrupts.h — Ctrl+C and its kin for a whole command, not only while the
 * pipeline runs.
 *
 * main installs the platform's handler once, before it reads anything, and
 * removes it after the report is written. While the pipeline runs, each
 * interrupt goes to it at once; before, they are kept and handed over when
 * the pipeline attaches (it then drains or cancels at once, and every image
 * ends interrupted in the report); after, they are counted, so that the
 * exit code is 130 and the report says the run was interrupted. A Ctrl+C
 * at any moment thus ends the command through its own code path, never by
 * the signal's default action with no report.
 */
#ifndef DRAY_INTERRUPTS_H
#define DRAY_INTERRUPTS_H

#include <apr_pools.h>

#include "dray/platform.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Install the platform's handler (once per process), in POOL. */
apr_status_t dray_interrupts_begin(apr_pool_t *pool);

/* Deliver interrupts to FN from now on, first those kept so far. */
void dray_interrupts_attach(dray_interrupt_fn fn, void *baton);

/* Keep interrupts again (FN is not called once this returns). */
void dray_interrupts_detach(void);

/* Interrupts kept since the last attach or take, and forget them. */
int dray_interrupts_take(void);

/* Remove the platform's handler. */
void dray_interrupts_end(void);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_INTERRUPTS_H */
