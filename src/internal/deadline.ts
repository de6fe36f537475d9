/**
 * The bound of one operation, at the cost of one fiber.
 *
 * Why not `Effect.timeoutFail` with `Effect.disconnect`: together they fork three fibers per call (the operation,
 * the race's two sides) and wait for the loser's interruption, about 38 µs of CPU per call, as much as a whole
 * SQLite statement; measured with `bench/profile.ts`. Here the operation runs in one child fiber, a timer races it,
 * and whichever comes first resumes the caller.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import { type Dialect, StorageConnectionError } from "../services/CheckpointStorageError.js"

/**
 * What an operation that outlived its `operationTimeout` fails with.
 *
 * @internal
 */
export const operationTimedOut = (dialect: Dialect, operation: string, timeout: Duration.Duration) => () =>
  new StorageConnectionError({
    dialect,
    operation,
    code: "TIMEOUT",
    cause: new Error(`no answer within ${Duration.format(timeout)} (operationTimeout)`)
  })

/**
 * How long a caller waits at most, and what it fails with then.
 *
 * @internal
 */
export interface Deadline<E> {
  readonly millis: number
  readonly onTimeout: () => E
}

/**
 * Hands `done` the answer of `call`, or `timedOut()` if the deadline passes first; the later of the two is dropped.
 * The race itself, for callers with no fiber (the insert batcher) and for `callbackWithin`.
 *
 * @internal
 */
export const raceDeadline = <T>(
  deadline: Deadline<unknown> | undefined,
  timedOut: () => T,
  call: (answer: (outcome: T) => void) => void,
  done: (outcome: T) => void
): void => {
  if (deadline === undefined) return call(done)
  let settled = false
  const timer = setTimeout(() => {
    settled = true
    done(timedOut())
  }, deadline.millis)
  call((outcome) => {
    if (settled) return
    settled = true
    clearTimeout(timer)
    done(outcome)
  })
}

/**
 * A driver call with a callback, bounded by `deadline` without a fiber of its own: the timer and the callback race
 * inside one `Effect.async`, and whichever comes first resumes the caller. At the deadline the driver's call goes
 * on (a statement sent cannot be taken back: its connection is the watchdog's business); its outcome is dropped.
 * Costs a timer per call, not the fiber of `withDeadline`.
 *
 * No canceler: an `Effect.async` that returns one is wrapped in `onInterrupt` (an uninterruptible region and a
 * cause match around the wait), which made a read by id on PostgreSQL 5–10 µs slower than the same call without it
 * (raw `pg` 90–130 µs; interleaved rounds, single caller). An interrupted caller returns at once all the same (the
 * fiber stops waiting); the driver's answer, or the timer, comes later and resumes nobody, and the timer, which
 * holds only this closure, goes at the deadline.
 *
 * @internal
 */
export const callbackWithin = <A, E, E2>(
  deadline: Deadline<E2> | undefined,
  call: (done: (outcome: Effect.Effect<A, E>) => void) => void
): Effect.Effect<A, E | E2> =>
  Effect.async<A, E | E2>((resume) =>
    raceDeadline<Effect.Effect<A, E | E2>>(deadline, () => Effect.fail(deadline!.onTimeout()), call, resume)
  )

/**
 * `withDeadline` when there is a deadline.
 *
 * @internal
 */
export const within = <E2>(deadline: Deadline<E2> | undefined) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | E2, R> =>
  deadline === undefined ? effect : withDeadline(deadline.millis, deadline.onTimeout)(effect)

/**
 * Runs `effect` and fails with `onTimeout()` if it has not finished `millis` after it started. At the deadline the
 * caller gets the failure at once, while the operation is interrupted in the background, not awaited (what
 * `Effect.disconnect` does): a statement already sent cannot be taken back, and a driver may take longer than any
 * bound to give up on a connection that went silent. An interrupted caller interrupts the operation the same way.
 *
 * The timer is a real one, like the database's own timeouts: a `TestClock` does not advance it.
 *
 * @internal
 */
export const withDeadline = <E2>(millis: number, onTimeout: () => E2) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | E2, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(Effect.forkDaemon(restore(effect)), (fiber) =>
      restore(Effect.async<A, E | E2>((resume) => {
        let settled = false
        const settle = (outcome: Effect.Effect<A, E | E2>) => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          resume(outcome)
        }
        const timer = setTimeout(() => {
          settle(Effect.fail(onTimeout()))
          fiber.unsafeInterruptAsFork(FiberId.none)
        }, millis)
        fiber.addObserver((exit: Exit.Exit<A, E>) => settle(exit))
        return Effect.sync(() => {
          settled = true
          clearTimeout(timer)
          fiber.unsafeInterruptAsFork(FiberId.none)
        })
      }))
    ))
