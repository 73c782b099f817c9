// Allocation sites from the measured run: the Python hook (mbmalloc-python.c) samples its blocks
// by bytes and this file keeps, per Python stack, the sampled bytes allocated, live now, live at
// the process's peak and at each pytest test's peak window; the Python probe asks for them as JSON.
#define _GNU_SOURCE
#include "mbmalloc-sites.h"

#include <dlfcn.h>
#include <sched.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>

/* ---- how blocks are sampled, and why ----
   As Go's heap profiler and ddtrace's memalloc do: each thread counts down a random number of
   bytes drawn from an exponential distribution of mean R (the interval); the block that crosses
   zero is sampled. Seen from any block, the bytes left are exponential too (the distribution has
   no memory), so a block of n bytes is sampled with probability p = 1 - exp(-n/R), whatever came
   before it, and counting it as n/p bytes makes every sum of sampled blocks an unbiased estimate of
   the true sum (Horvitz-Thompson), with the variance estimated by the sum of n^2 (1-p)/p^2 over the
   sampled blocks. A block of R bytes or more is always sampled, at its own size: large blocks are
   never missed and carry no error. A sample costs a walk of the Python stack, so the hot path is a
   subtraction and a compare per block; the rest (the stack, the tables) is here, out of line.

   The stack is read with the GIL held (Python calls its MEM and OBJ allocators with it), through
   the C API looked up with dlsym, so no Python headers are needed. Up to 3.10 a frame is a plain
   object whose f_back and f_code follow its header (a layout unchanged since 2.x) and the current
   one exists already: nothing is allocated. From 3.11 on, PyEval_GetFrame and PyFrame_GetBack
   may create the frame objects they return; those allocations come back into the hook while this
   thread is busy sampling and are neither counted nor sampled (their word carries another epoch,
   so their free is not counted either), and on 3.11, where creating a GC object may start a
   collection right there, the collector is paused meanwhile (3.12 on only schedules one).

   Our own tables come from glibc directly (__libc_*), outside every counter. */

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

__thread int64_t mbs_left __attribute__((tls_model("initial-exec")));
uint64_t mbs_big = UINT64_MAX;
static __thread int mbs_busy __attribute__((tls_model("initial-exec")));
static __thread uint32_t mbs_armed __attribute__((tls_model("initial-exec")));
static __thread uint64_t mbs_rng __attribute__((tls_model("initial-exec")));

static int mbs_on;
static uint32_t mbs_generation = 1; /* a thread whose mbs_armed differs draws a new countdown */
static double mbs_interval;
static int mbs_version; /* sys.hexversion */
static uint32_t mbs_epoch;
static uint32_t mbs_spin;

static mbs_site *mbs_sites;
static uint32_t mbs_nsites, mbs_cap_sites;
static mbs_frame *mbs_frames;
static uint32_t mbs_nframes, mbs_cap_frames;
static uint32_t *mbs_index; /* site number + 1 by stack hash; 0 = empty */
static size_t mbs_index_mask;
static mbs_block *mbs_blocks;
static size_t mbs_blocks_mask, mbs_nblocks;
static uint64_t mbs_samples, mbs_lost;

static uint32_t mbs_gen[SNAPS];
static int64_t mbs_peak_live, mbs_win_start, mbs_win_peak;
static int64_t mbs_test = -1;
static mbs_window mbs_windows[MBS_WINDOWS];
static int mbs_nwindows;

/* The C API, looked up at start. */
static void *(*mbs_py_tstate)(void);
static void *(*mbs_py_get_frame)(void);
static void *(*mbs_py_frame_back)(void *);
static void *(*mbs_py_frame_code)(void *);
static int (*mbs_py_frame_line)(void *);
static void (*mbs_py_incref)(void *);
static void (*mbs_py_decref)(void *);
static int (*mbs_py_gc_disable)(void);
static int (*mbs_py_gc_enable)(void);

static void mbs_lock(void) {
  while (__atomic_exchange_n(&mbs_spin, 1, __ATOMIC_ACQUIRE)) sched_yield();
}
static void mbs_unlock(void) { __atomic_store_n(&mbs_spin, 0, __ATOMIC_RELEASE); }

