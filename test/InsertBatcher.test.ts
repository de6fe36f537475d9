/**
 * How the insert batcher (src/internal/InsertBatcher.ts) forms its statements, on a stand-in for the database that
 * records every statement and answers it a few milliseconds later. The database suites (Batching.test.ts) prove the
 * ids on each real database; these prove the shapes of the statements, which the timing of a real database hides.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Runtime } from "effect"
import { type InsertBatcher, makeInsertBatcher } from "../src/internal/InsertBatcher.js"

/** A batcher over rows that are their own names; each id is `id-<row>`. `statements` lists the rows of each. */
const recordingBatcher = (options: { readonly maxRows?: number; readonly maxInFlight?: number } = {}) => {
  const statements: Array<ReadonlyArray<string>> = []
  const answerLater = <A>(value: A) =>
    Effect.async<A>((resume) => {
      const timer = setTimeout(() => resume(Effect.succeed(value)), 5)
      return Effect.sync(() => clearTimeout(timer))
    })
  const batcher = makeInsertBatcher<string, never>({
    insertOne: (row) => {
      statements.push([row])
      return answerLater(`id-${row}`)
    },
    insertMany: (rows) => {
      statements.push(rows)
      return answerLater(rows.map((row) => `id-${row}`))
    },
    retryRowByRow: () => false,
    sizeOf: () => 100,
    maxRows: options.maxRows ?? 1000,
    maxBytes: 1024 * 1024,
    maxInFlight: options.maxInFlight ?? 2,
    runtime: Runtime.defaultRuntime
  })
  return { batcher, statements }
}

/** One caller per row, all storing in the same turn, each started at once (as the fibers a finished statement resumes). */
const storeTogether = <E>(batcher: (row: string) => Effect.Effect<string, E>, rows: ReadonlyArray<string>) =>
  Effect.sync(() => rows.map((row) => Effect.runFork(batcher(row), { immediate: true })))

