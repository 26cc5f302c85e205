/* timeline.c — the SVG timeline of a run, from its JSON report. */
#include "dray/timeline.h"

#include <stdlib.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <jansson.h>

#include "dray/file.h"
#include "dray/outcome.h"
#include "dray/strbuf.h"
#include "dray/xml.h"

#define WIDTH 1100
#define LEFT 130        /* lane labels */
#define RIGHT 70        /* throughput axis */
#define LANE_H 18
#define LANE_GAP 4
#define CURVE_H 130
#define BUCKETS 120

typedef enum kind_t { K_BUILD = 0, K_PUSH, K_WAIT, K_COUNT } kind_t;

typedef struct bar_t {
  kind_t kind;
  const char *image;
  int image_index;
  int number;
  const char *result;      /* the report's word; NULL for a wait */
  dray_outcome_t outcome;  /* from it */
  double start, end;
  int lane;
  int critical;
} bar_t;

typedef struct image_t {
  const char *name;
  double bytes;            /* pushed by its successful push */
  apr_array_header_t *deps;/* int: indices */
  double first_build_start, last_build_end, last_end;
} image_t;

typedef struct tl_t {
  apr_pool_t *pool;
  double t0, t1;
  apr_array_header_t *bars;   /* bar_t */
  apr_array_header_t *images; /* image_t */
  int lanes[K_COUNT];
  int limit[K_COUNT];          /* the report's builders / pushers */
} tl_t;

static double num(const json_t *o, const char *key, double dflt)
{
  const json_t *v = json_object_get(o, key);
  return json_is_number(v) ? json_number_value(v) : dflt;
}

static const char *str(const json_t *o, const char *key)
{
  return json_string_value(json_object_get(o, key));
}

static bar_t *add_bar(tl_t *tl, kind_t kind, const char *image, int index, int number,
                      const char *result, double start, double end)
{
  bar_t *b = &APR_ARRAY_PUSH(tl->bars, bar_t);
  int o = result ? dray_outcome_from_word(result) : DRAY_OUTCOME_OK;
  memset(b, 0, sizeof(*b));
  b->kind = kind;
  b->image = image;
  b->image_index = index;
  b->number = number;
  b->result = result;
  b->outcome = o < 0 ? DRAY_OUTCOME_EXIT : (dray_outcome_t)o;
  b->start = start;
  b->end = end < start ? start : end;
  return b;
}

static dray_error_t *load(tl_t *tl, const json_t *report)
{
  const json_t *images = json_object_get(report, "images");
  size_t i, j;

  if (!json_is_object(report) || !json_is_array(images) || !json_is_number(json_object_get(report, "start")))
    return dray_error_createf(DRAY_ERR_INPUT, NULL,
                              "not a dray report: no \"start\" and \"images\" (write one with --report)");
  tl->t0 = num(report, "start", 0);
  tl->t1 = num(report, "end", tl->t0);
  tl->limit[K_BUILD] = (int)num(report, "builders", 0);
  tl->limit[K_PUSH] = (int)num(report, "pushers", 0);
  /* With auto limits the report's are where they ended: the slots are the
   * most they ever were. */
  {
    const json_t *limits = json_object_get(report, "limits");
    for (i = 0; i < json_array_size(limits); i++) {
      const json_t *l = json_array_get(limits, i);
      if ((int)num(l, "builders", 0) > tl->limit[K_BUILD])
        tl->limit[K_BUILD] = (int)num(l, "builders", 0);
      if ((int)num(l, "pushers", 0) > tl->limit[K_PUSH])
        tl->limit[K_PUSH] = (int)num(l, "pushers", 0);
    }
  }
  for (i = 0; i < json_array_size(images); i++) {
    const json_t *img = json_array_get(images, i), *attempts = json_object_get(img, "attempts");
    const json_t *deps = json_object_get(img, "depends_on");
    image_t *im = &APR_ARRAY_PUSH(tl->images, image_t);
    const bar_t *prev[2] = {NULL, NULL};
    memset(im, 0, sizeof(*im));
    im->name = str(img, "name") ? apr_pstrdup(tl->pool, str(img, "name")) : "?";
    im->bytes = num(img, "bytes_pushed", 0);
    im->deps = apr_array_make(tl->pool, 2, sizeof(int));
    im->first_build_start = -1;
    for (j = 0; j < json_array_size(deps); j++) {
      const char *d = json_string_value(json_array_get(deps, j));
      size_t k;
      for (k = 0; d && k < json_array_size(images); k++)
        if (str(json_array_get(images, k), "name") && strcmp(str(json_array_get(images, k), "name"), d) == 0)
          APR_ARRAY_PUSH(im->deps, int) = (int)k;
    }
    for (j = 0; j < json_array_size(attempts); j++) {
      const json_t *a = json_array_get(attempts, j);
      const char *phase = str(a, "phase"), *result = str(a, "result");
      kind_t kind = phase && strcmp(phase, "push") == 0 ? K_PUSH : K_BUILD;
      double s = num(a, "start", -1), e = num(a, "end", tl->t1);
      const bar_t *b;
      if (s < 0)
        continue; /* never started */
      /* A retry's wait: from the failed attempt's end to this start. */
      if (prev[kind] && s > prev[kind]->end)
        add_bar(tl, K_WAIT, im->name, (int)i, (int)num(a, "number", 0), NULL, prev[kind]->end, s);
      b = add_bar(tl, kind, im->name, (int)i, (int)num(a, "number", 0),
                  result ? apr_pstrdup(tl->pool, result) : "ok", s, e);
      prev[kind] = b;
      if (kind == K_BUILD) {
        if (im->first_build_start < 0)
          im->first_build_start = s;
        if (e > im->last_build_end)
          im->last_build_end = e;
      }
      if (e > im->last_end)
        im->last_end = e;
      if (e > tl->t1)
        tl->t1 = e;
    }
  }
  return DRAY_NO_ERROR;
}

