/**
 * The bound of every operation (src/internal/operationTimeout.ts): the caller gets the timeout's error at the bound,
 * while the operation is interrupted in the background; an operation that ends in time is untouched; an interrupted
 * caller interrupts the operation. The timer is a real one (a TestClock does not move it): these tests run live.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, Option } from "effect"
import { operationTimedOut, withOperationTimeout } from "../src/internal/operationTimeout.js"

const timedOut = () => "timed out" as const

describe("withOperationTimeout", () => {
  it.live("an operation that ends before the bound gives its own result or error", () =>
    Effect.gen(function*() {
      const bound = withOperationTimeout(Duration.seconds(1), timedOut)
      expect(yield* bound(Effect.succeed(42))).toBe(42)
      expect(yield* Effect.flip(bound(Effect.fail("its own error" as const)))).toBe("its own error")
      expect(yield* bound(Effect.delay(Effect.succeed("late but in time"), "20 millis"))).toBe("late but in time")
      const defect = yield* Effect.exit(bound(Effect.dieMessage("its own defect")))
      expect(Exit.isFailure(defect) && !Exit.isInterrupted(defect)).toBe(true)
    }))

  it.live("at the bound the caller gets the given error, and the operation is interrupted in the background", () =>
    Effect.gen(function*() {
      const interrupted = yield* Deferred.make<void>()
      // An operation whose interruption itself takes long (as a driver waiting for its cancel request does).
      const operation = Effect.never.pipe(
        Effect.onInterrupt(() => Effect.zipRight(Effect.sleep("1 second"), Deferred.succeed(interrupted, undefined)))
      )
      const started = Date.now()
      const error = yield* Effect.flip(withOperationTimeout(Duration.millis(50), timedOut)(operation))
      const waited = Date.now() - started
      expect(error).toBe("timed out")
      expect(waited).toBeGreaterThanOrEqual(45)
      // Not kept waiting for the slow interruption...
      expect(waited).toBeLessThan(800)
      expect(yield* Deferred.poll(interrupted)).toEqual(Option.none())
      // ...which still happens.
      yield* Deferred.await(interrupted)
    }))

  it.live("an operation's answer after the bound is dropped: the caller keeps the timeout", () =>
    Effect.gen(function*() {
      const answered = yield* Deferred.make<void>()
      // An operation that cannot be interrupted (a statement already sent) and answers late.
      const operation = Effect.uninterruptible(
        Effect.zipRight(Effect.sleep("150 millis"), Effect.as(Deferred.succeed(answered, undefined), "late row"))
      )
      const exit = yield* Effect.exit(withOperationTimeout(Duration.millis(30), timedOut)(operation))
      expect(exit).toEqual(Exit.fail("timed out"))
      yield* Deferred.await(answered)
    }))

  it.live("an interrupted caller interrupts the operation, at once", () =>
    Effect.gen(function*() {
      const interrupted = yield* Deferred.make<void>()
      const operation = Effect.never.pipe(Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined)))
      const caller = yield* Effect.fork(withOperationTimeout(Duration.seconds(10), timedOut)(operation))
      yield* Effect.sleep("20 millis")
      const started = Date.now()
      const exit = yield* Fiber.interrupt(caller)
      expect(Date.now() - started).toBeLessThan(500)
      expect(Exit.isInterrupted(exit)).toBe(true)
      yield* Deferred.await(interrupted)
    }))

  it.live("the timeout of the storage is a StorageConnectionError TIMEOUT naming the operation and the bound", () =>
    Effect.gen(function*() {
      const timeout = Duration.millis(40)
      const error = yield* Effect.flip(
        withOperationTimeout(timeout, () => operationTimedOut("pg", "storeAgentCheckpoint", timeout))(Effect.never)
      )
      expect(error).toMatchObject({
        _tag: "StorageConnectionError",
        dialect: "pg",
        operation: "storeAgentCheckpoint",
        code: "TIMEOUT"
      })
      expect(String((error.cause as Error).message)).toContain("40ms")
    }))
})
