/**
 * How the insert batcher (src/internal/InsertBatcher.ts) forms its statements, on a stand-in for the database that
 * records every statement it is sent. The database suites (Batching.test.ts) prove the ids on each real database;
 * these prove the shapes of the statements, which the timing of a real database hides.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Scope } from "effect"
import { type InsertBatcherOptions, makeInsertBatcher } from "../src/internal/InsertBatcher.js"

/** What the stand-in fails a statement with: a row it refuses, or a connection it lost. */
type Failure = "refused" | "connection lost" | "timed out"

/**
 * A stand-in for the database over rows that are their own names; the id of a row is `id-<row>`. A statement holding
 * a row of `refuse` fails "refused" (writing nothing), one holding "lose-connection" fails "connection lost".
 * Statements answer 5 ms later, or, with `manual`, only when `answer` is called (oldest first). With `unknownIds`,
 * a multi-row INSERT cannot tell which id each row got (MySQL in interleaved mode): it writes nothing and says so.
 */
const standInDatabase = (options: {
  readonly manual?: boolean
  readonly refuse?: ReadonlySet<string>
  readonly unknownIds?: boolean
} = {}) => {
  const statements: Array<ReadonlyArray<string>> = []
  const written: Array<string> = []
  const waiting: Array<() => void> = []
  let inFlight = 0
  let mostInFlight = 0

  const statement = <A>(rows: ReadonlyArray<string>, ids: A) =>
    Effect.async<A, Failure>((resume) => {
      statements.push(rows)
      inFlight++
      mostInFlight = Math.max(mostInFlight, inFlight)
      const settle = () => {
        inFlight--
        if (rows.includes("lose-connection")) return resume(Effect.fail("connection lost"))
        if (rows.some((row) => options.refuse?.has(row) === true)) return resume(Effect.fail("refused"))
        written.push(...rows)
        resume(Effect.succeed(ids))
      }
      if (options.manual === true) {
        waiting.push(settle)
        return Effect.sync(() => {
          const index = waiting.indexOf(settle)
          if (index >= 0) waiting.splice(index, 1)
          inFlight--
        })
      }
      const timer = setTimeout(settle, 5)
      return Effect.sync(() => {
        clearTimeout(timer)
        inFlight--
      })
    })

  const batcherOptions: InsertBatcherOptions<string, Failure> = {
    insertOne: (row) => statement([row], `id-${row}`),
    insertMany: (rows) =>
      options.unknownIds === true
        ? Effect.succeed(undefined)
        : statement(rows, rows.map((row) => `id-${row}`)),
    retryRowByRow: (error) => error === "refused",
    sizeOf: () => 100,
    maxRows: 1000,
    maxBytes: 1024 * 1024,
    maxInFlight: 2,
    boundStatement: (effect) => effect
  }

  return {
    statements,
    written,
    /** How many statements were in flight at once, at most. */
    mostInFlight: () => mostInFlight,
    /** Answers the oldest statement still waiting for its answer (manual mode). */
    answer: () => waiting.shift()?.(),
    batcher: (overrides: Partial<InsertBatcherOptions<string, Failure>> = {}) =>
      makeInsertBatcher({ ...batcherOptions, ...overrides })
  }
}

/** One caller per row, each started at once, in the same turn (as callers resumed together are). */
const storeTogether = <E>(insert: (row: string) => Effect.Effect<string, E>, rows: ReadonlyArray<string>) =>
  Effect.sync(() => rows.map((row) => Effect.runFork(insert(row))))

