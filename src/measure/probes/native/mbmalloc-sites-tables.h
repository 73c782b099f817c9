// The sampled sites' shared state, between the sampler (mbmalloc-sites.c: countdown, stack capture),
// the per-site tables with their snapshots and pytest windows (mbmalloc-sites-tables.c) and the
// writer of the figures as JSON (mbmalloc-sites-json.c). The Python hook sees only mbmalloc-sites.h.
#ifndef MBMALLOC_SITES_TABLES_H
#define MBMALLOC_SITES_TABLES_H
#include "mbmalloc-sites.h"

#include <sched.h>

enum {
  MBS_DEPTH = 48,      /* frames kept per stack, innermost first */
  MBS_MAX_SITES = 1 << 16,
  MBS_WINDOWS = 32,    /* pytest windows kept: those whose heap grew most */
  MBS_WINDOW_SITES = 16,
  MBS_LIST = 64,       /* sites per list in the JSON */
  MBS_IDLE = 64 << 20, /* while sampling is off, a thread looks again after this many bytes */
};

/* Snapshots taken lazily: a site saves its values the first time they change after one. */
enum { SNAP_PEAK, SNAP_WSTART, SNAP_WPEAK, SNAPS };

typedef struct {
  void *code; /* a reference kept (Py_IncRef) for as long as the process lives */
  intptr_t line; /* as wide as the pointer: no padding for memcmp to read */
} mbs_frame;

typedef struct {
  uint64_t hash;
  uint32_t first, depth; /* frames in mbs_frames */
  uint64_t samples;
  double alloc, alloc_var; /* bytes allocated (estimate) and its variance */
  double live, live_var;   /* bytes live now */
  double saved[SNAPS], saved_var[SNAPS];
  uint32_t gen[SNAPS];
} mbs_site;

typedef struct {
  uintptr_t key; /* the user pointer; 0 = empty */
  uint32_t site;
  double weight, var;
} mbs_block;

typedef struct {
  int64_t test;
  int64_t grown;
  int n;
  uint32_t site[MBS_WINDOW_SITES];
  double bytes[MBS_WINDOW_SITES], var[MBS_WINDOW_SITES];
} mbs_window;

/* The sampler's state (mbmalloc-sites.c). */
extern MB_HIDDEN __thread int mbs_busy __attribute__((tls_model("initial-exec")));
extern MB_HIDDEN int mbs_on;
extern MB_HIDDEN double mbs_interval;
extern MB_HIDDEN int mbs_version; /* sys.hexversion */
extern MB_HIDDEN void (*mbs_py_incref)(void *);
extern MB_HIDDEN void (*mbs_py_decref)(void *);

/* The tables (mbmalloc-sites-tables.c), under mbs_spin. */
extern MB_HIDDEN uint32_t mbs_epoch;
extern MB_HIDDEN uint32_t mbs_spin;
extern MB_HIDDEN mbs_site *mbs_sites;
extern MB_HIDDEN uint32_t mbs_nsites;
extern MB_HIDDEN mbs_frame *mbs_frames;
extern MB_HIDDEN uint64_t mbs_samples, mbs_lost;
extern MB_HIDDEN uint32_t mbs_gen[SNAPS];
extern MB_HIDDEN int64_t mbs_peak_live, mbs_win_start, mbs_win_peak;
extern MB_HIDDEN int64_t mbs_test;
extern MB_HIDDEN mbs_window mbs_windows[MBS_WINDOWS];
extern MB_HIDDEN int mbs_nwindows;

static inline void mbs_lock(void) {
  while (__atomic_exchange_n(&mbs_spin, 1, __ATOMIC_ACQUIRE)) sched_yield();
}
static inline void mbs_unlock(void) { __atomic_store_n(&mbs_spin, 0, __ATOMIC_RELEASE); }

/* Brings a site's lazily saved values up to the latest snapshots, before they change. */
static inline void mbs_touch(mbs_site *s) {
  for (int k = 0; k < SNAPS; k++)
    if (s->gen[k] != mbs_gen[k]) {
      s->gen[k] = mbs_gen[k];
      s->saved[k] = s->live;
      s->saved_var[k] = s->live_var;
    }
}

static inline double mbs_at(const mbs_site *s, int k) { return s->gen[k] == mbs_gen[k] ? s->saved[k] : s->live; }
static inline double mbs_at_var(const mbs_site *s, int k) {
  return s->gen[k] == mbs_gen[k] ? s->saved_var[k] : s->live_var;
}

/* The live heap (malloc's and, where the interposer keeps them apart, Python's counters). */
static inline int64_t mbs_live(void) {
#ifdef mb_py
  return __atomic_load_n(&mb.live, MB_R) + __atomic_load_n(&mb_py.live, MB_R);
#else
  return __atomic_load_n(&mb.live, MB_R);
#endif
}

/* The current window's peak so far. */
static inline int64_t mbs_window_peak(void) {
  int64_t peak = __atomic_load_n(&mb.peak, MB_R);
#ifdef mb_py
  int64_t py = __atomic_load_n(&mb_py.peak, MB_R);
  if (py > peak) peak = py;
#endif
  return peak;
}

MB_HIDDEN int64_t mbs_site_of(const mbs_frame *stack, uint32_t depth, int *made);
MB_HIDDEN int mbs_blocks_put(uintptr_t key, uint32_t site, double weight, double var);
MB_HIDDEN int mbs_blocks_take(uintptr_t key, mbs_block *out);
MB_HIDDEN void mbs_reset_tables(void);
MB_HIDDEN void mbs_close_window(int64_t peak);
MB_HIDDEN int mbs_keep_top(int n, uint32_t *best, double *bytes, double *var, uint32_t i, double b, double v);
MB_HIDDEN int mbs_top(int k, uint32_t *best, double *bytes, double *var);

#endif
