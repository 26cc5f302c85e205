/* slots.h — machine-wide push slots (--global-slots NAME[:N]).
 *
 * Several dray processes on one host (parallel CI jobs sharing an uplink)
 * share N push slots: slot K is an exclusive lock (apr_file_lock) on the
 * file NAME.K.lock in the user's lock folder (platform.h). A pusher takes
 * the first free slot, trying each in turn, and waits while all are held.
 * The lock dies with the process that holds it, so a dray killed outright
 * frees its slots at once. Thread-safe: every pusher thread of a run uses
 * one set.
 */
#ifndef DRAY_SLOTS_H
#define DRAY_SLOTS_H

#include <apr_pools.h>

#include "dray/cancel.h"
#include "dray/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DRAY_SLOTS_DEFAULT 2
#define DRAY_SLOTS_MAX 64

typedef struct dray_slots_t dray_slots_t;

/* Parse "NAME[:N]" (NAME: letters, digits, '.', '_', '-'; N 1..64, default
 * DRAY_SLOTS_DEFAULT): DRAY_ERR_USAGE naming SPEC otherwise. */
dray_error_t *dray_slots_parse(const char **name, int *count, const char *spec,
                               apr_pool_t *result_pool);

/* Open the COUNT slots called NAME in DIR (NULL: the platform's lock
 * folder), living in POOL. */
dray_error_t *dray_slots_open(dray_slots_t **slots, const char *name, int count,
                              const char *dir, apr_pool_t *pool);

/* Take a free slot (*SLOT gets its number), waiting while all are held;
 * DRAY_ERR_CANCELLED once CANCEL (or NULL) is triggered while waiting. */
dray_error_t *dray_slots_acquire(int *slot, dray_slots_t *slots, dray_cancel_t *cancel);

/* Give SLOT back. */
void dray_slots_release(dray_slots_t *slots, int slot);

/* "NAME:N", for messages and the report. */
const char *dray_slots_describe(const dray_slots_t *slots, apr_pool_t *result_pool);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_SLOTS_H */