/* ---- random intervals ---- */

static uint64_t mbs_next_random(void) {
  uint64_t x = mbs_rng;
  if (!x) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    x = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)(uintptr_t)&mbs_rng ^ (uint64_t)getauxval(AT_RANDOM);
    x = x * UINT64_C(0x9e3779b97f4a7c15) | 1;
  }
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  mbs_rng = x;
  return x * UINT64_C(0x2545f4914f6cdd1d);
}

/* mbs_ln(u) for u in (0, 1], to ~1e-7: no libm in the interposer. */
static double mbs_ln(double u) {
  int e = 0;
  while (u < 0.5) {
    u *= 2;
    e--;
  }
  double s = (u - 1) / (u + 1), s2 = s * s;
  return 2 * s * (1 + s2 * (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9 + s2 / 11))))) +
         e * 0.6931471805599453;
}

/* exp(-x) for x >= 0. */
static double mbs_exp_neg(double x) {
  if (x > 700) return 0;
  int k = 0;
  while (x > 0.125) {
    x /= 2;
    k++;
  }
  double t = 1 - x * (1 - x / 2 * (1 - x / 3 * (1 - x / 4 * (1 - x / 5 * (1 - x / 6)))));
  while (k--) t *= t;
  return t;
}

static int64_t mbs_draw(void) {
  double u = (double)((mbs_next_random() >> 11) + 1) * (1.0 / 9007199254740992.0); /* (0, 1] */
  double bytes = -mbs_ln(u) * mbs_interval;
  return bytes < 1 ? 1 : bytes > 4e18 ? (int64_t)4e18 : (int64_t)bytes;
}

/* ---- tables ---- */

static inline uint64_t mbs_mix(uint64_t x) {
  x ^= x >> 33;
  x *= UINT64_C(0xff51afd7ed558ccd);
  x ^= x >> 33;
  return x;
}

static int mbs_grow(void **p, uint32_t *cap, uint32_t need, size_t size) {
  if (need <= *cap) return 1;
  uint32_t n = *cap ? *cap : 256;
  while (n < need) n *= 2;
  void *q = __libc_realloc(*p, (size_t)n * size);
  if (!q) return 0;
  *p = q;
  *cap = n;
  return 1;
}

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

static int mbs_index_grow(void) {
  size_t cap = mbs_index_mask ? (mbs_index_mask + 1) * 2 : 1024;
  uint32_t *idx = __libc_calloc(cap, sizeof(uint32_t));
  if (!idx) return 0;
  for (uint32_t i = 0; i < mbs_nsites; i++) {
    size_t j = mbs_sites[i].hash & (cap - 1);
    while (idx[j]) j = (j + 1) & (cap - 1);
    idx[j] = i + 1;
  }
  __libc_free(mbs_index);
  mbs_index = idx;
  mbs_index_mask = cap - 1;
  return 1;
}

/* The site of a stack; `made` says whether it is new (it then holds references to the codes). */
static int64_t mbs_site_of(const mbs_frame *stack, uint32_t depth, int *made) {
  *made = 0;
  uint64_t h = UINT64_C(0xcbf29ce484222325) ^ depth;
  for (uint32_t i = 0; i < depth; i++) h = mbs_mix(h ^ (uint64_t)(uintptr_t)stack[i].code ^ ((uint64_t)stack[i].line << 48));
  if (mbs_index_mask) {
    for (size_t j = h & mbs_index_mask; mbs_index[j]; j = (j + 1) & mbs_index_mask) {
      mbs_site *s = &mbs_sites[mbs_index[j] - 1];
      if (s->hash == h && s->depth == depth &&
          memcmp(&mbs_frames[s->first], stack, depth * sizeof(mbs_frame)) == 0)
        return mbs_index[j] - 1;
    }
  }
  if (mbs_nsites >= MBS_MAX_SITES) return -1;
  if ((mbs_nsites + 1) * 2 > mbs_index_mask && !mbs_index_grow()) return -1;
  if (!mbs_grow((void **)&mbs_sites, &mbs_cap_sites, mbs_nsites + 1, sizeof(mbs_site)) ||
      !mbs_grow((void **)&mbs_frames, &mbs_cap_frames, mbs_nframes + depth, sizeof(mbs_frame)))
    return -1;
  mbs_site *s = &mbs_sites[mbs_nsites];
  memset(s, 0, sizeof(*s));
  s->hash = h;
  s->first = mbs_nframes;
  s->depth = depth;
  memcpy(s->gen, mbs_gen, sizeof(mbs_gen)); /* nothing live at the snapshots taken so far */
  memcpy(&mbs_frames[mbs_nframes], stack, depth * sizeof(mbs_frame));
  *made = 1;
  mbs_nframes += depth;
  size_t j = h & mbs_index_mask;
  while (mbs_index[j]) j = (j + 1) & mbs_index_mask;
  mbs_index[j] = mbs_nsites + 1;
  return mbs_nsites++;
}