static int by_start(const void *a, const void *b)
{
  const bar_t *x = a, *y = b;
  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  return x->image_index - y->image_index;
}

/* Each bar in the lowest lane free at its start, per kind. */
static void assign_lanes(tl_t *tl)
{
  double *free_at[K_COUNT];
  int k, i;
  qsort(tl->bars->elts, (size_t)tl->bars->nelts, sizeof(bar_t), by_start);
  for (k = 0; k < K_COUNT; k++) {
    free_at[k] = apr_pcalloc(tl->pool, sizeof(double) * (size_t)(tl->bars->nelts + 1));
    tl->lanes[k] = 0;
  }
  for (i = 0; i < tl->bars->nelts; i++) {
    bar_t *b = &APR_ARRAY_IDX(tl->bars, i, bar_t);
    int lane;
    for (lane = 0; lane < tl->lanes[b->kind]; lane++)
      if (free_at[b->kind][lane] <= b->start + 1e-6)
        break;
    if (lane == tl->lanes[b->kind])
      tl->lanes[b->kind]++;
    free_at[b->kind][lane] = b->end;
    b->lane = lane;
  }
}

/* The chain that ended last: the image that finished last, the image it is
 * built FROM whose build ended last before its build began, and so on. */
static void mark_critical(tl_t *tl)
{
  int last = -1, cur, i, first = 1;
  double best = -1;
  for (i = 0; i < tl->images->nelts; i++) {
    const image_t *im = &APR_ARRAY_IDX(tl->images, i, image_t);
    if (im->last_end > best) {
      best = im->last_end;
      last = i;
    }
  }
  for (cur = last; cur >= 0;) {
    const image_t *im = &APR_ARRAY_IDX(tl->images, cur, image_t);
    int next = -1, j;
    double latest = -1;
    for (i = 0; i < tl->bars->nelts; i++) {
      bar_t *b = &APR_ARRAY_IDX(tl->bars, i, bar_t);
      if (b->image_index == cur && (b->kind == K_BUILD || (first && b->kind != K_WAIT)))
        b->critical = 1;
    }
    first = 0;
    for (j = 0; j < im->deps->nelts; j++) {
      int d = APR_ARRAY_IDX(im->deps, j, int);
      const image_t *dep = &APR_ARRAY_IDX(tl->images, d, image_t);
      if (dep->last_build_end > latest && dep->last_build_end <= im->first_build_start + 1e-6) {
        latest = dep->last_build_end;
        next = d;
      }
    }
    cur = next;
  }
}

