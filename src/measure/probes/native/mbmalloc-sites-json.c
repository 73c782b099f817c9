// Writes the sampled sites as JSON for the Python probe (the measured run's lists and pytest windows)
// and for the load probe (what each site retained since the end of warm-up).
#define _GNU_SOURCE
#include "mbmalloc-sites-tables.h"

#include <dlfcn.h>
#include <string.h>

/* ---- the JSON ---- */

typedef struct {
  char *p;
  size_t n, cap;
  int failed;
} mbs_out;

static void mbs_out_raw(mbs_out *o, const char *s, size_t n) {
  if (o->failed) return;
  if (o->n + n + 1 > o->cap) {
    size_t cap = o->cap ? o->cap : 65536;
    while (o->n + n + 1 > cap) cap *= 2;
    char *q = __libc_realloc(o->p, cap);
    if (!q) {
      o->failed = 1;
      return;
    }
    o->p = q;
    o->cap = cap;
  }
  memcpy(o->p + o->n, s, n);
  o->n += n;
}

static void mbs_out_s(mbs_out *o, const char *s) { mbs_out_raw(o, s, strlen(s)); }

static void mbs_out_i(mbs_out *o, int64_t v) {
  char tmp[24];
  int i = 0;
  uint64_t u = v < 0 ? (uint64_t)-v : (uint64_t)v;
  do {
    tmp[i++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) tmp[i++] = '-';
  char rev[24];
  for (int k = 0; k < i; k++) rev[k] = tmp[i - 1 - k];
  mbs_out_raw(o, rev, (size_t)i);
}

static void mbs_out_str(mbs_out *o, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  mbs_out_s(o, "\"");
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      mbs_out_raw(o, e, 2);
    } else if (c < 0x20) {
      char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      mbs_out_raw(o, e, 6);
    } else {
      mbs_out_raw(o, (const char *)&s[i], 1);
    }
  }
  mbs_out_s(o, "\"");
}

/* A code object's attribute as JSON text (the GIL is held; this is not inside a hook). */
static void mbs_out_attr(mbs_out *o, void *code, const char *name, const char *fallback) {
  static void *(*get_attr)(void *, const char *);
  static const char *(*utf8)(void *, ssize_t *);
  static void (*clear)(void);
  if (!get_attr) {
    get_attr = (void *(*)(void *, const char *))dlsym(RTLD_DEFAULT, "PyObject_GetAttrString");
    utf8 = (const char *(*)(void *, ssize_t *))dlsym(RTLD_DEFAULT, "PyUnicode_AsUTF8AndSize");
    clear = (void (*)(void))dlsym(RTLD_DEFAULT, "PyErr_Clear");
  }
  void *value = get_attr && utf8 && clear ? get_attr(code, name) : NULL;
  ssize_t n = 0;
  const char *text = value ? utf8(value, &n) : NULL;
  if (text)
    mbs_out_str(o, text, (size_t)n);
  else {
    if (clear) clear();
    mbs_out_str(o, fallback, strlen(fallback));
  }
  if (value) mbs_py_decref(value);
}


static void mbs_out_entry(mbs_out *o, uint32_t site, double bytes, double var) {
  mbs_out_s(o, "[");
  mbs_out_i(o, site);
  mbs_out_s(o, ",");
  mbs_out_i(o, (int64_t)(bytes + 0.5));
  mbs_out_s(o, ",");
  /* One standard error, sqrt(var), by Newton's method (no libm). */
  double r = var > 1 ? var : 0;
  if (r > 0) {
    double x = r;
    for (int i = 0; i < 200 && x * x - r > 1e-6 * r; i++) x = (x + r / x) / 2;
    r = x;
  }
  mbs_out_i(o, (int64_t)(r + 0.5));
  mbs_out_s(o, ",");
  mbs_out_i(o, (int64_t)mbs_sites[site].samples);
  mbs_out_s(o, "]");
}

/* While this thread writes JSON through the C API, its allocations are neither sampled nor
   counted (they are the probe's, and sampling would take the lock this thread holds). */
static int64_t mbs_enter(void) {
  int64_t left = mbs_left;
  mbs_busy = 1;
  mbs_left = INT64_MIN / 2;
  return left;
}

static void mbs_leave(int64_t left) {
  mbs_left = left;
  mbs_busy = 0;
}

/* The stacks of the sites marked in `named`, copied under the lock: the codes' names are read
   through the C API after it is released, since on a free-threaded build another thread may wait
   for it inside an allocation while holding what those calls need. The codes stay alive (each
   site keeps a reference to its codes for good). */
