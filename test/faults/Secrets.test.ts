/**
 * Secrets stay secret: with a password in the connection string, nothing the storage emits — error messages,
 * serialized errors, log lines (at every level), span names and attributes, display names — contains it.
 * And a new SQLite database file is readable by its owner only.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Context, Effect, Exit, HashMap, Layer, Logger, LogLevel, Tracer } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import {
  CheckpointStorage,
  layerFromConfig,
  MySQLStorage,
  PostgresStorage,
  SQLiteStorage,
  type StorageConfig
} from "../../src/index.js"
import { provision } from "../support/provision.js"
import { mysqlServerUrl, postgres } from "../support/targets.js"

const SECRET = "hunter2-s3cr3t-Pa55"

/** Everything observable: log lines, span names and attributes, errors. */
const capture = () => {
  const seen: Array<string> = []
  const logger = Logger.make(({ annotations, cause, message }) => {
    seen.push(String(message), Cause.pretty(cause), JSON.stringify([...HashMap.toEntries(annotations)]))
  })
  // The default tracer, wrapped so that every span's name and attributes are seen as well.
  const recording = (base: Tracer.Tracer) =>
    Tracer.make({
      span: (...args: Parameters<Tracer.Tracer["span"]>) => {
        const span = base.span(...args)
        seen.push(span.name, JSON.stringify([...span.attributes]))
        const attribute = span.attribute.bind(span)
        span.attribute = (key: string, value: unknown) => {
          seen.push(`${key}=${String(value)}`)
          attribute(key, value)
        }
        return span
      },
      context: base.context
    })
  const observe = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    effect.pipe(
      Effect.exit,
      Effect.tap((exit) => {
        if (Exit.isFailure(exit)) {
          const error = Cause.squash(exit.cause)
          seen.push(Cause.pretty(exit.cause), String(error), JSON.stringify(error), error instanceof Error ? error.stack ?? "" : "")
        }
      }),
      (traced) => Effect.tracerWith((base) => Effect.withTracer(traced, recording(base))),
      Logger.withMinimumLogLevel(LogLevel.All),
      Effect.provide(Logger.replace(Logger.defaultLogger, logger))
    )
  return { seen, observe }
}

const withPassword = (url: string, database?: string) => {
  const parsed = new URL(url)
  parsed.password = SECRET
  if (database !== undefined) parsed.pathname = `/${database}`
  return parsed.toString()
}

describe("secrets", () => {
  it.live("a PostgreSQL password appears in no log line, span, error or display name", () =>
    Effect.gen(function*() {
      // The test server trusts local connections, so any password is accepted: the storage really runs with it.
      const database = yield* Effect.acquireRelease(Effect.promise(() => provision(postgres)), (db) => Effect.promise(db.release))
      const config = database.db.config
      if (config.type !== "postgres") return yield* Effect.dieMessage("expected PostgreSQL")
      const connectionString = withPassword(String(config.connectionString))
      const { observe, seen } = capture()
      yield* observe(Effect.gen(function*() {
        const storage = Context.get(yield* Layer.build(layerFromConfig({ type: "postgres", connectionString })), CheckpointStorage)
        const id = yield* storage.storeAgentCheckpoint({
          agentId: "a",
          sessionId: "s",
          agentType: "t",
          name: "n",
          state: { ok: true },
          createdAt: 1
        })
        yield* storage.retrieveAgentCheckpoint(id)
        yield* storage.listAgentCheckpoints({ limit: 5, includeTotal: true })
        yield* Effect.exit(storage.storeAgentCheckpoint({ agentId: "" } as never))
        yield* Effect.exit(storage.listAgentCheckpoints({ cursor: "garbage" }))
        yield* storage.statistics()
      }).pipe(Effect.scoped))
      // Failures that carry the connection: an unreachable port and a database that does not exist.
      for (const unreachable of [withPassword("postgres://postgres@127.0.0.1:1/postgres"), withPassword(String(config.connectionString), "ecs_missing_db")]) {
        yield* observe(Effect.scoped(Layer.build(layerFromConfig({ type: "postgres", connectionString: unreachable }))))
      }
      const facade = new PostgresStorage({ type: "postgres", connectionString })
      seen.push(facade.displayName, JSON.stringify(facade), String(Object.values(facade)))
      yield* Effect.promise(() => facade.stop())
      expect(seen.length).toBeGreaterThan(20)
      expect(seen.filter((text) => text.includes(SECRET))).toEqual([])
      expect(seen.some((text) => text.includes("CheckpointStorage.storeAgentCheckpoint"))).toBe(true)
      // The connection is named in the failures, with the password masked.
      expect(seen.some((text) => text.includes("postgres://postgres:***@127.0.0.1:1/postgres"))).toBe(true)
    }).pipe(Effect.scoped), 60_000)

  it.live("a MySQL password appears in no log line, span, error or display name", () =>
    Effect.gen(function*() {
      const { observe, seen } = capture()
      const configs: ReadonlyArray<StorageConfig> = [
        { type: "mysql", connectionString: withPassword(mysqlServerUrl.replace("root", "ecs_nobody"), "test") },
        { type: "mysql", connectionString: withPassword("mysql://root@127.0.0.1:1/test") }
      ]
      for (const config of configs) {
        yield* observe(Effect.scoped(Layer.build(layerFromConfig(config))))
      }
      const facade = new MySQLStorage({ type: "mysql", connectionString: withPassword(mysqlServerUrl, "test") })
      seen.push(facade.displayName, JSON.stringify(facade))
      expect(seen.some((text) => text.includes("StorageConnectionError"))).toBe(true)
      expect(seen.filter((text) => text.includes(SECRET))).toEqual([])
    }), 60_000)

  it.live("a new SQLite database file, its WAL and its shared-memory file are readable by their owner only", () =>
    Effect.gen(function*() {
      const directory = yield* Effect.acquireRelease(
        Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "ecs-secret-"))),
        (directory) => Effect.sync(() => Fs.rmSync(directory, { recursive: true, force: true }))
      )
      const databasePath = Path.join(directory, "agent_state.db")
      const storage = new SQLiteStorage({ type: "sqlite", databasePath })
      yield* Effect.promise(() => storage.storeAgentCheckpoint({
        agentId: "a",
        sessionId: "s",
        agentType: "t",
        name: "n",
        state: { token: "sk-live-…" },
        createdAt: 1
      }))
      const modes = ["", "-wal", "-shm"].map((suffix) => {
        const path = `${databasePath}${suffix}`
        return [suffix, Fs.existsSync(path) ? (Fs.statSync(path).mode & 0o777).toString(8) : "missing"]
      })
      expect(modes).toEqual([["", "600"], ["-wal", "600"], ["-shm", "600"]])
      yield* Effect.promise(() => storage.stop())
      // An existing file keeps the mode its owner gave it.
      const shared = Path.join(directory, "shared.db")
      Fs.writeFileSync(shared, "")
      Fs.chmodSync(shared, 0o640)
      const second = new SQLiteStorage({ type: "sqlite", databasePath: shared })
      yield* Effect.promise(() => second.start())
      expect((Fs.statSync(shared).mode & 0o777).toString(8)).toBe("640")
      yield* Effect.promise(() => second.stop())
    }).pipe(Effect.scoped))
})