static double x_of(const tl_t *tl, double t)
{
  double dur = tl->t1 - tl->t0 > 1e-3 ? tl->t1 - tl->t0 : 1e-3;
  return LEFT + (t - tl->t0) / dur * (WIDTH - LEFT - RIGHT);
}

static const char *bar_class(const bar_t *b)
{
  if (b->kind == K_WAIT)
    return "wait";
  switch (b->outcome) {
  case DRAY_OUTCOME_OK: return b->kind == K_BUILD ? "build ok" : "push ok";
  case DRAY_OUTCOME_STALLED: return b->kind == K_BUILD ? "build stalled" : "push stalled";
  case DRAY_OUTCOME_CANCELLED:
  case DRAY_OUTCOME_INTERRUPTED: return b->kind == K_BUILD ? "build cancelled" : "push cancelled";
  default: return b->kind == K_BUILD ? "build failed" : "push failed";
  }
}

static void nice_step(double dur, double *step)
{
  static const double steps[] = {0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600};
  size_t i;
  *step = steps[sizeof(steps) / sizeof(*steps) - 1];
  for (i = 0; i < sizeof(steps) / sizeof(*steps); i++)
    if (dur / steps[i] <= 12) {
      *step = steps[i];
      break;
    }
}

static const char *human_rate(double bps, apr_pool_t *p)
{
  if (bps >= 1024 * 1024)
    return apr_psprintf(p, "%.1f MB/s", bps / (1024 * 1024));
  if (bps >= 1024)
    return apr_psprintf(p, "%.1f kB/s", bps / 1024);
  return apr_psprintf(p, "%.0f B/s", bps);
}

/* "M x y L x y ...": how many bars of KIND run over time, as steps. */
static const char *concurrency_path(const tl_t *tl, kind_t kind, double y0, double scale,
                                    int *peak, apr_pool_t *p)
{
  apr_array_header_t *ev = apr_array_make(p, 16, sizeof(double) * 2);
  dray_strbuf_t d;
  int i, j, n = 0;
  double level = 0;
  for (i = 0; i < tl->bars->nelts; i++) {
    const bar_t *b = &APR_ARRAY_IDX(tl->bars, i, bar_t);
    double *e;
    if (b->kind != kind)
      continue;
    e = (double *)apr_array_push(ev);
    e[0] = b->start;
    e[1] = 1;
    e = (double *)apr_array_push(ev);
    e[0] = b->end;
    e[1] = -1;
  }
  /* Sort by time, ends before starts at the same instant. */
  for (i = 1; i < ev->nelts; i++)
    for (j = i; j > 0; j--) {
      double *a = (double *)(void *)(ev->elts + (size_t)(j - 1) * 2 * sizeof(double));
      double *b = a + 2, t0, t1;
      if (a[0] < b[0] || (a[0] == b[0] && a[1] <= b[1]))
        break;
      t0 = a[0], t1 = a[1];
      a[0] = b[0], a[1] = b[1];
      b[0] = t0, b[1] = t1;
    }
  dray_strbuf_init(&d, 256, p);
  dray_strbuf_appendf(&d, "M%.1f %.1f", x_of(tl, tl->t0), y0);
  *peak = 0;
  for (i = 0; i < ev->nelts;) {
    const double *e = (const double *)(void *)(ev->elts + (size_t)i * 2 * sizeof(double));
    double at = e[0];
    /* Everything at one instant moves the level once: no spikes. */
    dray_strbuf_appendf(&d, " L%.1f %.1f", x_of(tl, at), y0 - level * scale);
    for (; i < ev->nelts; i++) {
      e = (const double *)(void *)(ev->elts + (size_t)i * 2 * sizeof(double));
      if (e[0] != at)
        break;
      level += e[1];
      n = (int)level;
      if (n > *peak)
        *peak = n;
    }
    dray_strbuf_appendf(&d, " L%.1f %.1f", x_of(tl, at), y0 - level * scale);
  }
  dray_strbuf_appendf(&d, " L%.1f %.1f", x_of(tl, tl->t1), y0);
  return d.data;
}

