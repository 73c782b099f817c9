// The Python half of the allocation probe: wraps Python's MEM and OBJ allocators (pymalloc kept)
// so that what Python asks for is counted with the interposer's counters (mbmalloc.h).
#define _GNU_SOURCE
#include "mbmalloc-sites.h"
#include "mbmalloc.h"

#include <dlfcn.h>
#include <string.h>
#include <sys/auxv.h>

/* ---- Python's allocator domains ----
   With pymalloc in place, Python's small objects never reach malloc: pymalloc carves them out of
   its own mmap'd arenas. Rather than turn pymalloc off (PYTHONMALLOC=malloc costs ~10 % on
   allocation-heavy code by itself), the Python probe asks us to wrap the MEM and OBJ domains'
   allocators (PyMem_SetAllocator, as tracemalloc does). What Python asks of them is counted here;
   the raw mallocs pymalloc makes underneath (for blocks over 512 B) are tagged uncounted by the
   interposer above, so nothing is counted twice; the RAW domain and native code stay the
   interposer's.

   The hook comes late: the interpreter has allocated thousands of blocks before sitecustomize
   runs, and it will free and resize them through us. On a GIL build each block we hand out
   carries a 16-byte header (free-threaded builds keep a table instead, see below), the requested size (with the epoch in its top 16 bits) and a tag: a per-process random
   key XOR the user pointer. A block from before the hook cannot carry that tag: the 8 bytes
   before it belong to its neighbour or to pymalloc's pool header, and we never handed out its
   address (it was live all along), so only data equal by chance to a secret 64-bit value could
   match. Such blocks pass through untouched, as tracemalloc passes through blocks it never
   traced; a realloc of one becomes ours at its new size (tracemalloc's rule too). */

typedef struct {
  void *ctx;
  void *(*malloc)(void *ctx, size_t size);
  void *(*calloc)(void *ctx, size_t nelem, size_t elsize);
  void *(*realloc)(void *ctx, void *ptr, size_t new_size);
  void (*free)(void *ctx, void *ptr);
} py_allocator; /* PyMemAllocatorEx */

enum { PY_DOMAIN_MEM = 1, PY_DOMAIN_OBJ = 2 };
#define PY_SIZE_BITS 48
#define PY_SIZE_MASK (MBS_SAMPLED - 1) /* bit 47 says the block was sampled (mbmalloc-sites.h) */

static py_allocator mb_py_next[3]; /* the allocators we wrap, per domain */
static uint64_t mb_key;

static inline uint64_t py_word(size_t n) { return (uint64_t)n | ((uint64_t)cur_epoch() << PY_SIZE_BITS); }

static inline uint64_t py_tag(const void *user) { return mb_key ^ (uint64_t)(uintptr_t)user; }

static inline void *py_finish(char *base, size_t n) {
  uint64_t *h = (uint64_t *)base;
  char *user = base + HDR;
  uint64_t word = py_word(n);
  if (MB_LIKELY(mbs_alloc(user, &word, n))) py_on_alloc(n); /* may sample it (mbmalloc-sites.c) */
  h[0] = word;
  h[1] = py_tag(user);
  return user;
}

/* A zero-byte request still takes one byte more: with an empty user area its pointer would be the
   address of the next slot in pymalloc's pool, and a block there from before the hook would then
   find our tag right before it and pass for ours. */
#define PY_ROOM(n) ((n) + HDR + ((n) == 0))

static void *py_malloc(void *ctx, size_t n) {
  py_allocator *next = ctx;
  if (MB_UNLIKELY(n > PY_SIZE_MASK - HDR)) return NULL;
  mb_in_hook++;
  char *base = next->malloc(next->ctx, PY_ROOM(n));
  mb_in_hook--;
  return MB_LIKELY(base != NULL) ? py_finish(base, n) : NULL;
}