static int mbs_blocks_put(uintptr_t key, uint32_t site, double weight, double var) {
  if ((mbs_nblocks + 1) * 2 > mbs_blocks_mask) {
    size_t cap = mbs_blocks_mask ? (mbs_blocks_mask + 1) * 2 : 1024;
    mbs_block *b = __libc_calloc(cap, sizeof(mbs_block));
    if (!b) return 0;
    for (size_t i = 0; mbs_blocks_mask && i <= mbs_blocks_mask; i++) {
      if (!mbs_blocks[i].key) continue;
      size_t j = mbs_mix(mbs_blocks[i].key) & (cap - 1);
      while (b[j].key) j = (j + 1) & (cap - 1);
      b[j] = mbs_blocks[i];
    }
    __libc_free(mbs_blocks);
    mbs_blocks = b;
    mbs_blocks_mask = cap - 1;
  }
  size_t j = mbs_mix(key) & mbs_blocks_mask;
  while (mbs_blocks[j].key && mbs_blocks[j].key != key) j = (j + 1) & mbs_blocks_mask;
  if (!mbs_blocks[j].key) mbs_nblocks++;
  mbs_blocks[j] = (mbs_block){key, site, weight, var};
  return 1;
}

/* Linear probing with deletion by backward shift: no tombstones. */
static int mbs_blocks_take(uintptr_t key, mbs_block *out) {
  if (!mbs_blocks_mask) return 0;
  size_t j = mbs_mix(key) & mbs_blocks_mask;
  while (mbs_blocks[j].key != key) {
    if (!mbs_blocks[j].key) return 0;
    j = (j + 1) & mbs_blocks_mask;
  }
  *out = mbs_blocks[j];
  mbs_blocks[j].key = 0;
  mbs_nblocks--;
  for (size_t i = (j + 1) & mbs_blocks_mask; mbs_blocks[i].key; i = (i + 1) & mbs_blocks_mask) {
    size_t home = mbs_mix(mbs_blocks[i].key) & mbs_blocks_mask;
    /* Move it into the hole unless its home lies cyclically in (j, i]. */
    if (((i - home) & mbs_blocks_mask) >= ((i - j) & mbs_blocks_mask)) {
      mbs_blocks[j] = mbs_blocks[i];
      mbs_blocks[i].key = 0;
      j = i;
    }
  }
  return 1;
}

/* Forgets every site and block (a forked child, a new mark): only what comes next counts. */
static void mbs_reset_tables(void) {
  mbs_nsites = 0; /* the code references stay taken: harmless */
  mbs_nframes = 0;
  if (mbs_index) memset(mbs_index, 0, (mbs_index_mask + 1) * sizeof(uint32_t));
  if (mbs_blocks) memset(mbs_blocks, 0, (mbs_blocks_mask + 1) * sizeof(mbs_block));
  mbs_nblocks = 0;
  mbs_samples = mbs_lost = 0;
  mbs_peak_live = mbs_win_start = mbs_win_peak = 0;
  mbs_nwindows = 0;
  mbs_test = -1;
  mbs_epoch = cur_epoch();
}

/* ---- the stack ---- */

