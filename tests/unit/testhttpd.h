/* testhttpd.h — a tiny HTTP server on a loopback port, on a thread of its
 * own, for unit tests of dray's HTTP clients (the Engine API push driver,
 * the registry client). It plays an engine or a registry whose answers the
 * test sets: a table of routes, each a method, a path prefix and a canned
 * answer. It is a fake peer, not a mock of dray: dray's real code talks real
 * HTTP to it over a real socket. One request per connection (the answer
 * says Connection: close). Header-only; needs APR. */
#ifndef DRAY_TESTHTTPD_H
#define DRAY_TESTHTTPD_H

#include <stdio.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_cstr.h>
#include <apr_network_io.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "dray/pools.h"

typedef struct testhttpd_route_t {
  const char *method;         /* "GET", "HEAD", "POST", ... */
  const char *path_prefix;    /* matched against the request path and query */
  int status;
  const char *headers;        /* extra "Name: value\r\n" lines, or NULL */
  const char *body;           /* sent after the headers (not for HEAD), or NULL */
} testhttpd_route_t;

/* A request as a handler sees it (the handler mode reads whole bodies). */
typedef struct testhttpd_request_t {
  const char *method;
  const char *path;           /* with the query */
  const char *head;           /* the request line and headers */
  const char *body;
  apr_size_t body_len;
} testhttpd_request_t;

/* Answers REQ: the whole response (status line, headers, body), *LEN bytes
 * of it (0: up to its NUL), or NULL to close the connection without an
 * answer (a reset, as the client sees it). Called on the server's thread;
 * P is cleared after the answer. */
typedef const char *(*testhttpd_handler_fn)(void *baton, const testhttpd_request_t *req,
                                            apr_size_t *len, apr_pool_t *p);

typedef struct testhttpd_t {
  apr_pool_t *pool;           /* the server thread's */
  apr_pool_t *parent;         /* the test's: used only by the test's thread */
  apr_socket_t *listener;
  apr_port_t port;
  apr_thread_t *thread;
  const testhttpd_route_t *routes;
  int nroutes;
  volatile apr_uint32_t stop;
  volatile apr_uint32_t requests;
  char last_request[512];     /* "METHOD PATH" of the last request */
  testhttpd_handler_fn handler; /* instead of ROUTES, when set */
  void *handler_baton;
} testhttpd_t;

/* The value of header NAME in HEAD (case-insensitive), or NULL. */
static const char *testhttpd_header(const char *head, const char *name, apr_pool_t *p)
{
  apr_size_t n = strlen(name);
  const char *line = strstr(head, "\r\n");
  while (line && line[2] != '\r') {
    const char *start = line + 2, *end = strstr(start, "\r\n");
    if (!end)
      return NULL;
    if ((apr_size_t)(end - start) > n && start[n] == ':' && !apr_cstr_casecmpn(start, name, n)) {
      start += n + 1;
      while (*start == ' ')
        start++;
      return apr_pstrmemdup(p, start, (apr_size_t)(end - start));
    }
    line = end;
  }
  return NULL;
}

/* The handler mode: read the head and the Content-Length body, then ask. */
static void testhttpd_handle(testhttpd_t *h, apr_socket_t *conn, apr_pool_t *p)
{
  apr_size_t cap = 8192, got = 0, n;
  char *buf = apr_palloc(p, cap + 1), *end = NULL;
  char method[16] = "", path[1024] = "";
  testhttpd_request_t req;
  const char *cl, *answer;
  apr_size_t head_len, want;

  while (!end) {
    n = cap - got;
    if (n == 0 || apr_socket_recv(conn, buf + got, &n) != APR_SUCCESS || n == 0)
      return;
    got += n;
    buf[got] = '\0';
    end = strstr(buf, "\r\n\r\n");
  }
  head_len = (apr_size_t)(end - buf) + 4;
  if (sscanf(buf, "%15s %1023s", method, path) != 2)
    return;
  req.method = method;
  req.path = path;
  req.head = apr_pstrmemdup(p, buf, head_len);
  cl = testhttpd_header(req.head, "Content-Length", p);
  want = cl ? (apr_size_t)apr_atoi64(cl) : 0;
  {
    char *body = apr_palloc(p, want + 1);
    apr_size_t have = got - head_len < want ? got - head_len : want;
    memcpy(body, buf + head_len, have);
    while (have < want) {
      n = want - have;
      if (apr_socket_recv(conn, body + have, &n) != APR_SUCCESS || n == 0)
        break;
      have += n;
    }
    body[have] = '\0';
    req.body = body;
    req.body_len = have;
  }
  apr_snprintf(h->last_request, sizeof(h->last_request), "%s %s", method, path);
  apr_atomic_inc32(&h->requests);
  n = 0;
  answer = h->handler(h->handler_baton, &req, &n, p);
  if (answer && n == 0)
    n = strlen(answer);
  while (answer && n > 0) { /* a large answer may take several sends */
    apr_size_t sent = n;
    if (apr_socket_send(conn, answer, &sent) != APR_SUCCESS)
      break;
    answer += sent;
    n -= sent;
  }
}