static void *py_calloc(void *ctx, size_t nelem, size_t elsize) {
  py_allocator *next = ctx;
  size_t n;
  if (__builtin_mul_overflow(nelem, elsize, &n) || n > PY_SIZE_MASK - HDR) return NULL;
  mb_in_hook++;
  char *base = next->calloc(next->ctx, 1, PY_ROOM(n));
  mb_in_hook--;
  return base ? py_finish(base, n) : NULL;
}

/* No mb_in_hook here: the interposer's free decides by the block's own tag, not by the caller. */
static void py_free(void *ctx, void *p) {
  py_allocator *next = ctx;
  if (MB_UNLIKELY(!p)) return;
  uint64_t *h = (uint64_t *)p - 2;
  if (MB_UNLIKELY(h[1] != py_tag(p))) {
    next->free(next->ctx, p); /* from before the hook */
    return;
  }
  uint64_t word = h[0];
  if (MB_LIKELY((word >> PY_SIZE_BITS) == cur_epoch())) py_on_free(word & PY_SIZE_MASK);
  mbs_free(p, word);
  h[1] = 0; /* no stale tag left in freed memory */
  next->free(next->ctx, h);
}

static void *py_realloc(void *ctx, void *p, size_t n) {
  py_allocator *next = ctx;
  if (!p) return py_malloc(ctx, n);
  if (MB_UNLIKELY(n > PY_SIZE_MASK - HDR)) return NULL;
  uint64_t *h = (uint64_t *)p - 2;
  if (MB_LIKELY(h[1] == py_tag(p))) {
    uint64_t word = h[0];
    /* A block that moves leaves its old header in freed memory: no stale tag may stay there. */
    h[1] = 0;
    mb_in_hook++;
    char *base = next->realloc(next->ctx, h, PY_ROOM(n));
    mb_in_hook--;
    if (!base) {
      h[1] = py_tag(p); /* the old block is untouched and still counted */
      return NULL;
    }
    /* Old freed, then new allocated, as the interposer counts realloc. */
    if ((word >> PY_SIZE_BITS) == cur_epoch()) py_on_free(word & PY_SIZE_MASK);
    mbs_free(p, word);
    return py_finish(base, n);
  }
  /* A block from before the hook: resize it with room for a header, then shift the contents up
     (realloc kept min(old, n + HDR) bytes, so the first min(old, n) are all there). */
  mb_in_hook++;
  char *base = next->realloc(next->ctx, p, PY_ROOM(n));
  mb_in_hook--;
  if (!base) return NULL;
  memmove(base + HDR, base, n);
  return py_finish(base, n);
}

/* ---- free-threaded CPython: every block stays where Python's allocator put it ----
   There, the cyclic GC walks mimalloc's heaps block by block and expects each object at its
   block's start, so a header would make it read our words as an object (a crash, or cycles
   never collected). The requested sizes go in a pointer -> size table instead (mbmalloc-table.c,
   tracemalloc's way), which also knows without any guess which blocks are from before the hook:
   those that are not in it. Python calls these from many threads at once, so the counters are
   the interposer's, atomic once a thread exists. */

static inline void *pyt_finish(void *user, size_t n) {
  uint64_t word = py_word(n);
  int counted = mbs_alloc(user, &word, n); /* may sample it (mbmalloc-sites.c) */
  if (MB_UNLIKELY(!mbt_put(user, word))) {
    /* Its free would find nothing to take back: no figure may be trusted from now on. */
    mbs_free(user, word);
    membudget_disable("the allocation probe's table of Python's blocks could not grow (out of memory)");
    return user;
  }
  if (MB_LIKELY(counted)) on_alloc(n);
  return user;
}

/* Before the block goes back: once freed, its address may be sampled again by another thread. */
static inline void pyt_forget(void *p) {
  uint64_t word;
  if (!mbt_take(p, &word)) return;
  if ((word >> PY_SIZE_BITS) == cur_epoch()) on_free(word & PY_SIZE_MASK);
  mbs_free(p, word);
}