static uint32_t mbs_read_stack(mbs_frame *out) {
  if (!mbs_py_tstate()) return 0;
  uint32_t depth = 0;
  if (mbs_version < 0x030b0000) {
    /* PyFrameObject up to 3.10: PyObject_VAR_HEAD, f_back, f_code, ... (borrowed, never made). */
    for (void **f = mbs_py_get_frame(); f && depth < MBS_DEPTH; f = (void **)f[3]) {
      out[depth].code = f[4];
      out[depth].line = mbs_py_frame_line(f);
      depth++;
    }
    return depth;
  }
  int paused = mbs_version < 0x030c0000 && mbs_py_gc_disable ? mbs_py_gc_disable() : 0;
  void *f = mbs_py_get_frame(); /* borrowed */
  int owned = 0;
  while (f && depth < MBS_DEPTH) {
    out[depth].code = mbs_py_frame_code(f); /* a new reference */
    out[depth].line = mbs_py_frame_line(f);
    depth++;
    void *back = mbs_py_frame_back(f); /* a new reference, to a frame its interpreter frame holds */
    if (owned) mbs_py_decref(f);
    f = back;
    owned = 1;
  }
  if (owned && f) mbs_py_decref(f);
  if (paused) mbs_py_gc_enable();
  return depth;
}

/* ---- the hooks ---- */

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

/* Records a sampled block of `n` bytes, not yet counted; 1 when it is in the tables. */
static int mbs_record(void *user, size_t n, double weight, double var) {
  mbs_frame stack[MBS_DEPTH];
  mbs_busy = 1;
  int64_t left = mbs_left;
  mbs_left = INT64_MIN / 2; /* every allocation of ours goes to the slow path, which sees busy */
  uint32_t depth = mbs_read_stack(stack);
  /* From 3.11 on the codes come with a reference each; before, borrowed. */
  int referenced = mbs_version >= 0x030b0000, made = 0;
  mbs_lock();
  /* A mark since the last sample (the probe starts us just before its mark; a forked child):
     only what comes after it counts. */
  if (mbs_epoch != cur_epoch()) mbs_reset_tables();
  int64_t site = mbs_site_of(stack, depth, &made);
  int recorded = 0;
  if (site >= 0 && mbs_blocks_put((uintptr_t)user, (uint32_t)site, weight, var)) {
    mbs_site *s = &mbs_sites[site];
    mbs_touch(s);
    s->samples++;
    s->alloc += weight;
    s->alloc_var += var;
    s->live += weight;
    s->live_var += var;
    mbs_samples++;
    /* Lazy snapshots of what is live at the process's peak and at this window's (the block
       is counted right after this returns). */
    int64_t live = mbs_live() + (int64_t)n;
    if (live >= mbs_peak_live) {
      mbs_peak_live = live;
      mbs_gen[SNAP_PEAK]++;
    }
    if (live >= mbs_win_peak) {
      mbs_win_peak = live;
      mbs_gen[SNAP_WPEAK]++;
    }
    recorded = 1;
  } else {
    mbs_lost++;
  }
  /* A new site keeps a reference to each code for good (a code's address must not be reused). */
  for (uint32_t i = 0; i < depth; i++) {
    if (made && !referenced) mbs_py_incref(stack[i].code);
    if (!made && referenced) mbs_py_decref(stack[i].code);
  }
  mbs_unlock();
  mbs_left = left;
  mbs_busy = 0;
  return recorded;
}

int mbs_alloc_slow(void *user, uint64_t *word, size_t n) {
  if (mbs_busy) { /* our own allocation while sampling: another epoch, so never counted */
    *word = (*word & ((UINT64_C(1) << 48) - 1)) | ((uint64_t)((cur_epoch() ^ 0x8000u) & 0xffffu) << 48);
    return 0;
  }
  if (!__atomic_load_n(&mbs_on, MB_R)) {
    mbs_left = MBS_IDLE;
    return 1;
  }
  if (n < mbs_big) {
    uint32_t g = __atomic_load_n(&mbs_generation, MB_R);
    if (mbs_armed != g) { /* this thread's first block since sampling began */
      mbs_armed = g;
      mbs_left = mbs_draw();
      if ((mbs_left -= (int64_t)n) > 0) return 1;
    }
    mbs_left = mbs_draw();
  }
  double weight = (double)n, var = 0;
  if (n < mbs_big) {
    double p = 1 - mbs_exp_neg((double)n / mbs_interval);
    if (p <= 0) p = 1e-300;
    weight = (double)n / p;
    var = weight * weight * (1 - p);
  }
  if (mbs_record(user, n, weight, var)) *word |= MBS_SAMPLED;
  return 1;
}