static void testhttpd_answer(testhttpd_t *h, apr_socket_t *conn, apr_pool_t *p)
{
  char buf[8192], method[16] = "", path[400] = "";
  apr_size_t got = 0, n;
  const testhttpd_route_t *route = NULL;
  const char *answer;
  int i;

  /* The request's head; bodies are small and ignored. */
  while (got < sizeof(buf) - 1) {
    n = sizeof(buf) - 1 - got;
    if (apr_socket_recv(conn, buf + got, &n) != APR_SUCCESS || n == 0)
      break;
    got += n;
    buf[got] = '\0';
    if (strstr(buf, "\r\n\r\n"))
      break;
  }
  buf[got] = '\0';
  if (sscanf(buf, "%15s %399s", method, path) != 2)
    return;
  apr_snprintf(h->last_request, sizeof(h->last_request), "%s %s", method, path);
  apr_atomic_inc32(&h->requests);
  for (i = 0; i < h->nroutes && !route; i++)
    if (strcmp(h->routes[i].method, method) == 0 &&
        strncmp(path, h->routes[i].path_prefix, strlen(h->routes[i].path_prefix)) == 0)
      route = &h->routes[i];
  if (!route)
    answer = "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
  else
    answer = apr_psprintf(p, "HTTP/1.1 %d Test\r\nConnection: close\r\n%s%s\r\n%s",
                          route->status, route->headers ? route->headers : "",
                          route->body && strcmp(method, "HEAD") != 0
                              ? apr_psprintf(p, "Content-Length: %d\r\n",
                                             (int)strlen(route->body))
                              : (strcmp(method, "HEAD") == 0 ? "" : "Content-Length: 0\r\n"),
                          route->body && strcmp(method, "HEAD") != 0 ? route->body : "");
  n = strlen(answer);
  apr_socket_send(conn, answer, &n);
}

static void *APR_THREAD_FUNC testhttpd_main(apr_thread_t *thd, void *data)
{
  testhttpd_t *h = data;
  apr_pool_t *iterpool;
  apr_pool_create(&iterpool, h->pool);
  while (!apr_atomic_read32(&h->stop)) {
    apr_socket_t *conn;
    apr_pool_clear(iterpool);
    if (apr_socket_accept(&conn, h->listener, iterpool) != APR_SUCCESS)
      continue;
    if (!apr_atomic_read32(&h->stop) && h->handler)
      testhttpd_handle(h, conn, iterpool);
    else if (!apr_atomic_read32(&h->stop))
      testhttpd_answer(h, conn, iterpool);
    apr_socket_close(conn);
  }
  apr_pool_destroy(iterpool);
  (void)thd;
  return NULL;
}

static inline apr_status_t testhttpd_start_ex(testhttpd_t *h, const testhttpd_route_t *routes,
                                              int nroutes, testhttpd_handler_fn handler,
                                              void *baton, apr_pool_t *parent)
{
  apr_sockaddr_t *sa;
  apr_status_t st;
  memset(h, 0, sizeof(*h));
  h->routes = routes;
  h->nroutes = nroutes;
  h->handler = handler;
  h->handler_baton = baton;
  h->parent = parent;
  /* An allocator of its own: the two threads never share one. */
  if ((st = dray_pool_create_threadsafe(&h->pool, parent)))
    return st;
  if ((st = apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, 0, 0, h->pool)) ||
      (st = apr_socket_create(&h->listener, APR_INET, SOCK_STREAM, APR_PROTO_TCP, h->pool)) ||
      (st = apr_socket_bind(h->listener, sa)) ||
      (st = apr_socket_listen(h->listener, 16)) ||
      (st = apr_socket_addr_get(&sa, APR_LOCAL, h->listener)))
    return st;
  h->port = sa->port;
  return apr_thread_create(&h->thread, NULL, testhttpd_main, h, h->pool);
}

/* Listen on 127.0.0.1 at a free port (H->port) and answer with ROUTES. */
static inline apr_status_t testhttpd_start(testhttpd_t *h, const testhttpd_route_t *routes,
                                           int nroutes, apr_pool_t *parent)
{
  return testhttpd_start_ex(h, routes, nroutes, NULL, NULL, parent);
}

/* Listen as testhttpd_start does, answering every request with HANDLER. */
static inline apr_status_t testhttpd_start_handler(testhttpd_t *h, testhttpd_handler_fn handler,
                                                   void *baton, apr_pool_t *parent)
{
  return testhttpd_start_ex(h, NULL, 0, handler, baton, parent);
}

/* Stop the thread (a last connection wakes its accept) and free it all. */
static inline void testhttpd_stop(testhttpd_t *h)
{
  apr_sockaddr_t *sa;
  apr_socket_t *s;
  apr_status_t rv;
  apr_atomic_set32(&h->stop, 1);
  if (apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, h->port, 0, h->parent) == APR_SUCCESS &&
      apr_socket_create(&s, APR_INET, SOCK_STREAM, APR_PROTO_TCP, h->parent) == APR_SUCCESS) {
    apr_socket_connect(s, sa);
    apr_socket_close(s);
  }
  apr_thread_join(&rv, h->thread);
  apr_socket_close(h->listener);
  apr_pool_destroy(h->pool);
}

/* "127.0.0.1:PORT" */
static inline const char *testhttpd_host(const testhttpd_t *h, apr_pool_t *p)
{
  return apr_psprintf(p, "127.0.0.1:%d", (int)h->port);
}

#endif /* DRAY_TESTHTTPD_H */
