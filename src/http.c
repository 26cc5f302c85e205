/* http.c — libcurl easy handles with dray's common settings. */
#include "dray/http.h"

#include <string.h>

#include <apr_cstr.h>
#include <apr_strings.h>

struct dray_http_t {
  CURL *curl;
  struct curl_slist *headers;
  apr_pool_t *pool;
  char errbuf[CURL_ERROR_SIZE];
};

static apr_status_t cleanup_handle(void *baton)
{
  dray_http_t *h = baton;
  if (h->curl)
    curl_easy_cleanup(h->curl);
  curl_slist_free_all(h->headers);
  h->curl = NULL;
  h->headers = NULL;
  return APR_SUCCESS;
}

static int cancel_xferinfo(void *baton, curl_off_t dltotal, curl_off_t dlnow,
                           curl_off_t ultotal, curl_off_t ulnow)
{
  dray_cancel_t *cancel = baton;
  (void)dltotal;
  (void)dlnow;
  (void)ultotal;
  (void)ulnow;
  return cancel && dray_cancel_level(cancel) > 0;
}

static dray_error_t *check(CURLcode rc, const char *what)
{
  if (rc == CURLE_OK)
    return DRAY_NO_ERROR;
  return dray_error_createf(DRAY_ERR_HTTP, NULL, "cannot set up the HTTP request (%s): %s", what,
                            curl_easy_strerror(rc));
}

dray_error_t *dray_http_setopt_long(dray_http_t *h, CURLoption option, long value,
                                    const char *what)
{
  return check(curl_easy_setopt(h->curl, option, value), what);
}

dray_error_t *dray_http_setopt_ptr(dray_http_t *h, CURLoption option, const void *value,
                                   const char *what)
{
  return check(curl_easy_setopt(h->curl, option, value), what);
}

dray_error_t *dray_http_set_write(dray_http_t *h, curl_write_callback fn, void *baton)
{
  DRAY_ERR(check(curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, fn), "write callback"));
  return check(curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, baton), "write callback");
}

dray_error_t *dray_http_set_read(dray_http_t *h, curl_read_callback fn, void *baton,
                                 curl_off_t size)
{
  DRAY_ERR(check(curl_easy_setopt(h->curl, CURLOPT_READFUNCTION, fn), "read callback"));
  DRAY_ERR(check(curl_easy_setopt(h->curl, CURLOPT_READDATA, baton), "read callback"));
  return check(curl_easy_setopt(h->curl, CURLOPT_INFILESIZE_LARGE, size), "body size");
}

dray_error_t *dray_http_set_header_fn(dray_http_t *h, curl_write_callback fn, void *baton)
{
  DRAY_ERR(check(curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, fn), "header callback"));
  return check(curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, baton), "header callback");
}

dray_error_t *dray_http_add_header(dray_http_t *h, const char *line)
{
  struct curl_slist *list = curl_slist_append(h->headers, line);
  if (!list)
    return dray_error_create(DRAY_ERR_HTTP, NULL,
                             "cannot set up the HTTP request: out of memory for a header");
  h->headers = list;
  return check(curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers), "headers");
}

/* Where the request goes: socket or TCP, and TLS. */
static dray_error_t *set_transport(CURL *c, const dray_http_options_t *o)
{
  if (o->unix_socket)
    DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, o->unix_socket), "socket"));
  if (o->tcp_keepalive)
    DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L), "keepalive"));
  if (o->tls_insecure) {
    DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L), "TLS"));
    DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L), "TLS"));
  } else {
    DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L), "TLS"));
    DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L), "TLS"));
  }
  if (o->ca_file)
    DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file), "CA file"));
  if (o->cert_file || o->key_file) {
    if (!o->cert_file || !o->key_file)
      return dray_error_create(DRAY_ERR_HTTP, NULL,
                               "cannot set up the HTTP request: a client certificate needs "
                               "both a certificate and a key file");
    DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_SSLCERT, o->cert_file), "client certificate"));
    DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_SSLKEY, o->key_file), "client key"));
  }
  return DRAY_NO_ERROR;
}

dray_error_t *dray_http_easy_setup(CURL *c, const dray_http_options_t *o)
{
  long connect = o->connect_timeout_sec > 0 ? o->connect_timeout_sec
                                            : (long)DRAY_HTTP_CONNECT_TIMEOUT_SEC;

  if (!o->url || !*o->url)
    return dray_error_create(DRAY_ERR_HTTP, NULL, "cannot set up the HTTP request: no URL");

  DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_URL, o->url), "URL"));
  DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L), "no signals"));
  DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_USERAGENT, "dray"), "user agent"));
  DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https"), "protocols"));
  DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"), "protocols"));
  DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, connect), "connect timeout"));
  /* 0 and 0 switch the limit off: curl's default, stated for clarity. */
  DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, o->low_speed_time_sec > 0 ? 1L : 0L),
                 "low-speed limit"));
  DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                                  o->low_speed_time_sec > 0 ? o->low_speed_time_sec : 0L),
                 "low-speed limit"));
  if (o->max_redirects > 0) {
    DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L), "redirects"));
    DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)o->max_redirects), "redirects"));
  }
  DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L), "progress"));
  if (o->xferinfo) {
    DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, o->xferinfo), "progress"));
    DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_XFERINFODATA, o->xferinfo_data), "progress"));
  } else {
    DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, cancel_xferinfo), "progress"));
    DRAY_ERR(check(curl_easy_setopt(c, CURLOPT_XFERINFODATA, o->cancel), "progress"));
  }
  return set_transport(c, o);
}