void mbs_forget(const void *user) {
  mbs_block b;
  mbs_lock();
  if (mbs_blocks_take((uintptr_t)user, &b) && b.site < mbs_nsites) {
    mbs_site *s = &mbs_sites[b.site];
    mbs_touch(s);
    s->live -= b.weight;
    s->live_var -= b.var;
  }
  mbs_unlock();
}

static void mbs_on_fork_child(void) {
  mbs_spin = 0;
  mbs_reset_tables();
}

/** Starts sampling Python's blocks every `interval` bytes on average (call with the GIL held,
    before membudget_mark: what this call allocates is not the program's). `version` is sys.hexversion. Returns 1 when sampling, 0 when this
    Python lacks what the stack walk needs. */
MB_EXPORT int membudget_sites_start(int interval, int version) {
  static int once;
  mbs_version = (int)version;
  mbs_py_tstate = (void *(*)(void))dlsym(RTLD_DEFAULT, "PyThreadState_GetUnchecked");
  if (!mbs_py_tstate) mbs_py_tstate = (void *(*)(void))dlsym(RTLD_DEFAULT, "_PyThreadState_UncheckedGet");
  mbs_py_get_frame = (void *(*)(void))dlsym(RTLD_DEFAULT, "PyEval_GetFrame");
  mbs_py_frame_back = (void *(*)(void *))dlsym(RTLD_DEFAULT, "PyFrame_GetBack");
  mbs_py_frame_code = (void *(*)(void *))dlsym(RTLD_DEFAULT, "PyFrame_GetCode");
  mbs_py_frame_line = (int (*)(void *))dlsym(RTLD_DEFAULT, "PyFrame_GetLineNumber");
  mbs_py_incref = (void (*)(void *))dlsym(RTLD_DEFAULT, "Py_IncRef");
  mbs_py_decref = (void (*)(void *))dlsym(RTLD_DEFAULT, "Py_DecRef");
  mbs_py_gc_disable = (int (*)(void))dlsym(RTLD_DEFAULT, "PyGC_Disable");
  mbs_py_gc_enable = (int (*)(void))dlsym(RTLD_DEFAULT, "PyGC_Enable");
  int modern = version >= 0x030b0000;
  if (!mbs_py_tstate || !mbs_py_get_frame || !mbs_py_frame_line || !mbs_py_incref || !mbs_py_decref || interval <= 0 ||
      version < 0x03060000 || (modern && (!mbs_py_frame_back || !mbs_py_frame_code)))
    return 0;
  mbs_lock();
  mbs_reset_tables();
  mbs_interval = (double)interval;
  memset(mbs_gen, 0, sizeof(mbs_gen));
  mbs_unlock();
  if (!once) {
    once = 1;
    pthread_atfork(NULL, NULL, mbs_on_fork_child);
  }
  __atomic_store_n(&mbs_big, (uint64_t)interval, MB_R);
  __atomic_add_fetch(&mbs_generation, 1, MB_R);
  __atomic_store_n(&mbs_on, 1, MB_R);
  mbs_armed = mbs_generation;
  mbs_left = mbs_draw();
  return 1;
}

static double mbs_window_bytes(const mbs_site *s, double *var) {
  double v = mbs_at_var(s, SNAP_WPEAK) - mbs_at_var(s, SNAP_WSTART);
  *var = v > 0 ? v : 0;
  return mbs_at(s, SNAP_WPEAK) - mbs_at(s, SNAP_WSTART);
}

