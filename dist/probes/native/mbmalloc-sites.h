// What the Python hook (mbmalloc-python.c) calls to sample allocation sites (mbmalloc-sites.c):
// a countdown per thread on the hot path, the rest out of line.
#ifndef MBMALLOC_SITES_H
#define MBMALLOC_SITES_H
#include "mbmalloc.h"

/* Bytes this thread may still allocate before its next sample. */
extern MB_HIDDEN __thread int64_t mbs_left __attribute__((tls_model("initial-exec")));
/* A block of at least this many bytes is always sampled (UINT64_MAX while sampling is off). */
extern MB_HIDDEN uint64_t mbs_big;

/* The bit of a Python block's word (size | epoch << 48) that says it was sampled: its free must
   take it out of the sampled blocks. Sizes keep the 47 bits below it. */
#define MBS_SAMPLED (UINT64_C(1) << 47)

MB_HIDDEN int mbs_alloc_slow(void *user, uint64_t *word, size_t n);
MB_HIDDEN void mbs_forget(const void *user);

/** Called for a new Python block of `n` bytes before it is counted: returns whether to count it
    (0 only for the sampler's own allocations, whose `*word` then carries another epoch, so that
    their free is not counted either) and sets MBS_SAMPLED in `*word` when it was sampled. The
    counting stays with the caller, which knows its counters. */
static inline int mbs_alloc(void *user, uint64_t *word, size_t n) {
  if (MB_LIKELY(n < mbs_big && (mbs_left -= (int64_t)n) > 0)) return 1;
  return mbs_alloc_slow(user, word, n);
}

/** A Python block with this word is going away (freed, or moved by realloc). */
static inline void mbs_free(const void *user, uint64_t word) {
  if (MB_UNLIKELY(word & MBS_SAMPLED)) mbs_forget(user);
}

#endif
