/**
 * How the insert batcher (src/internal/InsertBatcher.ts) forms its statements, on a stand-in for the database that
 * records every statement and answers it a few milliseconds later. The database suites (Batching.test.ts) prove the
 * ids on each real database; these prove the shapes of the statements, which the timing of a real database hides.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Runtime } from "effect"
import { makeInsertBatcher } from "../src/internal/InsertBatcher.js"

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
const storeTogether = (batcher: (row: string) => Effect.Effect<string>, rows: ReadonlyArray<string>) =>
  Effect.sync(() => rows.map((row) => Effect.runFork(batcher(row), { immediate: true })))

const rowsNamed = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix}${index}`)

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
})
