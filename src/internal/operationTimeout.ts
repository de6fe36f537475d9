/**
 * The one bound every storage operation has: `operationTimeout`.
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
export const operationTimedOut = (dialect: Dialect, operation: string, timeout: Duration.Duration) =>
  new StorageConnectionError({
    dialect,
    operation,
    code: "TIMEOUT",
    cause: new Error(`no answer within ${Duration.format(timeout)} (operationTimeout)`)
  })

/**
 * Runs `effect` and fails with `onTimeout()` if it has not finished `timeout` after it started.
 *
 * At the bound the caller gets the failure at once, while the operation is interrupted in the background, not
 * awaited (what `Effect.disconnect` does with `Effect.timeoutFail`): a statement already sent cannot be taken back,
 * @effect/sql acquires a transaction's connection uninterruptibly, and @effect/sql-pg waits up to 5 s for its
 * `pg_cancel_backend`. The connection such a statement held is closed by the connection watchdog of the layer
 * (internal/connectionWatchdog.ts) once it has been silent as long. An interrupted caller interrupts the operation
 * the same way.
 *
 * Written as one child fiber raced by a timer rather than `disconnect` + `timeoutFail`, which fork three fibers per
 * call and wait for the loser's interruption. The timer is a real one, like the database's own timeouts: a
 * `TestClock` does not advance it.
 *
 * @internal
 */
export const withOperationTimeout = <E2>(timeout: Duration.Duration, onTimeout: () => E2) => {
  const millis = Duration.toMillis(timeout)
  return <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | E2, R> =>
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
        }))))
}
