/* http.h — the one place where libcurl easy handles are set up.
 *
 * Every handle dray opens (engine API, registry, token server, the push
 * stream) gets the same base: NOSIGNAL (threads), a connect timeout, a
 * low-speed limit unless the caller has its own watchdog, http and https
 * only (redirects too), an error buffer, and a progress callback that
 * aborts the transfer once a dray_cancel_t is triggered. Then the
 * transport: a unix socket or TCP, TLS verified (optionally with CA and
 * client certificate files) or, for an insecure endpoint, not.
 *
 * The handle lives in a pool: a pool cleanup frees the curl handle and the
 * header list, so no exit path has to.
 */
#ifndef DRAY_HTTP_H
#define DRAY_HTTP_H

#include <apr_pools.h>
#include <curl/curl.h>

#include "dray/cancel.h"
#include "dray/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DRAY_HTTP_CONNECT_TIMEOUT_SEC 15

typedef struct dray_http_options_t {
  const char *url;             /* required */
  const char *unix_socket;     /* connect to this socket instead of the URL's host */
  long connect_timeout_sec;    /* 0: DRAY_HTTP_CONNECT_TIMEOUT_SEC */
  long low_speed_time_sec;     /* abort when under 1 byte/s this long; 0: never
                                  (for a caller with a watchdog of its own) */
  int max_redirects;           /* follow up to this many; 0: do not follow */
  int tcp_keepalive;
  int tls_insecure;            /* https without verifying peer and host name */
  const char *ca_file;         /* PEM files, or NULL */
  const char *cert_file;       /* client certificate; needs key_file */
  const char *key_file;
  dray_cancel_t *cancel;       /* or NULL */
  /* Replaces the default progress callback (which only checks CANCEL). It
   * must check CANCEL itself: return non-zero to abort. */
  curl_xferinfo_callback xferinfo;
  void *xferinfo_data;
} dray_http_options_t;

/* Apply OPTS to CURL (the low level: no error buffer, nothing freed for
 * the caller). With the default progress callback OPTS->CANCEL must
 * outlive the transfer. DRAY_ERR_HTTP if curl refuses an option or OPTS
 * makes no sense (no URL, a certificate without its key). */
dray_error_t *dray_http_easy_setup(CURL *curl, const dray_http_options_t *opts);

typedef struct dray_http_t dray_http_t;

/* A new handle set up from OPTS (dray_http_easy_setup) with an error
 * buffer, in POOL: freed with it, or earlier by dray_http_handle_destroy. */
dray_error_t *dray_http_handle_create(dray_http_t **h,
                                      const dray_http_options_t *opts,
                                      apr_pool_t *pool);

/* The curl handle, for the request's own options and for curl_easy_getinfo. */
CURL *dray_http_curl(dray_http_t *h);

/* curl_easy_setopt with a check: DRAY_ERR_HTTP naming WHAT on failure. */
dray_error_t *dray_http_setopt_long(dray_http_t *h, CURLoption option, long value,
                                    const char *what);
dray_error_t *dray_http_setopt_ptr(dray_http_t *h, CURLoption option, const void *value,
                                   const char *what);

/* Body and header callbacks (curl_write_callback for both). */
dray_error_t *dray_http_set_write(dray_http_t *h, curl_write_callback fn, void *baton);
dray_error_t *dray_http_set_header_fn(dray_http_t *h, curl_write_callback fn, void *baton);

/* The request body comes from FN, SIZE bytes (for CURLOPT_UPLOAD). */
dray_error_t *dray_http_set_read(dray_http_t *h, curl_read_callback fn, void *baton,
                                 curl_off_t size);

/* Add a request header "Name: value" (copied by curl). */
dray_error_t *dray_http_add_header(dray_http_t *h, const char *line);

/* Run the request. WHAT starts the messages ("engine H: GET /x"):
 * DRAY_ERR_CANCELLED "WHAT: cancelled" when the progress callback aborted
 * (a caller with its own callback knows better why, e.g. a stall),
 * DRAY_ERR_HTTP "WHAT: <curl's error>" for any other failure (see
 * dray_http_error). An HTTP status is no failure here: see
 * dray_http_status. */
dray_error_t *dray_http_perform(dray_http_t *h, const char *what);

/* The error for a transfer that ended with RC (not CURLE_OK): DRAY_ERR_HTTP
 * "WHAT: DETAIL" (DETAIL NULL: curl's words for RC), with a DRAY_ERR_NET_*
 * tag in its chain saying how the transport failed, where curl says:
 * the one place curl's codes become dray's. */
dray_error_t *dray_http_error(int rc, const char *what, const char *detail);

/* URL as messages and logs show it: without user information and without
 * its query and fragment ("?…" marks a dropped query). An upload session's
 * URL carries the registry's signed state, and a registry may sign what it
 * hands out there: capabilities, not for logs (and long). */
const char *dray_http_url_shown(const char *url, apr_pool_t *result_pool);

/* The last response's HTTP status, 0 if none. */
long dray_http_status(dray_http_t *h);

/* The value of header NAME (any case) if LINE (LEN bytes, as a header
 * callback gets it) is that header, trimmed; else NULL. */
const char *dray_http_header_value(const char *line, apr_size_t len, const char *name,
                                   apr_pool_t *result_pool);

/* Whether HOST ("name", "name:port", "[v6]:port", a bare v6 address)
 * names this machine over loopback: localhost, 127.0.0.0/8, ::1. */
int dray_http_host_is_loopback(const char *host);

/* Free the curl handle now rather than with the pool. */
void dray_http_handle_destroy(dray_http_t *h);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_HTTP_H */