/* Keeps the window that ends now if its heap grew among the most: its sites that grew most. */
static void mbs_close_window(int64_t peak) {
  if (mbs_test < 0) return;
  int64_t grown = peak - mbs_win_start;
  int slot = mbs_nwindows;
  if (mbs_nwindows == MBS_WINDOWS) {
    slot = 0;
    for (int i = 1; i < MBS_WINDOWS; i++)
      if (mbs_windows[i].grown < mbs_windows[slot].grown) slot = i;
    if (mbs_windows[slot].grown >= grown) return;
  } else {
    mbs_nwindows++;
  }
  mbs_window *w = &mbs_windows[slot];
  w->test = mbs_test;
  w->grown = grown;
  w->n = 0;
  for (uint32_t i = 0; i < mbs_nsites; i++) {
    double var, b = mbs_window_bytes(&mbs_sites[i], &var);
    if (b <= 0.5 || (w->n == MBS_WINDOW_SITES && w->bytes[w->n - 1] >= b)) continue;
    int j = w->n < MBS_WINDOW_SITES ? w->n++ : w->n - 1; /* largest first, by insertion */
    while (j > 0 && w->bytes[j - 1] < b) {
      w->site[j] = w->site[j - 1];
      w->bytes[j] = w->bytes[j - 1];
      w->var[j] = w->var[j - 1];
      j--;
    }
    w->site[j] = i;
    w->bytes[j] = b;
    w->var[j] = var;
  }
}

/** The pytest plugin's test `test` (its number, from 0) begins: call it before membudget_window,
    while the interposer's peak is still the previous test's. */
MB_EXPORT void membudget_sites_window(int test) {
  if (!__atomic_load_n(&mbs_on, MB_R)) return;
  int64_t live = mbs_live();
  mbs_lock();
  mbs_close_window(mbs_window_peak());
  mbs_test = test;
  mbs_win_start = mbs_win_peak = live;
  mbs_gen[SNAP_WSTART]++;
  mbs_gen[SNAP_WPEAK]++;
  mbs_unlock();
}

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

/* The sites at `k` (a snapshot), or allocated (k < 0), largest first: up to MBS_LIST indexes. */
static int mbs_top(int k, uint32_t *best, double *bytes, double *var) {
  int n = 0;
  for (uint32_t i = 0; i < mbs_nsites; i++) {
    const mbs_site *s = &mbs_sites[i];
    double b = k < 0 ? s->alloc : mbs_at(s, k), v = k < 0 ? s->alloc_var : mbs_at_var(s, k);
    if (b <= 0.5) continue;
    if (n == MBS_LIST && bytes[n - 1] >= b) continue;
    int j = n < MBS_LIST ? n++ : n - 1;
    while (j > 0 && bytes[j - 1] < b) {
      best[j] = best[j - 1];
      bytes[j] = bytes[j - 1];
      var[j] = var[j - 1];
      j--;
    }
    best[j] = i;
    bytes[j] = b;
    var[j] = v > 0 ? v : 0;
  }
  return n;
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

/* ,"stacks":{"<site>":[[file, line, function], ...], ...} for the sites marked in `named`. */
static void mbs_out_stacks(mbs_out *o, const uint8_t *named) {
  mbs_out_s(o, ",\"stacks\":{");
  int first = 1;
  for (uint32_t i = 0; named && i < mbs_nsites; i++) {
    if (!named[i]) continue;
    if (!first) mbs_out_s(o, ",");
    first = 0;
    mbs_out_s(o, "\"");
    mbs_out_i(o, i);
    mbs_out_s(o, "\":[");
    const mbs_site *s = &mbs_sites[i];
    for (uint32_t f = 0; f < s->depth; f++) {
      const mbs_frame *fr = &mbs_frames[s->first + f];
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
  mbs_out_stacks(&o, named);
  mbs_out_s(&o, "}");
  mbs_unlock();
  __libc_free(named);
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
    double b = st->live - before;
    double vv = st->live_var - (i < mbs_nmarked ? mbs_marked_var[i] : 0);
    if (b <= 0.5 || (n == MBS_LIST && bytes[n - 1] >= b)) continue;
    int j = n < MBS_LIST ? n++ : n - 1;
    while (j > 0 && bytes[j - 1] < b) {
      best[j] = best[j - 1];
      bytes[j] = bytes[j - 1];
      var[j] = var[j - 1];
      j--;
    }
    best[j] = i;
    bytes[j] = b;
    var[j] = vv > 0 ? vv : 0;
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
  mbs_out_stacks(&o, named);
  mbs_out_s(&o, "}");
  mbs_unlock();
  __libc_free(named);
  text = mbs_text(&o);
  mbs_leave(left);
  return text;
}
