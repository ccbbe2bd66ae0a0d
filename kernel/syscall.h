/*
 * syscall.h - the reference kernel's system calls: Linux x86_64 numbers and semantics for the
 * subset a static musl program needs (docs/userspace.md lists them). Every pointer argument
 * goes through kcopy_from_user/kcopy_to_user (process.h): a bad one is -EFAULT, never a
 * kernel fault. Unknown numbers return -ENOSYS and are counted.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <x86/idt.h>

/* The handler x86_syscall_init installs: number in rax, arguments rdi rsi rdx r10 r8 r9,
 * result (or -errno) in rax. Runs on the process thread with interrupts enabled. */
void ksyscall(struct x86_interrupt_frame *frame);

/* Fill buf with n unpredictable-enough bytes (TSC-seeded generator; not cryptographic). */
void ksys_random(void *buf, size_t n);

/* Syscalls served and unknown numbers seen, over all processes since boot. */
uint64_t ksyscall_count(void);
uint64_t ksyscall_unknown_count(void);
