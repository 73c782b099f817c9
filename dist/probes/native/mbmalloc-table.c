// A pointer -> size table for the Python hook on free-threaded CPython (mbmalloc-python.c), where
// blocks must start where the runtime's allocator put them, so no header can carry the size.
#define _GNU_SOURCE
#include "mbmalloc.h"

#include <sched.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define MB_PAUSE() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define MB_PAUSE() __asm__ __volatile__("yield")
#else
#define MB_PAUSE() ((void)0)
#endif

/* ---- how it is built, and why ----
   tracemalloc's way: the size of every block handed out since the hook, kept beside the heap.
   Free-threaded Python calls its MEM and OBJ allocators from many threads at once, and frees a
   block on a thread other than the one that allocated it; so the table is split into shards by
   the pointer's hash, each an open-addressing table (linear probing, deletion by backward shift,
   so no tombstones pile up) under its own small spin lock. A block lives in one shard for its
   whole life, so alloc and free of the same pointer always meet under the same lock, and
   threads touching different shards never wait for each other. The slots come from glibc
   directly (__libc_calloc): the table is the probe's own memory, never counted. */

typedef struct {
  uintptr_t key; /* the pointer handed out; 0 = empty */
  uint64_t word; /* what the caller stored: requested size and epoch */
} mbt_slot;

enum { MBT_SHARD_BITS = 6, MBT_SHARDS = 1 << MBT_SHARD_BITS, MBT_FIRST = 1024 };

typedef struct {
  uint32_t lock;
  size_t mask; /* slots - 1; 0 before the first insert */
  size_t used;
  mbt_slot *slots;
} __attribute__((aligned(64))) mbt_shard;

static mbt_shard mbt_shards[MBT_SHARDS];

/* MurmurHash3's finalizer: every bit of the address moves every bit of the hash, so blocks
   next to each other (pymalloc's and mimalloc's pages) spread over shards and slots alike. */
static inline uint64_t mbt_hash(uintptr_t p) {
  uint64_t x = (uint64_t)p;
  x ^= x >> 33;
  x *= UINT64_C(0xff51afd7ed558ccd);
  x ^= x >> 33;
  x *= UINT64_C(0xc4ceb9fe1a85ec53);
  x ^= x >> 33;
  return x;
}

static inline void mbt_lock(mbt_shard *s) {
  for (int spins = 0; __atomic_exchange_n(&s->lock, 1, __ATOMIC_ACQUIRE); spins++) {
    /* Held for a few dozen instructions: spin a little, then let the holder run. */
    if (spins < 64)
      MB_PAUSE();
    else
      sched_yield();
  }
}

static inline void mbt_unlock(mbt_shard *s) { __atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE); }

static inline mbt_shard *mbt_shard_of(uint64_t h) { return &mbt_shards[h >> (64 - MBT_SHARD_BITS)]; }

/* Places key in a table known to have room and not to hold it. */
static void mbt_place(mbt_slot *slots, size_t mask, uintptr_t key, uint64_t word) {
  size_t i = (size_t)mbt_hash(key) & mask;
  while (slots[i].key) i = (i + 1) & mask;
  slots[i].key = key;
  slots[i].word = word;
}

static int mbt_grow(mbt_shard *s) {
  size_t slots = s->mask ? (s->mask + 1) * 2 : MBT_FIRST;
  mbt_slot *fresh = __libc_calloc(slots, sizeof(mbt_slot));
  if (!fresh) return 0;
  if (s->slots) {
    for (size_t i = 0; i <= s->mask; i++)
      if (s->slots[i].key) mbt_place(fresh, slots - 1, s->slots[i].key, s->slots[i].word);
    __libc_free(s->slots);
  }
  s->slots = fresh;
  s->mask = slots - 1;
  return 1;
}

int mbt_put(const void *p, uint64_t word) {
  uintptr_t key = (uintptr_t)p;
  uint64_t h = mbt_hash(key);
  mbt_shard *s = mbt_shard_of(h);
  mbt_lock(s);
  /* At most half full: probe sequences stay short. */
  if (MB_UNLIKELY(2 * (s->used + 1) > s->mask + 1) && !mbt_grow(s)) {
    mbt_unlock(s);
    return 0;
  }
  size_t i = (size_t)h & s->mask;
  while (s->slots[i].key && s->slots[i].key != key) i = (i + 1) & s->mask;
  if (!s->slots[i].key) s->used++;
  s->slots[i].key = key;
  s->slots[i].word = word;
  mbt_unlock(s);
  return 1;
}

int mbt_take(const void *p, uint64_t *word) {
  uintptr_t key = (uintptr_t)p;
  uint64_t h = mbt_hash(key);
  mbt_shard *s = mbt_shard_of(h);
  mbt_lock(s);
  if (MB_UNLIKELY(!s->slots)) {
    mbt_unlock(s);
    return 0;
  }
  size_t mask = s->mask, i = (size_t)h & mask;
  while (s->slots[i].key != key) {
    if (!s->slots[i].key) {
      mbt_unlock(s);
      return 0; /* not ours: a block from before the hook */
    }
    i = (i + 1) & mask;
  }
  *word = s->slots[i].word;
  /* Backward shift: pull later entries of the same run into the hole where their probe
     sequence allows, so that every lookup still finds its key before an empty slot. */
  size_t hole = i;
  for (size_t j = (i + 1) & mask; s->slots[j].key; j = (j + 1) & mask) {
    size_t home = (size_t)mbt_hash(s->slots[j].key) & mask;
    /* The entry at j may move to the hole if its home is not in (hole, j] (cyclically). */
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      s->slots[hole] = s->slots[j];
      hole = j;
    }
  }
  s->slots[hole].key = 0;
  s->slots[hole].word = 0;
  s->used--;
  mbt_unlock(s);
  return 1;
}

/* A fork while another thread holds a shard would leave that lock held forever in the child:
   fork waits for every shard, and both sides release them. */
static void mbt_lock_all(void) {
  for (int i = 0; i < MBT_SHARDS; i++) mbt_lock(&mbt_shards[i]);
}

static void mbt_unlock_all(void) {
  for (int i = MBT_SHARDS - 1; i >= 0; i--) mbt_unlock(&mbt_shards[i]);
}

void mbt_init(void) {
  static int done;
  if (done) return;
  done = 1;
  pthread_atfork(mbt_lock_all, mbt_unlock_all, mbt_unlock_all);
}