const rowsNamed = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix}${index}`)

/**
 * A batcher whose statements go straight to a stand-in driver (`insertNow`), which answers a few milliseconds later;
 * `refuse` names rows it refuses (the whole statement fails when it holds one), `busy` makes it decline to send.
 * `direct` records the statements sent that way, `viaFiber` those written through insertOne / insertMany.
 */
const directBatcher = (options: { readonly refuse?: ReadonlySet<string>; readonly busy?: () => boolean } = {}) => {
  const direct: Array<ReadonlyArray<string>> = []
  const viaFiber: Array<ReadonlyArray<string>> = []
  const refused = (rows: ReadonlyArray<string>) => rows.some((row) => options.refuse?.has(row) === true)
  const batcher = makeInsertBatcher<string, "refused">({
    insertNow: (rows, done) => {
      if (options.busy?.() === true) return false
      direct.push(rows)
      setTimeout(() => done(refused(rows) ? Exit.fail("refused") : Exit.succeed(rows.map((row) => `id-${row}`))), 5)
      return true
    },
    insertOne: (row) => {
      viaFiber.push([row])
      return Effect.delay(refused([row]) ? Effect.fail("refused" as const) : Effect.succeed(`id-${row}`), "5 millis")
    },
    insertMany: (rows) => {
      viaFiber.push(rows)
      return Effect.delay(
        refused(rows) ? Effect.fail("refused" as const) : Effect.succeed(rows.map((row) => `id-${row}`)),
        "5 millis"
      )
    },
    retryRowByRow: () => true,
    sizeOf: () => 100,
    maxRows: 1000,
    maxBytes: 1024 * 1024,
    maxInFlight: 2,
    runtime: Runtime.defaultRuntime
  })
  return { batcher, direct, viaFiber }
}

describe("InsertBatcher", () => {
  it.effect("a lone caller's row goes at once, alone, in a statement of its own", () =>
    Effect.gen(function*() {
      const { batcher, statements } = recordingBatcher()
      expect(yield* batcher("only")).toBe("id-only")
      expect(statements).toEqual([["only"]])
    }))

  it.effect("callers arriving together are shared evenly among the free places, and each gets its own id", () =>
    Effect.gen(function*() {
      const { batcher, statements } = recordingBatcher({ maxInFlight: 2 })
      const rows = rowsNamed("r", 64)
      const fibers = yield* storeTogether(batcher, rows)
      const ids = yield* Effect.forEach(fibers, Fiber.join)
      expect(statements.map((statement) => statement.length)).toEqual([32, 32])
      expect(statements.flat()).toEqual(rows)
      expect(ids).toEqual(rows.map((row) => `id-${row}`))
    }))

  it.effect("rows arriving while every place is taken go together into the first place that frees", () =>
    Effect.gen(function*() {
      const { batcher, statements } = recordingBatcher({ maxInFlight: 2 })
      const first = yield* storeTogether(batcher, rowsNamed("a", 64))
      yield* Effect.yieldNow()
      expect(statements.map((statement) => statement.length)).toEqual([32, 32])
      const late = yield* storeTogether(batcher, rowsNamed("b", 10))
      yield* Effect.forEach([...first, ...late], Fiber.join)
      expect(statements.map((statement) => statement.length)).toEqual([32, 32, 10])
      expect(statements[2]).toEqual(rowsNamed("b", 10))
    }))

  it.effect("a share never exceeds maxRows; what is left waits for the next free place", () =>
    Effect.gen(function*() {
      const { batcher, statements } = recordingBatcher({ maxInFlight: 2, maxRows: 100 })
      const fibers = yield* storeTogether(batcher, rowsNamed("r", 250))
      yield* Effect.forEach(fibers, Fiber.join)
      expect(statements.map((statement) => statement.length)).toEqual([100, 100, 50])
      expect(statements.flat()).toEqual(rowsNamed("r", 250))
    }))

  it.effect("with one place (SQLite) every caller waiting goes in the next statement", () =>
    Effect.gen(function*() {
      const { batcher, statements } = recordingBatcher({ maxInFlight: 1 })
      const fibers = yield* storeTogether(batcher, rowsNamed("r", 64))
      yield* Effect.forEach(fibers, Fiber.join)
      expect(statements.map((statement) => statement.length)).toEqual([64])
    }))

  describe("straight on the driver (insertNow)", () => {
    it.effect("statements go to the driver directly, shared as on the fiber path, each caller with its own id", () =>
      Effect.gen(function*() {
        const { batcher, direct, viaFiber } = directBatcher()
        expect(yield* batcher("only")).toBe("id-only")
        const rows = rowsNamed("r", 64)
        const ids = yield* Effect.forEach(yield* storeTogether(batcher, rows), Fiber.join)
        expect(ids).toEqual(rows.map((row) => `id-${row}`))
        expect(direct.map((statement) => statement.length)).toEqual([1, 32, 32])
        expect(viaFiber).toEqual([])
      }))

    it.effect("a refused multi-row statement is retried row by row: only the refused row's caller fails", () =>
      Effect.gen(function*() {
        const { batcher, direct, viaFiber } = directBatcher({ refuse: new Set(["r3"]) })
        const rows = rowsNamed("r", 8)
        const exits = yield* Effect.forEach(yield* storeTogether(batcher, rows), Fiber.await)
        expect(direct).toEqual([rows.slice(0, 4), rows.slice(4)])
        // The failed statement wrote nothing; its rows go one by one, the other statement's rows are not repeated.
        expect(viaFiber).toEqual(rows.slice(0, 4).map((row) => [row]))
        expect(exits.map((exit) => Exit.isSuccess(exit) ? exit.value : "failed")).toEqual(
          rows.map((row) => row === "r3" ? "failed" : `id-${row}`)
        )
      }))

    it.effect("when the driver cannot take a statement now, it goes through insertOne / insertMany", () =>
      Effect.gen(function*() {
        const { batcher, direct, viaFiber } = directBatcher({ busy: () => true })
        const rows = rowsNamed("r", 4)
        const ids = yield* Effect.forEach(yield* storeTogether(batcher, rows), Fiber.join)
        expect(ids).toEqual(rows.map((row) => `id-${row}`))
        expect(direct).toEqual([])
        expect(viaFiber).toEqual([rows.slice(0, 2), rows.slice(2)])
      }))
  })

  describe("callers with no fiber (submit, the Promise facade)", () => {
    const submitted = <E, E2>(batcher: InsertBatcher<string, E>, row: string, deadline?: {
      readonly millis: number
      readonly onTimeout: () => E2
    }) => new Promise<Exit.Exit<string, unknown>>((resolve) => batcher.submit(row, deadline, resolve))

    it.effect("share statements with the fibers' rows, and each gets its own id", () =>
      Effect.gen(function*() {
        const { batcher, direct } = directBatcher()
        const fibers = yield* storeTogether(batcher, ["f0", "f1"])
        const plain = ["p0", "p1"].map((row) => submitted(batcher, row))
        expect(yield* Effect.forEach(fibers, Fiber.join)).toEqual(["id-f0", "id-f1"])
        expect(yield* Effect.promise(() => Promise.all(plain))).toEqual([Exit.succeed("id-p0"), Exit.succeed("id-p1")])
        expect(direct).toEqual([["f0", "f1"], ["p0", "p1"]])
      }))

    it.effect("a row still waiting when its deadline passes fails with the deadline's error and is not written", () =>
      Effect.gen(function*() {
        // A stand-in driver that answers only when told: both places stay taken for as long as the test wants.
        const sent: Array<ReadonlyArray<string>> = []
        const answers: Array<() => void> = []
        const batcher = makeInsertBatcher<string, never>({
          insertNow: (rows, done) => {
            sent.push(rows)
            answers.push(() => done(Exit.succeed(rows.map((row) => `id-${row}`))))
            return true
          },
          insertOne: () => Effect.dieMessage("the driver took every statement"),
          insertMany: () => Effect.dieMessage("the driver took every statement"),
          retryRowByRow: () => false,
          sizeOf: () => 100,
          maxRows: 1000,
          maxBytes: 1024 * 1024,
          maxInFlight: 2,
          runtime: Runtime.defaultRuntime
        })
        // A turn of the event loop: the batcher sends what waits after the current microtask.
        const nextTurn = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 0)))
        const first = [submitted(batcher, "a")]
        yield* nextTurn
        first.push(submitted(batcher, "b"))
        yield* nextTurn
        expect(sent).toEqual([["a"], ["b"]])
        const late = submitted(batcher, "late", { millis: 1, onTimeout: () => "too late" })
        expect(yield* Effect.promise(() => late)).toEqual(Exit.fail("too late"))
        for (const answer of answers) answer()
        expect(yield* Effect.promise(() => Promise.all(first))).toEqual([Exit.succeed("id-a"), Exit.succeed("id-b")])
        yield* nextTurn
        expect(sent).toEqual([["a"], ["b"]])
      }))
  })
})
