/**
 * The conformance suite: what every CheckpointStorage layer must do, written once and run against each target
 * (one `*.test.ts` file per database and driver). Each `layer(...)` group gets a fresh, empty database.
 */
import { describe, expect, it, layer } from "@effect/vitest"
import { Context, Effect, Layer, Option } from "effect"
import * as ChildProcess from "node:child_process"
import {
  type AppSessionCheckpoint,
  CheckpointStorage,
  type CheckpointValidationError,
  layerFromConfig,
  type NamedAgentCheckpoint
} from "../src/index.js"
import { TestDatabase, type TestTarget } from "./support/TestDatabase.js"
import { createDrizzleStorageTables } from "./support/tokenRingTables.js"

const agentCheckpoint = (overrides: Partial<NamedAgentCheckpoint> = {}): NamedAgentCheckpoint => ({
  agentId: "agent-123",
  sessionId: "session-456",
  agentType: "coder",
  name: "session-1",
  state: { agentState: { messages: { hello: "world" } }, toolsEnabled: ["foo"], hooksEnabled: ["bar"] },
  createdAt: 1_763_900_000_000,
  ...overrides
})

const appCheckpoint = (overrides: Partial<AppSessionCheckpoint> = {}): AppSessionCheckpoint => ({
  sessionId: "session-456",
  hostname: "localhost",
  workspaceDirectory: "/home/user/project",
  state: { files: ["index.ts"], config: {} },
  createdAt: 1_763_900_000_000,
  ...overrides
})

// Casts for inputs that a TypeScript caller could not write but a JavaScript caller (or a parsed file) can.
const untyped = <A>(value: unknown): A => value as A

const countRows = (table: "AgentCheckpoints" | "AppCheckpoints") =>
  Effect.flatMap(TestDatabase, (db) =>
    db.withSql((sql) =>
      Effect.map(sql<{ readonly n: number | string }>`SELECT COUNT(*) AS n FROM ${sql(table)}`, (rows) => Number(rows[0]!.n))
    ))

const setRawState = (table: "AgentCheckpoints" | "AppCheckpoints", id: string, state: string) =>
  Effect.flatMap(TestDatabase, (db) =>
    db.withSql((sql) => sql`UPDATE ${sql(table)} SET ${sql("state")} = ${state} WHERE ${sql("id")} = ${Number(id)}`))

const appliedMigrations = Effect.flatMap(TestDatabase, (db) =>
  db.withSql((sql) =>
    Effect.map(
      sql<{ readonly migration_id: number | string }>`SELECT migration_id FROM ${
        sql("effect_checkpoint_storage_migrations")
      } ORDER BY migration_id`,
      (rows) => rows.map((row) => Number(row.migration_id))
    )
  ))

const indexNames = (table: string) =>
  Effect.flatMap(TestDatabase, (db) =>
    db.withSql((sql) =>
      Effect.map(
        sql.onDialectOrElse({
          pg: () => sql<{ readonly name: string }>`SELECT indexname AS name FROM pg_indexes WHERE tablename = ${table}`,
          mysql: () =>
            sql<{ readonly name: string }>`SELECT DISTINCT INDEX_NAME AS name FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table}`,
          orElse: () =>
            sql<{ readonly name: string }>`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ${table}`
        }),
        (rows) => rows.map((row) => row.name)
      )
    ))

/** A fresh database with a storage on it. */
const withStorage = (target: TestTarget) =>
  Layer.provideMerge(Layer.unwrapEffect(Effect.map(TestDatabase, (db) => db.storage())), target.freshDatabase)

/** Builds a new storage on the group's database for the rest of the scope. */
const buildStorage = Effect.gen(function*() {
  const db = yield* TestDatabase
  const context = yield* Layer.build(db.storage())
  return Context.get(context, CheckpointStorage)
})

