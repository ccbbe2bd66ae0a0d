/*
 * heap_tlsf_slab.h - the header at the start of each slab chunk of the TLSF heap's slab front
 * end (internal header: heap_tlsf.c, and the host tests that check a slab's bookkeeping).
 */
#ifndef MM_HEAP_TLSF_SLAB_H
#define MM_HEAP_TLSF_SLAB_H

#include <stdint.h>

#include "mm/heap_tlsf.h"

#define MM_TLSF_SLAB_WORDS 8u /* free-slot bitmap words: up to 512 objects per slab */

struct mm_tlsf_slab {
    uint64_t free_bits[MM_TLSF_SLAB_WORDS]; /* bit i set: slot i is free */
    struct mm_tlsf_slab *next, *prev;       /* the class's list of slabs with a free slot */
    uint32_t size;                          /* object size (the class size) */
    uint32_t recip;                         /* 2^32 / size + 1: offset -> slot index */
    uint16_t cap, nfree;                    /* slots, free slots */
    uint8_t cls, summary;                   /* class index; bit w set: free_bits[w] != 0 */
    uint16_t reserved;
};

#endif /* MM_HEAP_TLSF_SLAB_H */
