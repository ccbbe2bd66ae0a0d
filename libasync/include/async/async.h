/* async/async.h - everything of libasync in one include. */
#ifndef ASYNC_ASYNC_H
#define ASYNC_ASYNC_H

#include "async/platform.h"
#include "async/future.h"
#include "async/executor.h"
#include "async/timer.h"
#include "async/sync.h"
#include "async/channel.h"
#include "async/combinators.h"
#include "async/coro.h"
#include "async/pool.h"

#endif /* ASYNC_ASYNC_H */