const largeState = (bytes: number) => {
  const message = "The quick brown fox jumps over the lazy dog. Ünïcödé ✓ 🦊 ".repeat(16)
  const messages: Array<{ role: string; content: string; step: number }> = []
  let size = 0
  for (let step = 0; size < bytes; step++) {
    messages.push({ role: step % 2 === 0 ? "user" : "assistant", content: message, step })
    size += message.length + 40
  }
  return { messages, counters: { steps: messages.length } }
}

export const checkpointStorageSuite = (target: TestTarget) => {
  describe(target.name, () => {
    layer(withStorage(target), { timeout: 60_000 })("agent checkpoints", (it) => {
      it.effect("stores a checkpoint and retrieves it by the string id it returned", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const checkpoint = agentCheckpoint()
          const id = yield* storage.storeAgentCheckpoint(checkpoint)
          expect(id).toMatch(/^[1-9][0-9]*$/)
          const retrieved = yield* storage.retrieveAgentCheckpoint(id)
          expect(retrieved).toEqual(Option.some({ id, ...checkpoint }))
        }))

      it.effect("gives each stored checkpoint a new, increasing id", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const ids = yield* Effect.forEach([1, 2, 3], (step) =>
            storage.storeAgentCheckpoint(agentCheckpoint({ name: `step-${step}` })))
          expect(new Set(ids).size).toBe(3)
          expect(ids.map(Number)).toEqual([...ids.map(Number)].sort((a, b) => a - b))
        }))

      it.effect("returns None for an id that does not exist or cannot be an id", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          for (const id of ["999999", "abc", "1 OR 1=1", "", "0", "-1", "1.5", " 1", "01", "99999999999999999999"]) {
            expect(yield* storage.retrieveAgentCheckpoint(id)).toEqual(Option.none())
          }
        }))

      it.effect("lists checkpoints without their state, newest first, ties broken by the higher id", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const sessionId = "ordering-session"
          const stored: Array<{ id: string; createdAt: number }> = []
          for (const createdAt of [3_000, 1_000, 2_000, 2_000, 5_000, 2_000]) {
            const id = yield* storage.storeAgentCheckpoint(agentCheckpoint({ sessionId, createdAt, name: `at-${createdAt}` }))
            stored.push({ id, createdAt })
          }
          const listed = (yield* storage.listAgentCheckpoints()).filter((item) => item.sessionId === sessionId)
          const expected = [...stored].sort((a, b) => b.createdAt - a.createdAt || Number(b.id) - Number(a.id))
          expect(listed.map((item) => item.id)).toEqual(expected.map((item) => item.id))
          for (const item of listed) {
            expect(item).not.toHaveProperty("state")
            expect(Object.keys(item).sort()).toEqual(["agentId", "agentType", "createdAt", "id", "name", "sessionId"])
            expect(typeof item.createdAt).toBe("number")
          }
        }))
    })

    layer(withStorage(target), { timeout: 60_000 })("app checkpoints", (it) => {
      it.effect("has nothing to list and no latest checkpoint in an empty database", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          expect(yield* storage.listAppCheckpoints()).toEqual([])
          expect(yield* storage.listAgentCheckpoints()).toEqual([])
          expect(yield* storage.retrieveLatestAppCheckpoint()).toEqual(Option.none())
          expect(yield* storage.retrieveAppCheckpoint("1")).toEqual(Option.none())
          expect(yield* storage.retrieveAgentCheckpoint("1")).toEqual(Option.none())
        }))

      it.effect("stores an app checkpoint and retrieves it by id", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const checkpoint = appCheckpoint()
          const id = yield* storage.storeAppCheckpoint(checkpoint)
          expect(yield* storage.retrieveAppCheckpoint(id)).toEqual(Option.some({ id, ...checkpoint }))
          expect(yield* storage.retrieveAppCheckpoint("abc")).toEqual(Option.none())
        }))

      it.effect("retrieves as latest the newest createdAt, and on a tie the one stored last", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          yield* storage.storeAppCheckpoint(appCheckpoint({ sessionId: "older", createdAt: 2_000_000_000_000 }))
          const first = yield* storage.storeAppCheckpoint(appCheckpoint({ sessionId: "tie-a", createdAt: 2_100_000_000_000 }))
          const second = yield* storage.storeAppCheckpoint(appCheckpoint({ sessionId: "tie-b", createdAt: 2_100_000_000_000 }))
          yield* storage.storeAppCheckpoint(appCheckpoint({ sessionId: "oldest", createdAt: 1_000 }))
          const latest = yield* storage.retrieveLatestAppCheckpoint()
          expect(Option.map(latest, (checkpoint) => checkpoint.id)).toEqual(Option.some(second))
          expect(Number(second)).toBeGreaterThan(Number(first))
          expect(Option.map(latest, (checkpoint) => checkpoint.state)).toEqual(Option.some(appCheckpoint().state))
        }))

      it.effect("lists app checkpoints without their state, newest first", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const listed = yield* storage.listAppCheckpoints()
          expect(listed.length).toBeGreaterThanOrEqual(4)
          for (let index = 1; index < listed.length; index++) {
            const [newer, older] = [listed[index - 1]!, listed[index]!]
            expect(newer.createdAt > older.createdAt || (newer.createdAt === older.createdAt && Number(newer.id) > Number(older.id)))
              .toBe(true)
          }
          expect(Object.keys(listed[0]!).sort()).toEqual(["createdAt", "hostname", "id", "sessionId", "workspaceDirectory"])
        }))
    })

    layer(withStorage(target), { timeout: 120_000 })("what goes in comes out", (it) => {
      it.effect("keeps unicode in every field and in the state", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const text = "héllo wörld — 你好 — مرحبا — 🦊👩‍👩‍👧 — e\u0301"
          const checkpoint = agentCheckpoint({
            agentId: `agent ${text}`.slice(0, 255),
            sessionId: "Session-Ä",
            agentType: "ライター",
            name: text,
            state: { text, [text]: [text], nested: { deeper: { deepest: text } } }
          })
          const id = yield* storage.storeAgentCheckpoint(checkpoint)
          expect(yield* storage.retrieveAgentCheckpoint(id)).toEqual(Option.some({ id, ...checkpoint }))
          const app = appCheckpoint({ hostname: "hôte-🦊", workspaceDirectory: `/home/ü/${text}`, state: { text } })
          const appId = yield* storage.storeAppCheckpoint(app)
          expect(yield* storage.retrieveAppCheckpoint(appId)).toEqual(Option.some({ id: appId, ...app }))
        }))

      it.effect("tells identifiers apart by case and accent", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const ids = yield* Effect.forEach(["case-a", "CASE-A", "cäse-a"], (sessionId) =>
            storage.storeAgentCheckpoint(agentCheckpoint({ sessionId, name: sessionId })))
          const retrieved = yield* Effect.forEach(ids, (id) => storage.retrieveAgentCheckpoint(id))
          expect(retrieved.map((checkpoint) => Option.map(checkpoint, (c) => c.sessionId))).toEqual(
            ["case-a", "CASE-A", "cäse-a"].map(Option.some)
          )
        }))

      it.effect("keeps JSON's hard cases in the state: NUL, lone surrogates, escapes, extreme numbers, deep nesting", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          let deep: Record<string, unknown> = { leaf: true }
          for (let level = 0; level < 200; level++) deep = { level, child: deep }
          const state = {
            nul: "a\u0000b",
            loneSurrogates: "\ud800 and \udfff",
            escapes: "quote \" backslash \\ newline \n tab \t '; DROP TABLE \"AgentCheckpoints\"; --",
            numbers: [0, 1, -1, 1.5, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER],
            empty: { object: {}, array: [], string: "" },
            nulls: [null, { value: null }],
            booleans: [true, false],
            deep
          }
          const id = yield* storage.storeAgentCheckpoint(agentCheckpoint({ state }))
          const retrieved = yield* storage.retrieveAgentCheckpoint(id)
          expect(Option.map(retrieved, (checkpoint) => checkpoint.state)).toEqual(Option.some(state))
        }))

      it.effect("keeps createdAt exact up to the largest safe integer", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          for (const createdAt of [0, 1, 1_763_900_000_123, Number.MAX_SAFE_INTEGER]) {
            const id = yield* storage.storeAppCheckpoint(appCheckpoint({ createdAt }))
            const retrieved = yield* storage.retrieveAppCheckpoint(id)
            expect(Option.map(retrieved, (checkpoint) => checkpoint.createdAt)).toEqual(Option.some(createdAt))
          }
        }))

      it.effect("round-trips an 8 MiB state for agents and for apps", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const state = largeState(8 * 1024 * 1024)
          expect(JSON.stringify(state).length).toBeGreaterThanOrEqual(8 * 1024 * 1024)
          const id = yield* storage.storeAgentCheckpoint(agentCheckpoint({ state }))
          const retrieved = yield* storage.retrieveAgentCheckpoint(id)
          expect(Option.map(retrieved, (checkpoint) => checkpoint.state)).toEqual(Option.some(state))
          const appId = yield* storage.storeAppCheckpoint(appCheckpoint({ state }))
          const retrievedApp = yield* storage.retrieveAppCheckpoint(appId)
          expect(Option.map(retrievedApp, (checkpoint) => checkpoint.state)).toEqual(Option.some(state))
        }))
    })

    layer(withStorage(target), { timeout: 60_000 })("bad input gets a typed error and writes nothing", (it) => {
      const invalidAgentCheckpoints: ReadonlyArray<readonly [string, unknown, string]> = [
        ["a missing agentId", { ...agentCheckpoint(), agentId: undefined }, "agentId"],
        ["a number as agentId", { ...agentCheckpoint(), agentId: 42 }, "agentId"],
        ["an empty sessionId", agentCheckpoint({ sessionId: "" }), "sessionId"],
        ["an agentType over 255 characters", agentCheckpoint({ agentType: "x".repeat(256) }), "agentType"],
        ["a NUL character in the name", agentCheckpoint({ name: "a\u0000b" }), "name"],
        ["a lone surrogate in the agentId", agentCheckpoint({ agentId: "agent-\ud800" }), "agentId"],
        ["a fractional createdAt", agentCheckpoint({ createdAt: 1.5 }), "createdAt"],
        ["a negative createdAt", agentCheckpoint({ createdAt: -1 }), "createdAt"],
        ["a createdAt given as text", { ...agentCheckpoint(), createdAt: "1700000000000" }, "createdAt"],
        ["a NaN createdAt", agentCheckpoint({ createdAt: Number.NaN }), "createdAt"],
        ["a null state", { ...agentCheckpoint(), state: null }, "state"],
        ["a string state", { ...agentCheckpoint(), state: "text" }, "state"],
        ["no checkpoint at all", null, ""]
      ]

      for (const [label, input, path] of invalidAgentCheckpoints) {
        it.effect(`refuses an agent checkpoint with ${label} (CheckpointValidationError naming the field)`, () =>
          Effect.gen(function*() {
            const storage = yield* CheckpointStorage
            const before = yield* countRows("AgentCheckpoints")
            const error = yield* Effect.flip(storage.storeAgentCheckpoint(untyped(input)))
            expect(error._tag).toBe("CheckpointValidationError")
            const issues = (error as CheckpointValidationError).issues
            expect(issues.map((issue) => issue.path)).toContain(path)
            expect(error.message).toContain("Invalid NamedAgentCheckpoint")
            expect(yield* countRows("AgentCheckpoints")).toBe(before)
          }))
      }

      it.effect("refuses an app checkpoint with a missing hostname and an overlong workspaceDirectory, listing both", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const before = yield* countRows("AppCheckpoints")
          const input = { ...appCheckpoint({ workspaceDirectory: "/".repeat(4097) }), hostname: undefined }
          const error = yield* Effect.flip(storage.storeAppCheckpoint(untyped(input)))
          expect(error._tag).toBe("CheckpointValidationError")
          expect((error as CheckpointValidationError).issues.map((issue) => issue.path).sort()).toEqual(
            ["hostname", "workspaceDirectory"]
          )
          expect(yield* countRows("AppCheckpoints")).toBe(before)
        }))

      it.effect("refuses a state holding a BigInt with a StateEncodeError that says where", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const before = yield* countRows("AgentCheckpoints")
          const error = yield* Effect.flip(
            storage.storeAgentCheckpoint(agentCheckpoint({ state: { usage: { tokens: [1, 2n] } } }))
          )
          expect(error).toMatchObject({ _tag: "StateEncodeError", path: "state.usage.tokens[1]" })
          expect(error.message).toContain("BigInt")
          expect(yield* countRows("AgentCheckpoints")).toBe(before)
        }))

      it.effect("refuses a circular state with a StateEncodeError at the reference that closes the circle", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const before = yield* countRows("AppCheckpoints")
          const state: Record<string, unknown> = { shared: { ok: true } }
          const loop: Record<string, unknown> = { name: "loop" }
          loop["back to top"] = state
          state.a = { loop, again: state.shared }
          const error = yield* Effect.flip(storage.storeAppCheckpoint(appCheckpoint({ state })))
          expect(error).toMatchObject({ _tag: "StateEncodeError", path: "state.a.loop[\"back to top\"]" })
          expect(yield* countRows("AppCheckpoints")).toBe(before)
        }))

      it.effect("refuses a state whose toJSON throws", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const state = { when: { toJSON: () => { throw new Error("clock is gone") } } }
          const error = yield* Effect.flip(storage.storeAgentCheckpoint(agentCheckpoint({ state })))
          expect(error).toMatchObject({ _tag: "StateEncodeError", path: "state.when" })
          expect(error.message).toContain("clock is gone")
        }))
    })

    layer(withStorage(target), { timeout: 60_000 })("rows damaged outside the library", (it) => {
      it.effect("reports a stored state that is not JSON as StateDecodeError naming the row, and the rest keeps working", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const healthy = yield* storage.storeAgentCheckpoint(agentCheckpoint({ name: "healthy" }))
          const damaged = yield* storage.storeAgentCheckpoint(agentCheckpoint({ name: "damaged" }))
          yield* setRawState("AgentCheckpoints", damaged, "{\"messages\": [")
          const error = yield* Effect.flip(storage.retrieveAgentCheckpoint(damaged))
          expect(error).toMatchObject({ _tag: "StateDecodeError", id: damaged, table: "AgentCheckpoints" })
          expect(error.message).toContain(damaged)
          expect(Option.isSome(yield* storage.retrieveAgentCheckpoint(healthy))).toBe(true)
          expect((yield* storage.listAgentCheckpoints()).map((item) => item.id).sort()).toEqual([healthy, damaged].sort())
        }))

      it.effect("reports a stored state that is JSON but not an object as StateDecodeError", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const id = yield* storage.storeAppCheckpoint(appCheckpoint({ createdAt: 9_000_000_000_000 }))
          yield* setRawState("AppCheckpoints", id, "[1, 2, 3]")
          const error = yield* Effect.flip(storage.retrieveLatestAppCheckpoint())
          expect(error).toMatchObject({ _tag: "StateDecodeError", id, table: "AppCheckpoints" })
        }))

      it.effect("reports a failing statement as StorageQueryError with the driver's code", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const db = yield* TestDatabase
          yield* db.withSql((sql) => sql`DROP TABLE ${sql("AppCheckpoints")}`)
          const listError = yield* Effect.flip(storage.listAppCheckpoints())
          expect(listError._tag).toBe("StorageQueryError")
          expect(listError).toMatchObject({ dialect: target.dialect, operation: "listAppCheckpoints" })
          expect((listError as { code?: string }).code).toBeTypeOf("string")
          const storeError = yield* Effect.flip(storage.storeAppCheckpoint(appCheckpoint()))
          expect(storeError._tag).toBe("StorageQueryError")
          expect(storeError.message).toContain("storeAppCheckpoint failed")
        }))
    })

    describe("connection failures", () => {
      for (const { config, label, secret } of target.unreachable) {
        it.effect(`fails with StorageConnectionError for ${label}, without the password in the message`, () =>
          Effect.gen(function*() {
            const error = yield* Effect.flip(Layer.build(layerFromConfig(config)))
            expect(error._tag).toBe("StorageConnectionError")
            expect(error).toMatchObject({ dialect: target.dialect, operation: "connect" })
            if (secret !== undefined) {
              expect(error.message).not.toContain(secret)
              expect(String(error)).not.toContain(secret)
              expect(JSON.stringify(error)).not.toContain(secret)
            }
          }).pipe(Effect.scoped), 30_000)
      }
    })

    if (target.dialect === "sqlite") {
      layer(withStorage(target), { timeout: 60_000 })("one SQLite file shared by several processes", (it) => {
        it.effect("is in WAL mode", () =>
          Effect.gen(function*() {
            const db = yield* TestDatabase
            const rows = yield* db.withSql((sql) => sql<{ readonly journal_mode: string }>`PRAGMA journal_mode`)
            expect(rows).toEqual([{ journal_mode: "wal" }])
          }))

        it.effect("waits for another process's write lock instead of failing with 'database is locked'", () =>
          Effect.gen(function*() {
            const storage = yield* CheckpointStorage
            const db = yield* TestDatabase
            if (db.config.type !== "sqlite" || target.lockHolder === undefined) {
              return yield* Effect.dieMessage("a SQLite target needs a lockHolder")
            }
            const [command, args] = target.lockHolder(db.config.databasePath, 700)
            const otherProcess = ChildProcess.spawn(command, args, { cwd: process.cwd(), stdio: ["ignore", "pipe", "inherit"] })
            const exited = new Promise<number | null>((resolve) => otherProcess.on("exit", resolve))
            yield* Effect.async<void>((resume) => {
              otherProcess.stdout.on("data", (chunk: Buffer) => {
                if (chunk.toString().includes("locked")) resume(Effect.void)
              })
            })
            const id = yield* storage.storeAppCheckpoint(appCheckpoint({ sessionId: "waited" }))
            expect(yield* Effect.promise(() => exited)).toBe(0)
            const sessions = (yield* storage.listAppCheckpoints()).map((item) => item.sessionId).sort()
            expect(sessions).toEqual(["other-process", "waited"])
            expect(Option.isSome(yield* storage.retrieveAppCheckpoint(id))).toBe(true)
          }), { timeout: 30_000 })
      })
    } else {
      layer(withStorage(target), { timeout: 60_000 })("a server that drops its connections", (it) => {
        it.effect("does not need a restart: the next operations reconnect, and any failure is a StorageConnectionError", () =>
          Effect.gen(function*() {
            const storage = yield* CheckpointStorage
            const db = yield* TestDatabase
            const id = yield* storage.storeAgentCheckpoint(agentCheckpoint())
            yield* db.withSql((sql) =>
              sql.onDialectOrElse({
                pg: () =>
                  sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()`.pipe(Effect.asVoid),
                orElse: () =>
                  sql<{ readonly ID: number }>`SELECT ID FROM information_schema.PROCESSLIST
WHERE DB = DATABASE() AND ID <> CONNECTION_ID()`.pipe(
                    Effect.flatMap((rows) => Effect.forEach(rows, (row) => sql.unsafe(`KILL CONNECTION ${Number(row.ID)}`))),
                    Effect.asVoid
                  )
              })
            )
            const attempts = yield* Effect.forEach([1, 2, 3], () => Effect.either(storage.retrieveAgentCheckpoint(id)))
            for (const attempt of attempts) {
              if (attempt._tag === "Left") expect(attempt.left._tag).toBe("StorageConnectionError")
            }
            expect(attempts.at(-1)?._tag).toBe("Right")
            expect(Option.isSome(yield* storage.retrieveAgentCheckpoint(id))).toBe(true)
          }))
      })
    }

    layer(target.freshDatabase, { timeout: 120_000 })("migrations", (it) => {
      it.effect("create the tables, the list indexes and the migration records on an empty database", () =>
        Effect.gen(function*() {
          yield* buildStorage
          expect(yield* appliedMigrations).toEqual([1, 2, 3, 4, 5, 6])
          expect(yield* indexNames("AgentCheckpoints")).toEqual(expect.arrayContaining([
            "AgentCheckpoints_createdAt_id",
            "AgentCheckpoints_sessionId_createdAt_id",
            "AgentCheckpoints_agentId_createdAt_id"
          ]))
          expect(yield* indexNames("AppCheckpoints")).toEqual(expect.arrayContaining([
            "AppCheckpoints_createdAt_id",
            "AppCheckpoints_sessionId_createdAt_id"
          ]))
          expect(yield* indexNames("AgentMetrics")).toEqual(expect.arrayContaining(["AgentMetrics_updatedAt_agentId"]))
        }).pipe(Effect.scoped))

      it.effect("change nothing on an up-to-date database, and its checkpoints stay", () =>
        Effect.gen(function*() {
          const first = yield* buildStorage
          const id = yield* first.storeAgentCheckpoint(agentCheckpoint({ name: "kept" }))
          const second = yield* buildStorage
          expect(yield* appliedMigrations).toEqual([1, 2, 3, 4, 5, 6])
          expect(Option.map(yield* second.retrieveAgentCheckpoint(id), (checkpoint) => checkpoint.name))
            .toEqual(Option.some("kept"))
        }).pipe(Effect.scoped))
    })

    layer(target.freshDatabase, { timeout: 120_000 })("a database written by drizzle-storage", (it) => {
      it.effect("opens as it is: its rows read back, new checkpoints store, and large states now fit", () =>
        Effect.gen(function*() {
          const db = yield* TestDatabase
          const seedState = { messages: ["Hello"], count: 1 }
          yield* db.withSql((sql) =>
            createDrizzleStorageTables(sql).pipe(
              Effect.zipRight(sql`INSERT INTO ${sql("AgentCheckpoints")} ${
                sql.insert({
                  sessionId: "session-456",
                  agentId: "agent-123",
                  name: "session-1",
                  agentType: "coder",
                  state: JSON.stringify(seedState),
                  createdAt: 1_700_000_000_000
                })
              }`),
              Effect.zipRight(sql`INSERT INTO ${sql("AppCheckpoints")} ${
                sql.insert({
                  sessionId: "session-456",
                  hostname: "localhost",
                  projectDirectory: "/home/user/project",
                  state: JSON.stringify({ files: ["index.ts"] }),
                  createdAt: 1_700_000_000_000
                })
              }`)
            )
          )
          const storage = yield* buildStorage
          const agents = yield* storage.listAgentCheckpoints()
          expect(agents).toEqual([{
            id: "1",
            sessionId: "session-456",
            agentId: "agent-123",
            agentType: "coder",
            name: "session-1",
            createdAt: 1_700_000_000_000
          }])
          expect(Option.map(yield* storage.retrieveAgentCheckpoint("1"), (c) => c.state)).toEqual(Option.some(seedState))
          expect(Option.map(yield* storage.retrieveLatestAppCheckpoint(), (c) => c.id)).toEqual(Option.some("1"))
          // Migration 5 renamed its projectDirectory to workspaceDirectory, the value kept.
          expect(Option.map(yield* storage.retrieveLatestAppCheckpoint(), (c) => c.workspaceDirectory))
            .toEqual(Option.some("/home/user/project"))
          const state = largeState(256 * 1024)
          const id = yield* storage.storeAgentCheckpoint(agentCheckpoint({ state }))
          expect(id).toBe("2")
          expect(Option.map(yield* storage.retrieveAgentCheckpoint(id), (c) => c.state)).toEqual(Option.some(state))
          expect(yield* appliedMigrations).toEqual([1, 2, 3, 4, 5, 6])
        }).pipe(Effect.scoped))
    })

    layer(target.freshDatabase, { timeout: 120_000 })("several storages on one database", (it) => {
      it.effect("four storages starting at once on an empty database all succeed and apply the schema once", () =>
        Effect.gen(function*() {
          const db = yield* TestDatabase
          if (target.storageProcess !== undefined && db.config.type === "sqlite") {
            // SQLite drivers wait for locks synchronously: concurrent starters are separate processes, as in real use.
            const { databasePath } = db.config
            const exits = yield* Effect.forEach([0, 1, 2, 3], (index) => {
              const [command, args] = target.storageProcess!(databasePath, `from-${index}`)
              return Effect.async<{ readonly code: number | null; readonly output: string }>((resume) => {
                const child = ChildProcess.spawn(command, args, { cwd: process.cwd(), stdio: ["ignore", "pipe", "pipe"] })
                let output = ""
                child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()))
                child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()))
                child.on("exit", (code) => resume(Effect.succeed({ code, output })))
              })
            }, { concurrency: "unbounded" })
            for (const exit of exits) expect(exit, exit.output).toMatchObject({ code: 0 })
          } else {
            const storages = yield* Effect.all([buildStorage, buildStorage, buildStorage, buildStorage], {
              concurrency: "unbounded"
            })
            yield* Effect.forEach(storages, (storage, index) =>
              storage.storeAgentCheckpoint(agentCheckpoint({ name: `from-${index}` })), { concurrency: "unbounded" })
          }
          expect(yield* appliedMigrations).toEqual([1, 2, 3, 4, 5, 6])
          const storage = yield* buildStorage
          const names = (yield* storage.listAgentCheckpoints()).map((item) => item.name).sort()
          expect(names).toEqual(["from-0", "from-1", "from-2", "from-3"])
        }).pipe(Effect.scoped), { timeout: 60_000 })

      it.effect("one storage reads what another stored", () =>
        Effect.gen(function*() {
          const writer = yield* buildStorage
          const reader = yield* buildStorage
          const checkpoint = appCheckpoint({ sessionId: "shared" })
          const id = yield* writer.storeAppCheckpoint(checkpoint)
          expect(yield* reader.retrieveAppCheckpoint(id)).toEqual(Option.some({ id, ...checkpoint }))
          expect(Option.map(yield* reader.retrieveLatestAppCheckpoint(), (c) => c.id)).toEqual(Option.some(id))
        }).pipe(Effect.scoped))
    })

    layer(target.freshDatabase, { timeout: 120_000 })("a migration that cannot apply", (it) => {
      it.effect("fails with MigrationError, and succeeds on the next start once the cause is removed", () =>
        Effect.gen(function*() {
          const db = yield* TestDatabase
          // Something else already called AgentCheckpoints: a view, which no dialect can index or alter.
          yield* db.withSql((sql) => sql`CREATE VIEW ${sql("AgentCheckpoints")} AS SELECT 1 AS ${sql("id")}`)
          const error = yield* Effect.flip(Effect.scoped(buildStorage))
          expect(error._tag).toBe("MigrationError")
          expect(error).toMatchObject({ reason: "failed", dialect: target.dialect })
          expect((error as { migration?: string }).migration).toMatch(/^[12]_/)
          yield* db.withSql((sql) => sql`DROP VIEW ${sql("AgentCheckpoints")}`)
          const storage = yield* buildStorage
          expect(yield* appliedMigrations).toEqual([1, 2, 3, 4, 5, 6])
          const id = yield* storage.storeAgentCheckpoint(agentCheckpoint())
          expect(Option.isSome(yield* storage.retrieveAgentCheckpoint(id))).toBe(true)
        }).pipe(Effect.scoped))
    })
  })
}
