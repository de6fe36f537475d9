/**
 * Concurrent stores are coalesced into multi-row INSERTs (src/internal/InsertBatcher.ts). These tests prove what
 * the batching must keep: each caller gets its own, correct id (on MySQL, which has no RETURNING, the ids are
 * derived from LAST_INSERT_ID() and consecutive allocation), and a row the database refuses fails only its caller.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Context, Deferred, Effect, Either, Fiber, Layer, Option, Tracer } from "effect"
import { CheckpointStorage, type NamedAgentCheckpoint, type SqlCheckpointStorageOptions } from "../src/index.js"
import { runtimeTargets } from "./support/provision.js"
import { TestDatabase } from "./support/TestDatabase.js"
import { collectingTracer } from "./support/collectingTracer.js"

const checkpoint = (wave: number, caller: number): NamedAgentCheckpoint => ({
  agentId: `agent-${caller % 5}`,
  sessionId: `session-${wave}`,
  agentType: "coder",
  name: `wave-${wave}-caller-${caller}`,
  // Sizes differ from caller to caller, so that rows of one batch cannot be confused with each other.
  state: { wave, caller, padding: "x".repeat((caller * 37) % 3000), messages: [{ role: "user", content: `#${caller}` }] },
  createdAt: 1_763_900_000_000 + (caller % 3)
})

const buildStorage = (options?: SqlCheckpointStorageOptions) =>
  Effect.gen(function*() {
    const db = yield* TestDatabase
    return Context.get(yield* Layer.build(db.storage(options)), CheckpointStorage)
  })


/** How many INSERTs into the agent table the client sent (@effect/sql's statement spans carry the SQL text). */
const insertStatements = (spans: ReadonlyArray<Tracer.Span>) =>
  spans.filter((span) =>
    span.name === "sql.execute" &&
    /^INSERT INTO ["`]AgentCheckpoints["`]/.test(String(span.attributes.get("db.query.text")))
  ).length

// A trigger that makes the database refuse one row (name "reject-me") as a database error, after validation.
const rejectingTrigger = {
  pg: [
    `CREATE FUNCTION reject_me() RETURNS trigger AS $$ BEGIN
       IF NEW."name" = 'reject-me' THEN RAISE EXCEPTION 'rejected by the test trigger'; END IF; RETURN NEW; END $$
     LANGUAGE plpgsql`,
    `CREATE TRIGGER reject_me BEFORE INSERT ON "AgentCheckpoints" FOR EACH ROW EXECUTE FUNCTION reject_me()`
  ],
  mysql: [
    "CREATE TRIGGER reject_me BEFORE INSERT ON `AgentCheckpoints` FOR EACH ROW BEGIN IF NEW.`name` = 'reject-me' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'rejected by the test trigger'; END IF; END"
  ],
  sqlite: [
    `CREATE TRIGGER reject_me BEFORE INSERT ON "AgentCheckpoints" WHEN NEW."name" = 'reject-me'
     BEGIN SELECT RAISE(ABORT, 'rejected by the test trigger'); END`
  ]
} as const

for (const target of runtimeTargets) {
  describe(`Batching on ${target.name}`, () => {
    layer(target.freshDatabase, { timeout: 120_000 })("concurrent stores", (it) => {
      it.effect("every caller of concurrent batches gets an id that retrieves the checkpoint it stored", () =>
        Effect.gen(function*() {
          const db = yield* TestDatabase
          const storage = Context.get(yield* Layer.build(db.storage()), CheckpointStorage)
          const ids: Array<string> = []
          for (let wave = 0; wave < 4; wave++) {
            const callers = Array.from({ length: 150 }, (_, caller) => caller)
            const waveIds = yield* Effect.forEach(
              callers,
              (caller) =>
                Effect.map(storage.storeAgentCheckpoint(checkpoint(wave, caller)), (id) => [caller, id] as const),
              { concurrency: "unbounded" }
            )
            for (const [caller, id] of waveIds) {
              const stored = yield* storage.retrieveAgentCheckpoint(id)
              expect(Option.isSome(stored)).toBe(true)
              const expected = checkpoint(wave, caller)
              expect(Option.getOrThrow(stored)).toEqual({ id, ...expected })
              ids.push(id)
            }
          }
          expect(new Set(ids).size).toBe(ids.length)
          const listed = yield* storage.listAgentCheckpoints()
          expect(listed.length).toBe(ids.length)
        }).pipe(Effect.scoped))

      it.effect("concurrent stores share INSERT statements, and a lone store is a statement of its own", () =>
        Effect.gen(function*() {
          const db = yield* TestDatabase
          const { spans, tracer } = yield* collectingTracer
          // Built under the tracer, with statement spans: the batcher's statements run in fibers of the storage.
          const storage = yield* Effect.withTracer(buildStorage({ statementSpans: true }), tracer)
          // PostgreSQL also counts the INSERTs it ran, with a statement trigger: the spans count what the server did.
          if (db.dialect === "pg") {
            yield* db.withSql((sql) =>
              Effect.forEach([
                `CREATE TABLE insert_statements (n INT NOT NULL)`,
                `CREATE FUNCTION count_insert() RETURNS trigger AS $$ BEGIN INSERT INTO insert_statements VALUES (1); RETURN NULL; END $$
                 LANGUAGE plpgsql`,
                `CREATE TRIGGER count_insert AFTER INSERT ON "AgentCheckpoints" FOR EACH STATEMENT EXECUTE FUNCTION count_insert()`
              ], (statement) => sql.unsafe(statement)))
          }
          const before = insertStatements(spans)
          const callers = Array.from({ length: 200 }, (_, caller) => caller)
          const ids = yield* Effect.withTracer(
            Effect.forEach(callers, (caller) => storage.storeAgentCheckpoint(checkpoint(10, caller)), {
              concurrency: "unbounded"
            }),
            tracer
          )
          expect(new Set(ids).size).toBe(200)
          const statements = insertStatements(spans) - before
          // 200 rows in a handful of statements: the first callers' rows go at once, the others wait together for
          // the next free place.
          expect(statements).toBeGreaterThanOrEqual(1)
          expect(statements).toBeLessThan(10)
          // A lone caller still writes its row at once, in a statement of its own.
          yield* Effect.withTracer(storage.storeAgentCheckpoint(checkpoint(10, 999)), tracer)
          expect(insertStatements(spans) - before).toBe(statements + 1)
          if (db.dialect === "pg") {
            const counted = yield* db.withSql((sql) =>
              Effect.map(sql<{ readonly n: string }>`SELECT COUNT(*) AS n FROM insert_statements`, (rows) => Number(rows[0]!.n))
            )
            expect(counted).toBe(statements + 1)
            yield* db.withSql((sql) => sql.unsafe(`DROP TRIGGER count_insert ON "AgentCheckpoints"`))
          }
        }).pipe(Effect.scoped))

      it.effect("a row the database refuses fails only its own caller; the others of its batch are stored", () =>
        Effect.gen(function*() {
          const db = yield* TestDatabase
          yield* db.withSql((sql) => Effect.forEach(rejectingTrigger[db.dialect], (statement) => sql.unsafe(statement)))
          const storage = Context.get(yield* Layer.build(db.storage()), CheckpointStorage)
          const before = (yield* storage.listAgentCheckpoints()).length
          const results = yield* Effect.forEach(
            Array.from({ length: 60 }, (_, caller) => caller),
            (caller) => {
              const input = caller % 20 === 7 ? { ...checkpoint(9, caller), name: "reject-me" } : checkpoint(9, caller)
              return Effect.map(Effect.either(storage.storeAgentCheckpoint(input)), (result) => [input, result] as const)
            },
            { concurrency: "unbounded" }
          )
          for (const [input, result] of results) {
            if (input.name === "reject-me") {
              expect(Either.isLeft(result)).toBe(true)
              if (Either.isLeft(result)) expect(result.left._tag).toBe("StorageQueryError")
            } else {
              expect(Either.isRight(result)).toBe(true)
              if (Either.isRight(result)) {
                const stored = yield* storage.retrieveAgentCheckpoint(result.right)
                expect(Option.getOrThrow(stored)).toEqual({ id: result.right, ...input })
              }
            }
          }
          const after = (yield* storage.listAgentCheckpoints()).length
          expect(after - before).toBe(57)
        }).pipe(Effect.scoped))

      it.effect("an interrupted caller waiting for its batch writes nothing, and the others still complete", () =>
        Effect.gen(function*() {
          const db = yield* TestDatabase
          const storage = Context.get(yield* Layer.build(db.storage()), CheckpointStorage)
          const before = (yield* storage.listAgentCheckpoints()).length
          // Many callers at once, half of them interrupted right away: those still waiting in the queue leave it.
          const fibers = yield* Effect.forEach(
            Array.from({ length: 80 }, (_, caller) => caller),
            (caller) => Effect.fork(storage.storeAgentCheckpoint(checkpoint(11, caller)))
          )
          yield* Effect.forEach(fibers.filter((_, index) => index % 2 === 1), Fiber.interruptFork)
          const kept = yield* Effect.forEach(fibers.filter((_, index) => index % 2 === 0), Fiber.await)
          for (const exit of kept) expect(exit._tag).toBe("Success")
          const interrupted = yield* Effect.forEach(fibers.filter((_, index) => index % 2 === 1), Fiber.await)
          const written = interrupted.filter((exit) => exit._tag === "Success").length
          const after = (yield* storage.listAgentCheckpoints()).length
          // An interrupted caller's row is written only if its batch had already been sent (and then it succeeded).
          expect(after - before).toBeGreaterThanOrEqual(40)
          expect(after - before).toBeLessThanOrEqual(80)
          expect(written).toBeLessThanOrEqual(after - before - 40)
          // The storage still works afterwards: nobody holds the leadership.
          const id = yield* storage.storeAgentCheckpoint(checkpoint(12, 1))
          expect(Option.isSome(yield* storage.retrieveAgentCheckpoint(id))).toBe(true)
        }).pipe(Effect.scoped))

      // On a server a row can be seen waiting: both statements in flight are held by a lock another connection takes
      // (SQLite answers within the call: a row waits only until the current microtask ends).
      if (target.dialect !== "sqlite") {
        it.effect("a caller interrupted while its row waits behind the statements in flight writes nothing", () =>
          Effect.gen(function*() {
            const db = yield* TestDatabase
            const storage = Context.get(yield* Layer.build(db.storage()), CheckpointStorage)
            const locked = yield* Deferred.make<void>()
            const unlock = yield* Deferred.make<void>()
            // PostgreSQL: a lock on the table that INSERTs wait for. MariaDB: FOR UPDATE over the whole index, which
            // locks the gap after the last row, where every new row goes.
            const holdInserts = db.withSql((sql) =>
              sql.withTransaction(Effect.gen(function*() {
                yield* sql.onDialectOrElse({
                  pg: () => sql`LOCK TABLE ${sql("AgentCheckpoints")} IN SHARE ROW EXCLUSIVE MODE`,
                  orElse: () => sql`SELECT ${sql("id")} FROM ${sql("AgentCheckpoints")} FOR UPDATE`
                })
                yield* Deferred.succeed(locked, undefined)
                yield* Deferred.await(unlock)
              }))
            )
            const before = (yield* storage.listAgentCheckpoints()).length
            const holder = yield* Effect.fork(holdInserts)
            yield* Deferred.await(locked)
            // Real time (it.effect's clock is a TestClock): long enough for a statement to reach the server.
            const pause = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 150)))
            const inFlight = [
              yield* Effect.fork(storage.storeAgentCheckpoint(checkpoint(13, 1))),
              yield* Effect.fork(storage.storeAgentCheckpoint(checkpoint(13, 2)))
            ]
            yield* pause
            const waiting = yield* Effect.fork(storage.storeAgentCheckpoint(checkpoint(13, 3)))
            yield* pause
            expect(Option.isNone(yield* Fiber.poll(waiting))).toBe(true)
            yield* Fiber.interrupt(waiting)
            yield* Deferred.succeed(unlock, undefined)
            yield* Fiber.join(holder)
            yield* Effect.forEach(inFlight, Fiber.join)
            const names = (yield* storage.listAgentCheckpoints()).map((item) => item.name)
            expect(names.length - before).toBe(2)
            expect(names).not.toContain("wave-13-caller-3")
            expect(names).toContain("wave-13-caller-1")
          }).pipe(Effect.scoped))
      }
    })
  })
}
