/*
 * x86/gdt.h - the 64-bit GDT, the TSS and the interrupt stacks (IST) it points to.
 *
 * Layout (selectors):
 *   0x00 null
 *   0x08 kernel code, 64-bit              X86_SEL_KCODE
 *   0x10 kernel data                      X86_SEL_KDATA
 *   0x18 user data   (selector 0x1b)      X86_SEL_UDATA
 *   0x20 user code, 64-bit (sel. 0x23)    X86_SEL_UCODE
 *   0x28 TSS, a 16-byte system descriptor X86_SEL_TSS
 * The order kernel code, kernel data, user data, user code is the one syscall/sysret need:
 * with STAR[47:32] = 0x08 syscall loads CS 0x08 / SS 0x10, and with STAR[63:48] = 0x10
 * sysret (64-bit) loads SS 0x10+8 = 0x18 and CS 0x10+16 = 0x20, both with RPL 3.
 *
 * Typical use, once per CPU, early, with interrupts off:
 *     x86_tss_init(&tss);
 *     x86_gdt_init(&gdt, &tss);
 *     x86_gdt_load(&gdt);
 * Both structures must stay in place (and writable: ltr sets the TSS busy bit in the GDT)
 * for as long as they are loaded, so give them static storage.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define X86_SEL_NULL 0x00
#define X86_SEL_KCODE 0x08
#define X86_SEL_KDATA 0x10
#define X86_SEL_UDATA (0x18 | 3)
#define X86_SEL_UCODE (0x20 | 3)
#define X86_SEL_TSS 0x28

/* Access byte bits (bits 40..47 of a descriptor). */
#define X86_GDT_ACCESS_PRESENT 0x80
#define X86_GDT_ACCESS_DPL3 0x60
#define X86_GDT_ACCESS_CODE_DATA 0x10 /* S: code/data segment, not a system descriptor */
#define X86_GDT_ACCESS_EXEC 0x08
#define X86_GDT_ACCESS_RW 0x02        /* readable code / writable data */
#define X86_GDT_ACCESS_TSS_AVAIL 0x09 /* system type: 64-bit TSS, available */
#define X86_GDT_ACCESS_TSS_BUSY 0x0B  /* system type: 64-bit TSS, busy */

/* Flags nibble (bits 52..55 of a descriptor), given to x86_gdt_encode() as 0x0..0xF. */
#define X86_GDT_FLAG_GRAN_4K 0x8 /* G: limit counts 4 KiB units */
#define X86_GDT_FLAG_SIZE_32 0x4 /* D/B: 32-bit segment (must be 0 with L) */
#define X86_GDT_FLAG_LONG 0x2    /* L: 64-bit code segment */

/* Interrupt stack table: IST1..IST7. IST1 serves #DF, IST2 NMI, IST3 #MC (see idt.c). */
#define X86_IST_COUNT 7
#define X86_IST_DOUBLE_FAULT 1
#define X86_IST_NMI 2
#define X86_IST_MACHINE_CHECK 3
#define X86_IST_STACK_SIZE 16384
#define X86_IST_GUARD_SIZE 4096

/* The 64-bit TSS (Intel SDM vol. 3, "Task Management in 64-bit Mode"). */
struct x86_tss {
    uint32_t reserved0;
    uint64_t rsp[3]; /* stack for a switch to CPL 0, 1, 2 */
    uint64_t reserved1;
    uint64_t ist[X86_IST_COUNT]; /* ist[0] is IST1 */
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base; /* >= the TSS limit: no I/O permission bitmap */
} __attribute__((packed));

_Static_assert(sizeof(struct x86_tss) == 104, "64-bit TSS is 104 bytes");
_Static_assert(offsetof(struct x86_tss, rsp) == 0x04, "RSP0 at 0x04");
_Static_assert(offsetof(struct x86_tss, ist) == 0x24, "IST1 at 0x24");
_Static_assert(offsetof(struct x86_tss, iomap_base) == 0x66, "I/O map base at 0x66");

enum x86_gdt_index {
    X86_GDT_NULL,
    X86_GDT_KCODE,
    X86_GDT_KDATA,
    X86_GDT_UDATA,
    X86_GDT_UCODE,
    X86_GDT_TSS_LOW,
    X86_GDT_TSS_HIGH,
    X86_GDT_ENTRIES
};

struct x86_gdt {
    _Alignas(16) uint64_t entry[X86_GDT_ENTRIES];
};

/* A system descriptor in long mode is two GDT slots: `low` is the legacy-format half, `high`
 * holds base bits 63..32. */
struct x86_gdt_system_desc {
    uint64_t low, high;
};

/*
 * Encode an 8-byte code/data descriptor. Only the low 20 bits of `limit` and the low 4 bits
 * of `flags` (G, D/B, L, AVL) exist in the format; higher bits are ignored.
 * Example: x86_gdt_encode(0, 0xFFFFF, 0x9A, 0xA) is 64-bit kernel code, 0x00AF9A000000FFFF.
 * Pure; any context.
 */
uint64_t x86_gdt_encode(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);

/* Encode the 16-byte descriptor of an available 64-bit TSS at `base`, byte granularity (only
 * the low 20 bits of `limit` are used). Pure; any context. */
struct x86_gdt_system_desc x86_gdt_encode_tss(uint64_t base, uint32_t limit);

/*
 * Fill *gdt with the layout above; the TSS descriptor points at *tss, marked available, limit
 * sizeof(struct x86_tss) - 1. Does not touch *tss. Any context (it only writes memory).
 */
void x86_gdt_init(struct x86_gdt *gdt, const struct x86_tss *tss);

/*
 * lgdt, reload CS (far return) and DS/ES/SS/FS/GS with the kernel selectors, then ltr 0x28.
 * Preconditions: interrupts off; *gdt built by x86_gdt_init() since its last load (ltr
 * faults on a TSS already marked busy). The FS base is cleared; the GS base (this CPU's
 * per-CPU area, x86/percpu.h) is read before and written back after. Kernel mode only.
 */
void x86_gdt_load(const struct x86_gdt *gdt);

/*
 * Zero *tss, point IST1..IST7 at libx86's static interrupt stacks and disable the I/O
 * permission bitmap (iomap_base = sizeof). RSP0 is left 0: set it with x86_tss_set_rsp0()
 * before the first switch to user mode. Any context.
 */
void x86_tss_init(struct x86_tss *tss);

/* Set the stack the CPU switches to on an interrupt from user mode (16-byte aligned top). */
void x86_tss_set_rsp0(struct x86_tss *tss, uint64_t stack_top);

/*
 * Top (one past the highest byte, 16-byte aligned) of the static stack for IST `ist`,
 * 1..7. NULL for any other number. Each stack is X86_IST_STACK_SIZE bytes.
 */
void *x86_ist_stack_top(int ist);

/*
 * Address of the X86_IST_GUARD_SIZE-byte, page-aligned guard page directly below the stack of
 * IST `ist` (1..7), for the memory code to unmap so that an overflow faults instead of
 * silently corrupting the neighbouring stack. 0 for any other number.
 */
uintptr_t x86_ist_guard_page(int ist);
