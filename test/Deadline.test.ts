/**
 * The bound of one operation (src/internal/deadline.ts): the caller gets the timeout at the deadline, while the
 * operation is interrupted in the background; an operation that ends in time is untouched. The same for a driver
 * call bounded on its callback (`callbackWithin`), which the one-statement operations use.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber } from "effect"
import { callbackWithin, withDeadline } from "../src/internal/deadline.js"

describe("withDeadline", () => {
  it.live("an operation that ends in time gives its own result or error", () =>
    Effect.gen(function*() {
      const bound = withDeadline(1_000, () => "timed out" as const)
      expect(yield* bound(Effect.succeed(42))).toBe(42)
      expect(yield* Effect.flip(bound(Effect.fail("its own error" as const)))).toBe("its own error")
      expect(yield* bound(Effect.delay(Effect.succeed("late but in time"), "20 millis"))).toBe("late but in time")
    }))

  it.live("at the deadline the caller gets the timeout, and the operation is interrupted in the background", () =>
    Effect.gen(function*() {
      const interrupted = yield* Deferred.make<void>()
      // An operation whose interruption itself takes long (as a driver giving up on a silent connection does).
      const operation = Effect.never.pipe(
        Effect.onInterrupt(() => Effect.zipRight(Effect.sleep("1 second"), Deferred.succeed(interrupted, undefined)))
      )
      const started = Date.now()
      const error = yield* Effect.flip(withDeadline(50, () => "timed out" as const)(operation))
      const waited = Date.now() - started
      expect(error).toBe("timed out")
      expect(waited).toBeGreaterThanOrEqual(45)
      // Not kept waiting for the slow interruption...
      expect(waited).toBeLessThan(800)
      // ...which still happens.
      yield* Deferred.await(interrupted)
    }))

  it.live("an interrupted caller interrupts the operation", () =>
    Effect.gen(function*() {
      const interrupted = yield* Deferred.make<void>()
      const operation = Effect.never.pipe(Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined)))
      const caller = yield* Effect.fork(withDeadline(10_000, () => "timed out" as const)(operation))
      yield* Effect.sleep("20 millis")
      const exit = yield* Fiber.interrupt(caller)
      expect(Exit.isInterrupted(exit)).toBe(true)
      yield* Deferred.await(interrupted)
    }))
})

describe("callbackWithin", () => {
  // A driver call that answers after `millis` with `outcome`, recording whether it answered.
  const driverCall = (millis: number, outcome: Effect.Effect<string, "driver error">, answered: { value: boolean }) =>
  (done: (outcome: Effect.Effect<string, "driver error">) => void) =>
    void setTimeout(() => {
      answered.value = true
      done(outcome)
    }, millis)

  it.live("a call that answers in time gives its own result or error", () =>
    Effect.gen(function*() {
      const deadline = { millis: 1_000, onTimeout: () => "timed out" as const }
      const answered = { value: false }
      expect(yield* callbackWithin(deadline, driverCall(10, Effect.succeed("row"), answered))).toBe("row")
      expect(yield* Effect.flip(callbackWithin(deadline, driverCall(10, Effect.fail("driver error"), answered))))
        .toBe("driver error")
      expect(yield* callbackWithin(undefined, driverCall(10, Effect.succeed("unbounded"), answered))).toBe("unbounded")
    }))

  it.live("at the deadline the caller gets the timeout at once, and the late answer is dropped", () =>
    Effect.gen(function*() {
      const answered = { value: false }
      const started = Date.now()
      const error = yield* Effect.flip(
        callbackWithin({ millis: 50, onTimeout: () => "timed out" as const }, driverCall(400, Effect.succeed("late"), answered))
      )
      const waited = Date.now() - started
      expect(error).toBe("timed out")
      expect(waited).toBeGreaterThanOrEqual(45)
      expect(waited).toBeLessThan(350)
      expect(answered.value).toBe(false)
      // The driver's late answer comes and resumes nobody (a second resume would be a defect of Effect.async).
      yield* Effect.sleep("450 millis")
      expect(answered.value).toBe(true)
    }))

  it.live("an interrupted caller returns at once; the driver's answer comes later and resumes nobody", () =>
    Effect.gen(function*() {
      const answered = { value: false }
      const caller = yield* Effect.fork(
        callbackWithin({ millis: 200, onTimeout: () => "timed out" as const }, driverCall(100, Effect.succeed("row"), answered))
      )
      yield* Effect.sleep("20 millis")
      const started = Date.now()
      const exit = yield* Fiber.interrupt(caller)
      expect(Date.now() - started).toBeLessThan(50)
      expect(Exit.isInterrupted(exit)).toBe(true)
      expect(answered.value).toBe(false)
      // The answer reaches a fiber that is done: it changes nothing and fails nothing.
      yield* Effect.sleep("300 millis")
      expect(answered.value).toBe(true)
      expect(Exit.isInterrupted(yield* Fiber.await(caller))).toBe(true)
    }))
})
