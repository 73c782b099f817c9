// The sampled sites' tables (the sampler, mbmalloc-sites.c, feeds them): per Python stack the
// sampled bytes allocated and live, snapshots of them taken lazily at the process's peak and at each
// pytest test's window, the sampled blocks by address, and the windows kept.
#define _GNU_SOURCE
#include "mbmalloc-sites-tables.h"

#include <string.h>

uint32_t mbs_epoch;
uint32_t mbs_spin;
mbs_site *mbs_sites;
uint32_t mbs_nsites;
static uint32_t mbs_cap_sites;
mbs_frame *mbs_frames;
static uint32_t mbs_nframes, mbs_cap_frames;
static uint32_t *mbs_index; /* site number + 1 by stack hash; 0 = empty */
static size_t mbs_index_mask;
static mbs_block *mbs_blocks;
static size_t mbs_blocks_mask, mbs_nblocks;
uint64_t mbs_samples, mbs_lost;

uint32_t mbs_gen[SNAPS];
int64_t mbs_peak_live, mbs_win_start, mbs_win_peak;
int64_t mbs_test = -1;
mbs_window mbs_windows[MBS_WINDOWS];
int mbs_nwindows;

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
int64_t mbs_site_of(const mbs_frame *stack, uint32_t depth, int *made) {
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

int mbs_blocks_put(uintptr_t key, uint32_t site, double weight, double var) {
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
int mbs_blocks_take(uintptr_t key, mbs_block *out) {
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
void mbs_reset_tables(void) {
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

static double mbs_window_bytes(const mbs_site *s, double *var) {
  double v = mbs_at_var(s, SNAP_WPEAK) - mbs_at_var(s, SNAP_WSTART);
  *var = v > 0 ? v : 0;
  return mbs_at(s, SNAP_WPEAK) - mbs_at(s, SNAP_WSTART);
}

/* Keeps the window that ends now if its heap grew among the most: its sites that grew most. */
void mbs_close_window(int64_t peak) {
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

/* Puts site `i` (b bytes, variance v) in a list of n (≤ MBS_LIST) kept largest first, unless it
   holds under half a byte or is smaller than all of a full list; returns the list's new length. */
int mbs_keep_top(int n, uint32_t *best, double *bytes, double *var, uint32_t i, double b, double v) {
  if (b <= 0.5 || (n == MBS_LIST && bytes[n - 1] >= b)) return n;
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
  return n;
}

/* The sites at `k` (a snapshot), or allocated (k < 0), largest first: up to MBS_LIST indexes. */
int mbs_top(int k, uint32_t *best, double *bytes, double *var) {
  int n = 0;
  for (uint32_t i = 0; i < mbs_nsites; i++) {
    const mbs_site *s = &mbs_sites[i];
    double b = k < 0 ? s->alloc : mbs_at(s, k), v = k < 0 ? s->alloc_var : mbs_at_var(s, k);
    n = mbs_keep_top(n, best, bytes, var, i, b, v);
  }
  return n;
}
