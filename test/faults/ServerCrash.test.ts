/**
 * Server restart and server crash, on private PostgreSQL and MariaDB servers started by the test: eight writers keep
 * storing (half of them in transactions) and reading back while the server is restarted cleanly, then killed with
 * SIGKILL and started again. Afterwards every checkpoint whose store returned an id is on disk byte for byte, no
 * row is half-written, and the same storage instance works again without being rebuilt.
 */
import { MysqlClient } from "@effect/sql-mysql2"
import { PgClient } from "@effect/sql-pg"
import * as SqlClient from "@effect/sql/SqlClient"
import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Layer, Redacted } from "effect"
import { CheckpointStorage, layerMysql, layerPostgres } from "../../src/index.js"
import {
  audit,
  figures,
  logFigures,
  readAgentRows,
  startWriters,
  waitForFailureAfter,
  waitForSuccessAfter,
  watchUnhandled,
  type Writers
} from "./support/NetworkWriters.js"
import { makeMariadbServer, makePostgresServer, type PrivateServer, scopedServer } from "./support/ServerInstances.js"

/** The storage's operationTimeout in these tests (the default is 30 s). */
const OPERATION_TIMEOUT_MS = 3_000
const CONNECT_TIMEOUT_MS = 2_000
/** No operation may take longer: the operation timeout plus slack for a loaded 2-core machine. */
const BOUND_MS = OPERATION_TIMEOUT_MS + 2_500
/** How long the server stays dead after the kill before it is started again. */
const DOWN_MS = 1_000
/** Once the server accepts connections again, every operation that starts this much later must succeed. */
const SETTLED_AFTER_READY_MS = OPERATION_TIMEOUT_MS + 1_000

const now = () => performance.now()

// A raw client of our own, to read the rows behind the storage's back once the server is up again.
const rawClient = (server: PrivateServer): Layer.Layer<SqlClient.SqlClient, unknown> => {
  if (server.dialect === "pg") return PgClient.layer({ url: Redacted.make(server.connectionString) })
  const url = new URL(server.connectionString)
  return MysqlClient.layer({ host: "127.0.0.1", port: Number(url.port), username: "root", database: "ecs", maxConnections: 1 })
}

/** One fault while the writers run: inject, bring the server back, wait for the first success, then settle. */
const survive = (
  writers: Writers,
  fault: { readonly name: string; readonly inject: () => Promise<void> }
) =>
  Effect.gen(function*() {
    const faultAt = now()
    yield* Effect.promise(fault.inject)
    const readyAt = now()
    const recoveredAt = yield* waitForSuccessAfter(writers, readyAt, 30_000)
    yield* Effect.sleep(Duration.millis(Math.max(0, readyAt + SETTLED_AFTER_READY_MS + 1_000 - now())))
    const detectedAt = yield* waitForFailureAfter(writers, faultAt, 0)
    // The pool recovered by itself: every operation that started once the server had settled succeeded.
    const settled = writers.records.filter((record) => record.start > readyAt + SETTLED_AFTER_READY_MS)
    return { name: fault.name, faultAt, readyAt, recoveredAt, detectedAt, settled }
  })

const crashSuite = (make: () => Promise<PrivateServer>, label: string) =>
  it.live(`${label}: a clean restart and a kill -9 under 8 writers lose no acknowledged checkpoint and leave none half-written; the pool recovers by itself`, () =>
    Effect.gen(function*() {
      const server = yield* scopedServer(make)
      const unhandled = yield* watchUnhandled
      const options = {
        connectionString: server.connectionString,
        operationTimeout: Duration.millis(OPERATION_TIMEOUT_MS),
        connectTimeout: Duration.millis(CONNECT_TIMEOUT_MS),
        maxConnections: 8
      }
      const context = yield* Layer.build(server.dialect === "pg" ? layerPostgres(options) : layerMysql(options))
      const storage = Context.get(context, CheckpointStorage)
      const parentId = yield* storage.storeAgentCheckpoint({
        agentId: "root",
        sessionId: "fault-session",
        agentType: "fault-test",
        name: "parent of the odd writers' checkpoints",
        state: { root: true },
        createdAt: Date.now()
      })

      const writers = yield* startWriters(storage, { count: 8, parentId, maxMillis: 90_000 })
      yield* Effect.sleep(Duration.millis(1_000))
      const restart = yield* survive(writers, {
        name: "server restart",
        inject: async () => {
          await server.stop()
          await server.start()
        }
      })
      const crash = yield* survive(writers, {
        name: "server crash (kill -9)",
        inject: async () => {
          await server.crash()
          await new Promise((resolve) => setTimeout(resolve, DOWN_MS))
          await server.start()
        }
      })
      yield* writers.stop

      const rows = yield* Effect.scoped(Effect.flatMap(Layer.build(rawClient(server)), (raw) =>
        readAgentRows(Context.get(raw, SqlClient.SqlClient))))
      const result = audit(rows, writers.acknowledged)
      for (const phase of [restart, crash]) {
        yield* logFigures(figures({
          target: server.name,
          fault: phase.name,
          writers,
          faultAt: phase.faultAt,
          healedAt: phase.readyAt,
          recoveredAt: phase.recoveredAt,
          detectedAt: phase.detectedAt,
          lost: result.lost.length
        }))
      }

      // Each fault was felt, only as StorageConnectionError, and no operation hung.
      const failures = writers.records.filter((record) => record.outcome !== "ok")
      expect(failures.map((record) => record.outcome)).toEqual(failures.map(() => "StorageConnectionError"))
      expect(Math.max(...writers.records.map((record) => record.end - record.start))).toBeLessThan(BOUND_MS)
      for (const phase of [restart, crash]) {
        expect(phase.detectedAt, `${phase.name}: a failure`).toBeDefined()
        expect(phase.recoveredAt, `${phase.name}: a success afterwards`).toBeDefined()
        expect(phase.settled.length).toBeGreaterThan(0)
        expect(phase.settled.filter((record) => record.outcome !== "ok")).toEqual([])
      }
      // Every acknowledged checkpoint is there, byte for byte; no row is half-written; every read was exact.
      expect(writers.acknowledged.size).toBeGreaterThan(50)
      expect(result).toMatchObject({ lost: [], changed: [], halfWritten: [] })
      expect(writers.corruptReads).toEqual([])
      expect(unhandled.seen).toEqual([])
    }).pipe(Effect.scoped), { timeout: 180_000 })

describe("a private server restarted and killed", () => {
  crashSuite(makePostgresServer, "PostgreSQL")
  crashSuite(makeMariadbServer, "MariaDB")
})