typedef struct {
  uint32_t n;
  uint32_t *site, *depth;
  mbs_frame *frames;
} mbs_stacks;

static int mbs_copy_stacks(mbs_stacks *out, const uint8_t *named) {
  memset(out, 0, sizeof(*out));
  if (!named) return 0;
  size_t sites = 0, frames = 0;
  for (uint32_t i = 0; i < mbs_nsites; i++)
    if (named[i]) {
      sites++;
      frames += mbs_sites[i].depth;
    }
  out->site = __libc_malloc((sites + 1) * 2 * sizeof(uint32_t));
  out->frames = __libc_malloc((frames + 1) * sizeof(mbs_frame));
  if (!out->site || !out->frames) {
    __libc_free(out->site);
    __libc_free(out->frames);
    memset(out, 0, sizeof(*out));
    return 0;
  }
  out->depth = out->site + sites + 1;
  size_t f = 0;
  for (uint32_t i = 0; i < mbs_nsites; i++) {
    if (!named[i]) continue;
    const mbs_site *s = &mbs_sites[i];
    out->site[out->n] = i;
    out->depth[out->n++] = s->depth;
    memcpy(&out->frames[f], &mbs_frames[s->first], s->depth * sizeof(mbs_frame));
    f += s->depth;
  }
  return 1;
}

/* ,"stacks":{"<site>":[[file, line, function], ...], ...}; frees the copy. */
static void mbs_out_stacks(mbs_out *o, mbs_stacks *st) {
  mbs_out_s(o, ",\"stacks\":{");
  const mbs_frame *fr = st->frames;
  for (uint32_t k = 0; k < st->n; k++) {
    if (k) mbs_out_s(o, ",");
    mbs_out_s(o, "\"");
    mbs_out_i(o, st->site[k]);
    mbs_out_s(o, "\":[");
    for (uint32_t f = 0; f < st->depth[k]; f++, fr++) {
      if (f) mbs_out_s(o, ",");
      mbs_out_s(o, "[");
      mbs_out_attr(o, fr->code, "co_filename", "<unknown>");
      mbs_out_s(o, ",");
      mbs_out_i(o, fr->line);
      mbs_out_s(o, ",");
      mbs_out_attr(o, fr->code, mbs_version >= 0x030b0000 ? "co_qualname" : "co_name", "?");
      mbs_out_s(o, "]");
    }
    mbs_out_s(o, "]");
  }
  mbs_out_s(o, "}");
  __libc_free(st->site);
  __libc_free(st->frames);
}

/* The JSON as a new Python str, or NULL; the buffer is freed. */
static void *mbs_text(mbs_out *o) {
  void *text = NULL;
  if (!o->failed) {
    void *(*from)(const char *, ssize_t) =
        (void *(*)(const char *, ssize_t))dlsym(RTLD_DEFAULT, "PyUnicode_FromStringAndSize");
    if (from) text = from(o->p, (ssize_t)o->n);
  }
  __libc_free(o->p);
  return text;
}

/** Stops sampling and returns the sites as a Python str of JSON (a new reference), or NULL.
    Call with the GIL held, after the figures are flushed: the text's own memory is not theirs. */
MB_EXPORT void *membudget_sites_json(void) {
  if (!__atomic_load_n(&mbs_on, MB_R)) return NULL;
  __atomic_store_n(&mbs_on, 0, MB_R);
  __atomic_store_n(&mbs_big, UINT64_MAX, MB_R);
  int64_t left = mbs_enter();
  mbs_lock();
  mbs_close_window(mbs_window_peak());
  mbs_test = -1;
  static uint32_t best[2][MBS_LIST];
  static double bytes[2][MBS_LIST], var[2][MBS_LIST];
  int n[2] = {mbs_top(SNAP_PEAK, best[0], bytes[0], var[0]), mbs_top(-1, best[1], bytes[1], var[1])};
  /* Which sites the lists name: their stacks are written once, by site number. */
  uint8_t *named = __libc_calloc(mbs_nsites + 1, 1);
  mbs_out o = {0};
  mbs_out_s(&o, "{\"mode\":\"sampled\",\"interval\":");
  mbs_out_i(&o, (int64_t)mbs_interval);
  mbs_out_s(&o, ",\"samples\":");
  mbs_out_i(&o, (int64_t)mbs_samples);
  mbs_out_s(&o, ",\"lost\":");
  mbs_out_i(&o, (int64_t)mbs_lost);
  mbs_out_s(&o, ",\"peakLive\":");
  mbs_out_i(&o, mbs_peak_live);
  const char *lists[2] = {",\"peak\":[", ",\"allocated\":["};
  for (int l = 0; l < 2; l++) {
    mbs_out_s(&o, lists[l]);
    for (int i = 0; i < n[l]; i++) {
      if (i) mbs_out_s(&o, ",");
      mbs_out_entry(&o, best[l][i], bytes[l][i], var[l][i]);
      if (named) named[best[l][i]] = 1;
    }
    mbs_out_s(&o, "]");
  }
  mbs_out_s(&o, ",\"windows\":[");
  for (int w = 0; w < mbs_nwindows; w++) {
    mbs_window *win = &mbs_windows[w];
    if (w) mbs_out_s(&o, ",");
    mbs_out_s(&o, "{\"test\":");
    mbs_out_i(&o, win->test);
    mbs_out_s(&o, ",\"grown\":");
    mbs_out_i(&o, win->grown);
    mbs_out_s(&o, ",\"sites\":[");
    for (int i = 0; i < win->n; i++) {
      if (i) mbs_out_s(&o, ",");
      mbs_out_entry(&o, win->site[i], win->bytes[i], win->var[i]);
      if (named) named[win->site[i]] = 1;
    }
    mbs_out_s(&o, "]}");
  }
  mbs_out_s(&o, "]");
  mbs_stacks st;
  if (!mbs_copy_stacks(&st, named)) o.failed = 1; /* sites without their stacks name nothing */
  mbs_unlock();
  __libc_free(named);
  mbs_out_stacks(&o, &st);
  mbs_out_s(&o, "}");
  void *text = mbs_text(&o);
  mbs_leave(left);
  return text;
}