static void *pyt_malloc(void *ctx, size_t n) {
  py_allocator *next = ctx;
  if (MB_UNLIKELY(n > PY_SIZE_MASK)) return NULL;
  mb_in_hook++;
  void *p = next->malloc(next->ctx, n);
  mb_in_hook--;
  return MB_LIKELY(p != NULL) ? pyt_finish(p, n) : NULL;
}

static void *pyt_calloc(void *ctx, size_t nelem, size_t elsize) {
  py_allocator *next = ctx;
  size_t n;
  if (__builtin_mul_overflow(nelem, elsize, &n) || n > PY_SIZE_MASK) return NULL;
  mb_in_hook++;
  void *p = next->calloc(next->ctx, nelem, elsize);
  mb_in_hook--;
  return p ? pyt_finish(p, n) : NULL;
}

/* Taken out of the table before the block goes back: once freed, another thread may be handed
   the same address and put it in again. */
static void pyt_free(void *ctx, void *p) {
  py_allocator *next = ctx;
  if (MB_UNLIKELY(!p)) return;
  pyt_forget(p);
  next->free(next->ctx, p);
}

static void *pyt_realloc(void *ctx, void *p, size_t n) {
  py_allocator *next = ctx;
  if (!p) return pyt_malloc(ctx, n);
  if (MB_UNLIKELY(n > PY_SIZE_MASK)) return NULL;
  uint64_t word;
  int ours = mbt_take(p, &word);
  /* Forgotten by the sampler before realloc frees it (see pyt_forget). */
  if (ours) mbs_free(p, word);
  mb_in_hook++;
  void *q = next->realloc(next->ctx, p, n);
  mb_in_hook--;
  if (!q) {
    /* The old block is untouched and still counted; no longer among the sampled ones. */
    if (ours) mbt_put(p, word & ~MBS_SAMPLED);
    return NULL;
  }
  /* Old freed, then new allocated; a block from before the hook becomes ours at its new size. */
  if (ours && (word >> PY_SIZE_BITS) == cur_epoch()) on_free(word & PY_SIZE_MASK);
  return pyt_finish(q, n);
}

/* A per-process secret: 16 random bytes the kernel gives every process, with ASLR's bits on top. */
__attribute__((constructor)) static void py_init_key(void) {
  const unsigned char *random = (const unsigned char *)getauxval(AT_RANDOM);
  if (random) memcpy(&mb_key, random + 8, sizeof(mb_key));
  mb_key ^= (uint64_t)(uintptr_t)&mb_key * UINT64_C(0x9e3779b97f4a7c15);
}

/** Wraps Python's MEM and OBJ allocators (call with the GIL held, e.g. through ctypes.PyDLL).
    `exact_blocks` non-zero (a free-threaded build) keeps every block where Python's allocator
    put it, with the sizes in a table. Returns 1 when installed, 0 when this process has no
    Python allocator API or we do not serve malloc (then the figures would be incomplete). */
MB_EXPORT int membudget_hook_python(int exact_blocks) {
  typedef void (*get_fn)(int, py_allocator *);
  typedef void (*set_fn)(int, py_allocator *);
  if (mb_passthrough || mb_py_next[PY_DOMAIN_OBJ].malloc) return mb_py_next[PY_DOMAIN_OBJ].malloc != NULL;
  get_fn get = (get_fn)dlsym(RTLD_DEFAULT, "PyMem_GetAllocator");
  set_fn set = (set_fn)dlsym(RTLD_DEFAULT, "PyMem_SetAllocator");
  if (!get || !set) return 0;
  if (exact_blocks) mbt_init();
  const int domains[2] = {PY_DOMAIN_MEM, PY_DOMAIN_OBJ};
  for (int i = 0; i < 2; i++) {
    int d = domains[i];
    get(d, &mb_py_next[d]);
    py_allocator ours = exact_blocks
                            ? (py_allocator){&mb_py_next[d], pyt_malloc, pyt_calloc, pyt_realloc, pyt_free}
                            : (py_allocator){&mb_py_next[d], py_malloc, py_calloc, py_realloc, py_free};
    set(d, &ours);
  }
  return 1;
}