dray_error_t *dray_timeline_svg(const char **svg_p, const struct json_t *report,
                                apr_pool_t *result_pool)
{
  tl_t tl;
  apr_pool_t *p = result_pool;
  dray_strbuf_t out;
  static const char *const kind_name[K_COUNT] = {"builder", "pusher", "retry wait"};
  static const char *const section[K_COUNT] = {"builds", "pushes", "retry waits"};
  double y, step, t, dur, rate[BUCKETS], max_rate = 0, lanes_top, lanes_bottom, cy0, cscale;
  int i, k, total_lanes, peak_b, peak_p, max_level;

  memset(&tl, 0, sizeof(tl));
  tl.pool = result_pool;
  tl.bars = apr_array_make(p, 32, sizeof(bar_t));
  tl.images = apr_array_make(p, 16, sizeof(image_t));
  DRAY_ERR(load(&tl, report));
  assign_lanes(&tl);
  mark_critical(&tl);
  dur = tl.t1 - tl.t0;

  total_lanes = 0;
  for (k = 0; k < K_COUNT; k++)
    total_lanes += tl.lanes[k] + (tl.lanes[k] || k < K_WAIT ? 1 : 0);
  lanes_top = 46;
  lanes_bottom = lanes_top + total_lanes * (LANE_H + LANE_GAP);
  cy0 = lanes_bottom + 40 + CURVE_H;

  dray_strbuf_init(&out, 16384, p);
  dray_strbuf_appendf(&out,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" "
      "viewBox=\"0 0 %d %.0f\" font-family=\"sans-serif\" font-size=\"11\" "
      "data-start=\"%.6f\" data-end=\"%.6f\">\n"
      "<style>\n"
      ".build.ok{fill:#4e79a7}.push.ok{fill:#59a14f}.failed{fill:#e15759}"
      ".stalled{fill:#f28e2b}.cancelled{fill:#9c755f}.wait{fill:#d7d7d7;stroke:#999;"
      "stroke-dasharray:3 2}.critical{stroke:#111;stroke-width:2}"
      ".label{fill:#fff;pointer-events:none}.lane{fill:#f6f6f6}.axis{stroke:#999}"
      ".grid{stroke:#e4e4e4}.head{font-weight:bold}"
      ".c-build{fill:none;stroke:#4e79a7;stroke-width:1.5}"
      ".c-push{fill:none;stroke:#59a14f;stroke-width:1.5}"
      ".c-rate{fill:none;stroke:#f28e2b;stroke-width:1.5;stroke-dasharray:4 2}\n"
      "</style>\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n"
      "<text x=\"10\" y=\"20\" class=\"head\" font-size=\"14\">dray %s: %d images in %.1fs "
      "(at most %d %s and %d %s at once)</text>\n",
      WIDTH, cy0 + 70, WIDTH, cy0 + 70, tl.t0, tl.t1,
      dray_xml_escape(str(report, "mode") ? str(report, "mode") : "run", p), tl.images->nelts,
      dur, (int)num(report, "max_running_builds", 0),
      (int)num(report, "max_running_builds", 0) == 1 ? "build" : "builds",
      (int)num(report, "max_running_pushes", 0),
      (int)num(report, "max_running_pushes", 0) == 1 ? "push" : "pushes");

  /* Time grid and axis. */
  nice_step(dur, &step);
  for (i = 0; (t = i * step) <= dur + 1e-9; i++) {
    double x = x_of(&tl, tl.t0 + t);
    dray_strbuf_appendf(&out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#666\">%s</text>\n",
                       x, lanes_top - 6, x, cy0, x, lanes_top - 10,
                       apr_psprintf(p, step < 1 ? "%.1fs" : "%.0fs", t));
  }

  /* Lanes and bars. */
  y = lanes_top;
  for (k = 0; k < K_COUNT; k++) {
    int lane;
    if (k == K_WAIT && !tl.lanes[k])
      continue;
    dray_strbuf_appendf(&out, "<text x=\"10\" y=\"%.1f\" class=\"head\">%s (%d %s)</text>\n",
                       y + LANE_H - 5, section[k], tl.lanes[k],
                       k == K_WAIT ? "at once" : apr_psprintf(p, "of %d slots", tl.limit[k]));
    y += LANE_H + LANE_GAP;
    for (lane = 0; lane < tl.lanes[k]; lane++) {
      double ly = y + lane * (LANE_H + LANE_GAP);
      dray_strbuf_appendf(&out, "<rect class=\"lane\" x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\"/>"
                            "<text x=\"20\" y=\"%.1f\" fill=\"#444\">%s %d</text>\n",
                         LEFT, ly, WIDTH - LEFT - RIGHT, LANE_H, ly + LANE_H - 5, kind_name[k],
                         lane + 1);
    }
    for (i = 0; i < tl.bars->nelts; i++) {
      const bar_t *b = &APR_ARRAY_IDX(tl.bars, i, bar_t);
      double x0, x1, by;
      const char *title;
      if ((int)b->kind != k)
        continue;
      x0 = x_of(&tl, b->start);
      x1 = x_of(&tl, b->end);
      if (x1 - x0 < 1)
        x1 = x0 + 1;
      by = y + b->lane * (LANE_H + LANE_GAP);
      title = b->kind == K_WAIT
                  ? apr_psprintf(p, "%s: waiting %.1fs before attempt %d", b->image,
                                 b->end - b->start, b->number)
                  : apr_psprintf(p, "%s: %s attempt %d, %s, %.2fs (%.2fs .. %.2fs)", b->image,
                                 b->kind == K_BUILD ? "build" : "push", b->number, b->result,
                                 b->end - b->start, b->start - tl.t0, b->end - tl.t0);
      if (b->kind == K_WAIT)
        dray_strbuf_appendf(&out, "<rect class=\"wait\" data-image=\"%s\" data-number=\"%d\" "
                              "data-start=\"%.6f\" data-end=\"%.6f\" data-lane=\"%d\" x=\"%.1f\" "
                              "y=\"%.1f\" width=\"%.1f\" height=\"%d\"><title>%s</title></rect>\n",
                           dray_xml_escape(b->image, p), b->number, b->start, b->end, b->lane,
                           x0, by, x1 - x0, LANE_H, dray_xml_escape(title, p));
      else
        dray_strbuf_appendf(&out, "<rect class=\"attempt %s%s\" data-image=\"%s\" data-phase=\"%s\" "
                              "data-number=\"%d\" data-result=\"%s\" data-start=\"%.6f\" "
                              "data-end=\"%.6f\" data-lane=\"%d\" x=\"%.1f\" y=\"%.1f\" "
                              "width=\"%.1f\" height=\"%d\" rx=\"2\"><title>%s</title></rect>\n",
                           bar_class(b), b->critical ? " critical" : "",
                           dray_xml_escape(b->image, p), b->kind == K_BUILD ? "build" : "push",
                           b->number, dray_xml_escape(b->result, p), b->start, b->end, b->lane,
                           x0, by, x1 - x0, LANE_H, dray_xml_escape(title, p));
      /* A label where it fits (about 6 px a character). */
      if (b->kind != K_WAIT && (x1 - x0) > 6.0 * (double)strlen(b->image) + 6)
        dray_strbuf_appendf(&out, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                           x0 + 3, by + LANE_H - 5, dray_xml_escape(b->image, p));
    }
    y += tl.lanes[k] * (LANE_H + LANE_GAP);
  }

  /* Curves: builds and pushes at once (left scale), throughput (right). */
  for (i = 0; i < BUCKETS; i++)
    rate[i] = 0;
  for (i = 0; i < tl.bars->nelts; i++) {
    const bar_t *b = &APR_ARRAY_IDX(tl.bars, i, bar_t);
    const image_t *im = &APR_ARRAY_IDX(tl.images, b->image_index, image_t);
    double bw = (dur > 1e-3 ? dur : 1e-3) / BUCKETS, r;
    int j;
    if (b->kind != K_PUSH || b->outcome != DRAY_OUTCOME_OK || im->bytes <= 0 || b->end <= b->start)
      continue;
    r = im->bytes / (b->end - b->start);
    for (j = 0; j < BUCKETS; j++) {
      double s = tl.t0 + j * bw, e = s + bw;
      double ov = (b->end < e ? b->end : e) - (b->start > s ? b->start : s);
      if (ov > 0)
        rate[j] += r * ov / bw;
    }
  }
  for (i = 0; i < BUCKETS; i++)
    if (rate[i] > max_rate)
      max_rate = rate[i];
  max_level = tl.limit[K_BUILD] > tl.limit[K_PUSH] ? tl.limit[K_BUILD] : tl.limit[K_PUSH];
  if (tl.lanes[K_BUILD] > max_level)
    max_level = tl.lanes[K_BUILD];
  if (tl.lanes[K_PUSH] > max_level)
    max_level = tl.lanes[K_PUSH];
  if (max_level < 1)
    max_level = 1;
  cscale = (double)CURVE_H / max_level;
  dray_strbuf_appendf(&out, "<text x=\"10\" y=\"%.1f\" class=\"head\">at once</text>\n"
                        "<line class=\"axis\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
                        "<line class=\"axis\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n"
                        "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#666\">%d</text>"
                        "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#666\">0</text>\n",
                     cy0 - CURVE_H - 8, LEFT, cy0, WIDTH - RIGHT, cy0, LEFT, cy0 - CURVE_H,
                     LEFT, cy0, LEFT - 4, cy0 - CURVE_H + 4, max_level, LEFT - 4, cy0);
  dray_strbuf_appendf(&out, "<path class=\"c-build\" data-curve=\"builds\" d=\"%s\"/>\n",
                     concurrency_path(&tl, K_BUILD, cy0, cscale, &peak_b, p));
  dray_strbuf_appendf(&out, "<path class=\"c-push\" data-curve=\"pushes\" d=\"%s\"/>\n",
                     concurrency_path(&tl, K_PUSH, cy0, cscale, &peak_p, p));
  if (max_rate > 0) {
    const char *d = "";
    double bw = (dur > 1e-3 ? dur : 1e-3) / BUCKETS;
    for (i = 0; i < BUCKETS; i++)
      d = apr_psprintf(p, "%s%s%.1f %.1f", d, i ? " L" : "M", x_of(&tl, tl.t0 + (i + 0.5) * bw),
                       cy0 - rate[i] / max_rate * CURVE_H);
    dray_strbuf_appendf(&out, "<path class=\"c-rate\" data-curve=\"throughput\" d=\"%s\"/>"
                          "<text x=\"%d\" y=\"%.1f\" fill=\"#f28e2b\">%s</text>\n",
                       d, WIDTH - RIGHT + 4, cy0 - CURVE_H + 4, human_rate(max_rate, p));
  }
  /* Legend. */
  {
    static const char *const items[][2] = {
      {"build ok", "build"}, {"push ok", "push"}, {"failed", "failed"}, {"stalled", "stalled"},
      {"cancelled", "cancelled"}, {"wait", "retry wait"}};
    double lx = LEFT;
    double ly = cy0 + 30;
    size_t n;
    for (n = 0; n < sizeof(items) / sizeof(*items); n++) {
      dray_strbuf_appendf(&out, "<rect class=\"%s\" x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\"/>"
                            "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n",
                         items[n][0], lx, ly - 10, lx + 16, ly, items[n][1]);
      lx += 95;
    }
    dray_strbuf_appendf(&out, "<rect class=\"build ok critical\" x=\"%.0f\" y=\"%.0f\" width=\"12\" "
                          "height=\"12\"/><text x=\"%.0f\" y=\"%.0f\">critical path</text>\n"
                          "<line class=\"c-build\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"/>"
                          "<text x=\"%.0f\" y=\"%.0f\">builds (peak %d)</text>\n"
                          "<line class=\"c-push\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"/>"
                          "<text x=\"%.0f\" y=\"%.0f\">pushes (peak %d)</text>\n"
                          "<line class=\"c-rate\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"/>"
                          "<text x=\"%.0f\" y=\"%.0f\">push throughput</text>\n",
                       lx, ly - 10, lx + 16, ly, (double)LEFT, ly + 16, (double)LEFT + 14,
                       ly + 16, (double)LEFT + 18, ly + 20, peak_b, (double)LEFT + 140, ly + 16,
                       (double)LEFT + 154, ly + 16, (double)LEFT + 158, ly + 20, peak_p,
                       (double)LEFT + 280, ly + 16, (double)LEFT + 294, ly + 16,
                       (double)LEFT + 298, ly + 20);
  }
  dray_strbuf_appendf(&out, "</svg>\n");
  *svg_p = out.data;
  return DRAY_NO_ERROR;
}

dray_error_t *dray_timeline_write(const char *path, const struct json_t *report,
                                  apr_pool_t *scratch_pool)
{
  const char *svg;
  DRAY_ERR(dray_timeline_svg(&svg, report, scratch_pool));
  return dray_file_write_private(path, svg, strlen(svg), "timeline", scratch_pool);
}