/* The marked live bytes per site (membudget_sites_retained), by site number. */
static double *mbs_marked, *mbs_marked_var;
static uint32_t mbs_nmarked;

/** Load scenarios: with `mark` non-zero, remembers what each site holds now (the end of warm-up)
    and returns None; else returns, as a Python str of JSON, the sites whose live bytes grew most
    since the mark ("retained", with their stacks), or NULL when nothing is sampled. Call with the
    GIL held (the load probe's thread, through ctypes.pythonapi). */
MB_EXPORT void *membudget_sites_retained(int mark) {
  if (!__atomic_load_n(&mbs_on, MB_R)) return NULL;
  int64_t left = mbs_enter();
  mbs_lock();
  void *text = NULL;
  if (mark) {
    double *w = __libc_realloc(mbs_marked, (mbs_nsites + 1) * sizeof(double));
    double *v = w ? __libc_realloc(mbs_marked_var, (mbs_nsites + 1) * sizeof(double)) : NULL;
    if (w) mbs_marked = w;
    if (v) mbs_marked_var = v;
    mbs_nmarked = 0;
    if (w && v) {
      for (uint32_t i = 0; i < mbs_nsites; i++) {
        w[i] = mbs_sites[i].live;
        v[i] = mbs_sites[i].live_var;
      }
      mbs_nmarked = mbs_nsites;
    }
    mbs_unlock();
    mbs_leave(left);
    void *none = dlsym(RTLD_DEFAULT, "_Py_NoneStruct");
    if (none && mbs_py_incref) mbs_py_incref(none);
    return none;
  }
  static uint32_t best[MBS_LIST];
  static double bytes[MBS_LIST], var[MBS_LIST];
  int n = 0;
  for (uint32_t i = 0; i < mbs_nsites; i++) {
    const mbs_site *st = &mbs_sites[i];
    double before = i < mbs_nmarked ? mbs_marked[i] : 0;
    double vv = st->live_var - (i < mbs_nmarked ? mbs_marked_var[i] : 0);
    n = mbs_keep_top(n, best, bytes, var, i, st->live - before, vv);
  }
  uint8_t *named = __libc_calloc(mbs_nsites + 1, 1);
  mbs_out o = {0};
  mbs_out_s(&o, "{\"mode\":\"sampled\",\"interval\":");
  mbs_out_i(&o, (int64_t)mbs_interval);
  mbs_out_s(&o, ",\"samples\":");
  mbs_out_i(&o, (int64_t)mbs_samples);
  mbs_out_s(&o, ",\"retained\":[");
  for (int i = 0; i < n; i++) {
    if (i) mbs_out_s(&o, ",");
    mbs_out_entry(&o, best[i], bytes[i], var[i]);
    if (named) named[best[i]] = 1;
  }
  mbs_out_s(&o, "]");
  mbs_stacks st;
  if (!mbs_copy_stacks(&st, named)) o.failed = 1;
  mbs_unlock();
  __libc_free(named);
  mbs_out_stacks(&o, &st);
  mbs_out_s(&o, "}");
  text = mbs_text(&o);
  mbs_leave(left);
  return text;
}
