/*
 * percpu_internal.h - what percpu.c tells the rest of libx86 (internal header).
 */
#pragma once

#include <stdbool.h>

/* Set by the first x86_percpu_install (the boot CPU): from then on GS reads are valid on
 * every CPU that runs kit code, so the spinlock's debug checks may ask x86_cpu_id(). */
extern bool x86_percpu_live;
