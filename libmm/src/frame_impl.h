/*
 * frame_impl.h - what frame.c offers the rest of libmm beyond mm/frame.h (internal header):
 * the lock-free checks the per-CPU frame caches (frame_cache.c) make before they take a frame.
 */
#ifndef MM_FRAME_IMPL_H
#define MM_FRAME_IMPL_H

#include <stdbool.h>

#include "mm/frame.h"

/* Whether pa is a 4 KiB-aligned frame of fa's usable memory outside its metadata. Reads only
 * what mm_frames_init wrote (never the state bytes or the lookup hint), so it may run without
 * the allocator's lock while other CPUs allocate and free. */
bool mm_frames_usable_frame(const struct mm_frames *fa, struct mm_paddr pa);

#endif /* MM_FRAME_IMPL_H */
