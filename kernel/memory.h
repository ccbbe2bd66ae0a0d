/*
 * memory.h - the reference kernel's memory: the frame allocator built from the boot memory
 * map, the kernel's own page tables (W^X per section, NX direct map, guard pages under every
 * stack) and the kernel heap behind kmalloc.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mm/frame.h>
#include <mm/heap_tlsf.h>
#include <mm/paging.h>

/* Where the heap lives in virtual memory, and how large it may grow. */
#define KHEAP_BASE 0xffffc00000000000ull
#define KHEAP_INITIAL (1u << 20)
#define KHEAP_MAX (1ull << 30)
/* A window for temporary mappings (the paging demo). */
#define KMAP_WINDOW 0xffffd00000000000ull
/* Where kmemory_map_device puts device memory once the kernel's tables are live. */
#define KDEVICE_BASE 0xffffe00000000000ull
#define KDEVICE_SIZE (1ull << 40)

/* Frame allocator, new page tables and CR3 switch, then the heap; `[ ok ]` lines. */
void kmemory_init(void);

/* Cache types for device memory (the PAT entries the kernel programs: WB = 0, WT = 1, UC = 3,
 * WC = 4; WC falls back to UC on a CPU without PAT). */
enum kcache { KCACHE_WB, KCACHE_WT, KCACHE_UC, KCACHE_WC };

/* Map `len` bytes of device memory (MMIO registers, a framebuffer, firmware tables outside
 * RAM) at physical `phys` with cache type `cache` and return its kernel virtual address, or
 * NULL when it cannot be mapped (zero length, a range that wraps, out of page-table frames or
 * window space). After kmemory_init the direct map holds only RAM and the first MiB, so any
 * other physical range must come through here: 4 KiB pages, read/write, NX, in a window of
 * its own. May be called before kmemory_init for ranges below 4 GiB: the address is then in
 * the early direct map (whose pages are write-back) and paging_init re-creates it there with
 * `cache`. Up to 32 early mappings. Takes a lock with interrupts masked; not from handlers. */
void *kmemory_map_device(uint64_t phys, uint64_t len, enum kcache cache);

/* Device mapping number i (in the order they were made; the first 32 are kept): its
 * physical range, virtual address of the range's first page and cache type. False past the
 * last. For tests and the `maps` command. */
bool kmemory_device_mapping(size_t i, uint64_t *phys, uint64_t *len, uint64_t *va,
                            enum kcache *cache);

/* True when the CPU enforces no-execute (EFER.NXE is on); valid after kmemory_init. */
bool kmemory_nx(void);

extern struct mm_frames kframes;
extern struct mm_space kspace;

/* The lock of kframes and of kspace's page tables: every mm_frames_* call on kframes and every
 * mm_map/mm_unmap/mm_protect on kspace (or on a process's space, whose tables come from
 * kframes) after the APs start must hold it. Masks interrupts and returns the old flags for
 * kmem_frames_unlock; while another CPU holds it, serves this CPU's call queue (the holder
 * may wait in a TLB shootdown for this CPU). Not recursive; not from an NMI. Take the heap
 * lock (kmalloc) before it, never while holding it. */
uint64_t kmem_frames_lock(void);
void kmem_frames_unlock(uint64_t flags);

/* If `addr` lies in one of the unmapped guard pages, its name ("boot stack", "IST1 stack"...),
 * else NULL. */
const char *kguard_page_name(uint64_t addr);
/* Address of the guard page below the boot stack. */
uint64_t kboot_stack_guard(void);

/* The kernel heap (the kit's default allocator). All are interrupt-safe: the heap lock masks
 * interrupts while held. kmalloc(0) returns a unique pointer; failures return NULL. */
void *kmalloc(size_t size);
void *kcalloc(size_t n, size_t size);
void *krealloc(void *ptr, size_t size);
void *kaligned_alloc(size_t align, size_t size);
void kfree(void *ptr);
/* Bytes in use on the heap, and a consistency check of the whole heap (true = consistent). */
size_t kheap_in_use(void);
bool kheap_check(const char **why);
/* The heap's totals and its slab classes (object size, slabs, slots, free slots), read under
 * the heap lock. */
void kheap_stats(struct mm_heap_stats *core, struct mm_tlsf_class_stats classes[MM_TLSF_NCLASSES]);
