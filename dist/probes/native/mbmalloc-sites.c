// Allocation sites from the measured run: the Python hook (mbmalloc-python.c) samples its blocks
// by bytes; this file draws the countdowns and reads the Python stack of a sampled block, which the
// tables (mbmalloc-sites-tables.c) keep per stack; mbmalloc-sites-json.c writes them for the probe.
#define _GNU_SOURCE
#include "mbmalloc-sites-tables.h"

#include <dlfcn.h>
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

   The stack is read with the GIL held (Python calls its MEM and OBJ allocators with it; on a
   free-threaded build, by the thread whose stack it is, attached to its own thread state), through
   the C API looked up with dlsym, so no Python headers are needed. The tables are shared by every
   thread under one lock (mbs_spin), which is never held across a call into Python. Up to 3.10 a frame is a plain
   object whose f_back and f_code follow its header (a layout unchanged since 2.x) and the current
   one exists already: nothing is allocated. From 3.11 on, PyEval_GetFrame and PyFrame_GetBack
   may create the frame objects they return; those allocations come back into the hook while this
   thread is busy sampling and are neither counted nor sampled (their word carries another epoch,
   so their free is not counted either), and on 3.11, where creating a GC object may start a
   collection right there, the collector is paused meanwhile (3.12 on only schedules one).

   Our own tables come from glibc directly (__libc_*), outside every counter. */

__thread int64_t mbs_left __attribute__((tls_model("initial-exec")));
uint64_t mbs_big = UINT64_MAX;
__thread int mbs_busy __attribute__((tls_model("initial-exec")));
static __thread uint32_t mbs_armed __attribute__((tls_model("initial-exec")));
static __thread uint64_t mbs_rng __attribute__((tls_model("initial-exec")));

int mbs_on;
static uint32_t mbs_generation = 1; /* a thread whose mbs_armed differs draws a new countdown */
double mbs_interval;
int mbs_version; /* sys.hexversion */

/* The C API, looked up at start. */
static void *(*mbs_py_tstate)(void);
static void *(*mbs_py_get_frame)(void);
static void *(*mbs_py_frame_back)(void *);
static void *(*mbs_py_frame_code)(void *);
static int (*mbs_py_frame_line)(void *);
void (*mbs_py_incref)(void *);
void (*mbs_py_decref)(void *);
static int (*mbs_py_gc_disable)(void);
static int (*mbs_py_gc_enable)(void);

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
  mbs_unlock();
  /* A new site keeps a reference to each code for good (a code's address must not be reused).
     Outside the lock: on a free-threaded build a reference dropped from another thread's object
     may take CPython's own locks. */
  for (uint32_t i = 0; i < depth; i++) {
    if (made && !referenced) mbs_py_incref(stack[i].code);
    if (!made && referenced) mbs_py_decref(stack[i].code);
  }
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
