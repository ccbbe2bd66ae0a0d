/* ktests_sched.c - in-kernel tests of the threads (libsched on the kernel's hooks). */
#include "ktest.h"
#include "threads.h"