const rowsNamed = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix}${index}`)

const outcomes = <E>(exits: ReadonlyArray<Exit.Exit<string, E>>) =>
  exits.map((exit) =>
    Exit.match(exit, {
      onSuccess: (id) => id,
      onFailure: (cause) => `failed: ${cause._tag === "Fail" ? cause.error : cause._tag}`
    })
  )

const scoped = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>) => Effect.scoped(effect)

/** Waits (a millisecond at a time, a second at most) until `condition` holds: the batcher's fibers run when scheduled. */
const eventually = (condition: () => boolean) =>
  Effect.gen(function*() {
    for (let waited = 0; waited < 1_000 && !condition(); waited++) yield* Effect.sleep("1 millis")
  })

describe("InsertBatcher", () => {
  it.live("a lone caller's row goes at once, alone, in a statement of its own", () =>
    scoped(Effect.gen(function*() {
      const db = standInDatabase()
      const batcher = yield* db.batcher()
      const caller = Effect.runFork(batcher.insert("only"))
      // Sent once the callers of this turn have handed in their rows: before any timer.
      yield* Effect.promise(() => new Promise<void>((resolve) => queueMicrotask(resolve)))
      expect(db.statements).toEqual([["only"]])
      expect(yield* Fiber.join(caller)).toBe("id-only")
    })))

  it.live("rows arriving while every place is taken go together, each caller with its own id", () =>
    scoped(Effect.gen(function*() {
      const db = standInDatabase({ manual: true })
      const batcher = yield* db.batcher({ maxInFlight: 2 })
      const [a, b] = yield* storeTogether(batcher.insert, ["a", "b"])
      // Two callers of one turn, two free places: one row each.
      yield* eventually(() => db.statements.length === 2)
      expect(db.statements).toEqual([["a"], ["b"]])
      const late = yield* storeTogether(batcher.insert, rowsNamed("r", 64))
      // Both places are taken: the 64 rows wait...
      yield* Effect.sleep("5 millis")
      expect(db.statements).toHaveLength(2)
      db.answer()
      expect(yield* Fiber.join(a!)).toBe("id-a")
      yield* eventually(() => db.statements.length === 3)
      // ...and go in one statement as soon as a place frees.
      expect(db.statements.slice(2)).toEqual([rowsNamed("r", 64)])
      db.answer()
      db.answer()
      expect(yield* Fiber.join(b!)).toBe("id-b")
      expect(yield* Effect.forEach(late, Fiber.join)).toEqual(rowsNamed("r", 64).map((row) => `id-${row}`))
      expect(db.statements).toHaveLength(3)
    })))

  it.live("the rows of callers of one turn are shared among the free places", () =>
    scoped(Effect.gen(function*() {
      const db = standInDatabase({ manual: true })
      const batcher = yield* db.batcher({ maxInFlight: 2 })
      const callers = yield* storeTogether(batcher.insert, rowsNamed("r", 64))
      yield* eventually(() => db.statements.length === 2)
      expect(db.statements).toEqual([rowsNamed("r", 64).slice(0, 32), rowsNamed("r", 64).slice(32)])
      db.answer()
      db.answer()
      expect(yield* Effect.forEach(callers, Fiber.join)).toEqual(rowsNamed("r", 64).map((row) => `id-${row}`))
    })))

  it.live("concurrent rows use every place, never more than maxInFlight statements at once", () =>
    scoped(Effect.gen(function*() {
      for (const maxInFlight of [1, 2, 3]) {
        const db = standInDatabase()
        const batcher = yield* db.batcher({ maxInFlight, maxRows: 40 })
        const rows = rowsNamed("r", 300)
        const ids = yield* Effect.forEach(yield* storeTogether(batcher.insert, rows), Fiber.join)
        expect(ids).toEqual(rows.map((row) => `id-${row}`))
        expect(db.mostInFlight()).toBe(maxInFlight)
        // Coalesced: far fewer statements than rows, each row in exactly one, in the order the callers came.
        expect(db.statements.length).toBeLessThan(rows.length / 5)
        expect(db.statements.flat()).toEqual(rows)
      }
    })))

  it.live("a statement never carries more than maxRows rows; what is left waits for the next free place", () =>
    scoped(Effect.gen(function*() {
      const db = standInDatabase()
      const batcher = yield* db.batcher({ maxInFlight: 2, maxRows: 100 })
      const rows = rowsNamed("r", 250)
      yield* Effect.forEach(yield* storeTogether(batcher.insert, rows), Fiber.join)
      expect(Math.max(...db.statements.map((statement) => statement.length))).toBe(100)
      expect(db.statements.flat()).toEqual(rows)
    })))

  it.live("a statement never carries more than maxBytes bytes; a larger row goes alone", () =>
    scoped(Effect.gen(function*() {
      const db = standInDatabase()
      const sizeOf = (row: string) => (row === "big" ? 1_000 : 100)
      const batcher = yield* db.batcher({ maxInFlight: 1, maxBytes: 350, sizeOf })
      const rows = [...rowsNamed("a", 10), "big", ...rowsNamed("b", 5)]
      const ids = yield* Effect.forEach(yield* storeTogether(batcher.insert, rows), Fiber.join)
      expect(ids).toEqual(rows.map((row) => `id-${row}`))
      expect(db.statements.flat()).toEqual(rows)
      expect(db.statements).toContainEqual(["big"])
      for (const statement of db.statements) {
        if (statement.length > 1) expect(statement.reduce((bytes, row) => bytes + sizeOf(row), 0)).toBeLessThanOrEqual(350)
      }
      expect(db.statements.length).toBeGreaterThan(3)
    })))

  it.live("with one place (SQLite) every row waiting goes in the next statement", () =>
    scoped(Effect.gen(function*() {
      const db = standInDatabase()
      const batcher = yield* db.batcher({ maxInFlight: 1 })
      yield* Effect.forEach(yield* storeTogether(batcher.insert, rowsNamed("r", 64)), Fiber.join)
      expect(db.statements).toEqual([rowsNamed("r", 64)])
    })))

  it.live("a refused multi-row INSERT is retried row by row when retryRowByRow allows: only the refused row fails", () =>
    scoped(Effect.gen(function*() {
      const db = standInDatabase({ refuse: new Set(["r3"]) })
      const batcher = yield* db.batcher({ maxInFlight: 1 })
      const rows = rowsNamed("r", 8)
      const exits = yield* Effect.forEach(yield* storeTogether(batcher.insert, rows), Fiber.await)
      expect(outcomes(exits)).toEqual(rows.map((row) => (row === "r3" ? "failed: refused" : `id-${row}`)))
      // The failed statement wrote nothing; its rows went one by one, each written once.
      expect(db.statements).toEqual([rows, ...rows.map((row) => [row])])
      expect([...db.written].sort()).toEqual(rows.filter((row) => row !== "r3"))
    })))

  it.live("a failed multi-row INSERT that retryRowByRow refuses (a lost connection) fails every caller of it", () =>
    scoped(Effect.gen(function*() {
      const db = standInDatabase()
      const batcher = yield* db.batcher({ maxInFlight: 1 })
      const rows = ["r0", "r1", "lose-connection", "r3"]
      const exits = yield* Effect.forEach(yield* storeTogether(batcher.insert, rows), Fiber.await)
      expect(outcomes(exits)).toEqual(Array(4).fill("failed: connection lost"))
      expect(db.statements).toEqual([rows])
      expect(db.written).toEqual([])
    })))

  it.live("when insertMany cannot say which id each row got, the rows are written one by one", () =>
    scoped(Effect.gen(function*() {
      const db = standInDatabase({ unknownIds: true })
      const batcher = yield* db.batcher({ maxInFlight: 1 })
      const rows = rowsNamed("r", 5)
      const ids = yield* Effect.forEach(yield* storeTogether(batcher.insert, rows), Fiber.join)
      expect(ids).toEqual(rows.map((row) => `id-${row}`))
      expect(db.statements).toEqual(rows.map((row) => [row]))
    })))

  it.live("a caller interrupted while its row waits takes it out: it is not written; one already sent is", () =>
    scoped(Effect.gen(function*() {
      const db = standInDatabase({ manual: true })
      const batcher = yield* db.batcher({ maxInFlight: 1 })
      const [sent] = yield* storeTogether(batcher.insert, ["sent"])
      yield* eventually(() => db.statements.length === 1)
      const [b, c, d] = yield* storeTogether(batcher.insert, ["b", "c", "d"])
      expect(db.statements).toEqual([["sent"]])
      expect(Exit.isInterrupted(yield* Fiber.interrupt(c!))).toBe(true)
      // Once sent, a row's fate is its statement's: the caller leaves, the row is still written.
      expect(Exit.isInterrupted(yield* Fiber.interrupt(sent!))).toBe(true)
      db.answer()
      yield* eventually(() => db.statements.length === 2)
      expect(db.statements).toEqual([["sent"], ["b", "d"]])
      db.answer()
      expect(yield* Effect.forEach([b!, d!], Fiber.join)).toEqual(["id-b", "id-d"])
      expect(db.written).toEqual(["sent", "b", "d"])
    })))

  it.live("every statement is bounded by boundStatement: one that never answers leaves its place to the rows waiting", () =>
    scoped(Effect.gen(function*() {
      const db = standInDatabase({ manual: true })
      let bounded = 0
      const batcher = yield* db.batcher({
        maxInFlight: 1,
        boundStatement: (statement) => {
          bounded++
          return Effect.timeoutFail(statement, { duration: "50 millis", onTimeout: () => "timed out" as const })
        }
      })
      const [stuck] = yield* storeTogether(batcher.insert, ["stuck"])
      yield* eventually(() => db.statements.length === 1)
      const [x, y] = yield* storeTogether(batcher.insert, ["x", "y"])
      // Nobody answers "stuck": its bound fails it, and the waiting rows go in the next statement.
      expect(yield* Fiber.await(stuck!)).toEqual(Exit.fail("timed out"))
      yield* eventually(() => db.statements.length === 2)
      expect(db.statements).toEqual([["stuck"], ["x", "y"]])
      db.answer()
      expect(yield* Effect.forEach([x!, y!], Fiber.join)).toEqual(["id-x", "id-y"])
      expect(bounded).toBe(2)
    })))

  it.live("closing the batcher's scope interrupts its callers, sent or waiting, rather than leave them waiting", () =>
    Effect.gen(function*() {
      const db = standInDatabase({ manual: true })
      const scope = yield* Scope.make()
      const batcher = yield* Scope.extend(db.batcher({ maxInFlight: 1 }), scope)
      const [sent] = yield* storeTogether(batcher.insert, ["sent"])
      yield* eventually(() => db.statements.length === 1)
      const [waiting] = yield* storeTogether(batcher.insert, ["waiting"])
      expect(db.statements).toEqual([["sent"]])
      yield* Scope.close(scope, Exit.void)
      const callers = [sent!, waiting!]
      // And a later caller does not wait either.
      callers.push(Effect.runFork(batcher.insert("after")))
      for (const caller of callers) {
        const exit = yield* Effect.timeoutFail(Fiber.await(caller), {
          duration: "200 millis",
          onTimeout: () => "still waiting"
        })
        expect(Exit.isInterrupted(exit)).toBe(true)
      }
    }))
})