dray_error_t *dray_http_handle_create(dray_http_t **h_p, const dray_http_options_t *opts,
                                      apr_pool_t *pool)
{
  dray_http_t *h;
  dray_error_t *err;

  *h_p = NULL;
  h = apr_pcalloc(pool, sizeof(*h));
  h->pool = pool;
  h->curl = curl_easy_init();
  if (!h->curl)
    return dray_error_create(DRAY_ERR_HTTP, NULL, "cannot create a curl handle");
  apr_pool_cleanup_register(pool, h, cleanup_handle, apr_pool_cleanup_null);
  err = check(curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf), "error buffer");
  if (!err)
    err = dray_http_easy_setup(h->curl, opts);
  if (err) {
    dray_http_handle_destroy(h);
    return err;
  }
  *h_p = h;
  return DRAY_NO_ERROR;
}

CURL *dray_http_curl(dray_http_t *h)
{
  return h->curl;
}

dray_error_t *dray_http_error(int rc, const char *what, const char *detail)
{
  apr_status_t how = 0;
  switch ((CURLcode)rc) {
  case CURLE_COULDNT_CONNECT:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
    how = DRAY_ERR_NET_DOWN;
    break;
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
    how = DRAY_ERR_NET_RESET;
    break;
  case CURLE_OPERATION_TIMEDOUT:
    how = DRAY_ERR_NET_TIMEOUT;
    break;
  default:
    break;
  }
  return dray_error_createf(DRAY_ERR_HTTP, how ? dray_error_create(how, NULL, NULL) : NULL,
                            "%s: %s", what,
                            detail && *detail ? detail : curl_easy_strerror((CURLcode)rc));
}

dray_error_t *dray_http_perform(dray_http_t *h, const char *what)
{
  CURLcode rc;
  h->errbuf[0] = '\0';
  rc = curl_easy_perform(h->curl);
  if (rc == CURLE_OK)
    return DRAY_NO_ERROR;
  if (rc == CURLE_ABORTED_BY_CALLBACK)
    return dray_error_createf(DRAY_ERR_CANCELLED, NULL, "%s: cancelled", what);
  return dray_http_error(rc, what, h->errbuf);
}

long dray_http_status(dray_http_t *h)
{
  long status = 0;
  if (curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
    return 0;
  return status;
}

void dray_http_handle_destroy(dray_http_t *h)
{
  if (h)
    apr_pool_cleanup_run(h->pool, h, cleanup_handle);
}

int dray_http_host_is_loopback(const char *host)
{
  const char *name = host, *colon;
  apr_size_t len = strlen(host);

  if (host[0] == '[') {
    const char *end = strchr(host, ']');
    if (end) {
      name = host + 1;
      len = (apr_size_t)(end - host - 1);
    }
  }
  else if ((colon = strchr(host, ':')) != NULL && !strchr(colon + 1, ':'))
    len = (apr_size_t)(colon - host); /* one colon: a port (more: a bare v6 address) */
  return (len == 9 && !apr_cstr_casecmpn(name, "localhost", 9))
         || (len == 3 && !memcmp(name, "::1", 3)) || (len >= 4 && !memcmp(name, "127.", 4));
}

const char *dray_http_url_shown(const char *url, apr_pool_t *result_pool)
{
  const char *scheme = strstr(url, "://");
  const char *host = scheme ? scheme + 3 : url;
  const char *at = memchr(host, '@', strcspn(host, "/?#"));
  apr_size_t end = strcspn(url, "?#");
  const char *kept;
  if (at) /* "scheme://", then what follows the user information */
    kept = apr_pstrcat(result_pool, apr_pstrmemdup(result_pool, url, (apr_size_t)(host - url)),
                       apr_pstrmemdup(result_pool, at + 1, (apr_size_t)(url + end - (at + 1))),
                       NULL);
  else
    kept = apr_pstrmemdup(result_pool, url, end);
  return url[end] == '?' ? apr_pstrcat(result_pool, kept, "?…", NULL) : kept;
}

const char *dray_http_header_value(const char *line, apr_size_t len, const char *name,
                                   apr_pool_t *result_pool)
{
  apr_size_t n = strlen(name);
  const char *v, *end = line + len;
  if (len <= n || apr_cstr_casecmpn(line, name, n) || line[n] != ':')
    return NULL;
  v = line + n + 1;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
    end--;
  return apr_pstrmemdup(result_pool, v, (apr_size_t)(end - v));
}
