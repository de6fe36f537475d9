/**
 * Network faults between the storage and a real server, through a TCP proxy of the test's own: every connection
 * cut, every connection stalled, new connections refused; then healed. Eight writers keep storing and reading back
 * meanwhile. Each fault must fail the operations it hits with StorageConnectionError within the bound (no hang, no
 * unhandled rejection), lose no acknowledged checkpoint, and leave the same storage instance working once healed.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Context, Duration, Effect, Fiber, Layer, Stream } from "effect"
import { CheckpointStorage, layerMysql, layerPostgres } from "../../src/index.js"
import { mysql, postgres } from "../support/targets.js"
import { TestDatabase, type TestDatabaseService, type TestTarget } from "../support/TestDatabase.js"
import { type NetworkProxy, scopedProxy } from "./support/NetworkProxy.js"
import {
  audit,
  figures,
  logFigures,
  readAgentRows,
  startWriters,
  waitForFailureAfter,
  waitForSuccessAfter,
  watchUnhandled
} from "./support/NetworkWriters.js"

/** The storage's operationTimeout in these tests (the default is 30 s). */
const OPERATION_TIMEOUT_MS = 2_000
/** How long a new connection may take. */
const CONNECT_TIMEOUT_MS = 2_000
/**
 * No operation may take longer than this: the operation timeout, plus slack for timers on a loaded 2-core machine.
 * (The caller gets the error at the operation timeout: the interrupted statement is cleaned up in the background.)
 */
const BOUND_MS = OPERATION_TIMEOUT_MS + 2_500
/** How long a stall lasts: over twice the operation timeout, so operations start and time out during it. */
const STALL_MS = 2 * OPERATION_TIMEOUT_MS + 1_000
/**
 * After a stall heals, every operation that starts this much later must succeed: a connection stalled just before
 * the heal is closed once silent for the operation timeout, and an operation that was queued on it ends then.
 */
const SETTLED_AFTER_STALL_MS = 2 * OPERATION_TIMEOUT_MS + 1_000

interface NetworkFixtureService {
  readonly target: TestTarget
  readonly proxy: NetworkProxy
  readonly storage: typeof CheckpointStorage.Service
  readonly db: TestDatabaseService
  readonly parentId: string
}

class NetworkFixture extends Context.Tag("test/NetworkFixture")<NetworkFixture, NetworkFixtureService>() {}

const defaultPort = { pg: 5432, mysql: 3306, sqlite: 0 } as const

// One storage for the whole group, its connections through the proxy to a fresh database of the shared server.
const networkFixture = (target: TestTarget) =>
  Layer.scoped(
    NetworkFixture,
    Effect.gen(function*() {
      const db = yield* TestDatabase
      const url = new URL((db.config as { readonly connectionString: string }).connectionString)
      const proxy = yield* scopedProxy(url.port === "" ? defaultPort[target.dialect] : Number(url.port))
      url.hostname = "127.0.0.1"
      url.port = String(proxy.port)
      const options = {
        connectionString: url.toString(),
        operationTimeout: Duration.millis(OPERATION_TIMEOUT_MS),
        connectTimeout: Duration.millis(CONNECT_TIMEOUT_MS),
        maxConnections: 4
      }
      const context = yield* Layer.build(target.dialect === "pg" ? layerPostgres(options) : layerMysql(options))
      const storage = Context.get(context, CheckpointStorage)
      const parentId = yield* storage.storeAgentCheckpoint({
        agentId: "root",
        sessionId: "fault-session",
        agentType: "fault-test",
        name: "parent of the odd writers' checkpoints",
        state: { root: true },
        createdAt: Date.now()
      })
      return { target, proxy, storage, db, parentId }
    })
  ).pipe(Layer.provideMerge(target.freshDatabase))

const now = () => performance.now()

// Runs one operation, reporting how it ended and how long it took.
const probe = <A, E extends { readonly _tag: string }>(name: string, operation: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const start = now()
    const result = yield* Effect.either(operation)
    return { name, outcome: result._tag === "Right" ? "ok" : result.left._tag, millis: now() - start }
  })

/**
 * Runs the writers, injects the fault, heals it after `lastsMs`, lets them run until the storage has settled, then checks
 * every operation and the rows on disk.
 */
const exercise = (fault: {
  readonly name: string
  readonly inject: (proxy: NetworkProxy) => Promise<void> | void
  /** Whether every operation that starts during the fault must fail (false for a cut, which is over at once). */
  readonly failsWhileOn: boolean
  /** A code the failures must include (the operation timeout's for a stall). */
  readonly expectCode?: string
  /** How long the fault lasts before it is healed. */
  readonly lastsMs: number
  /** From how long after healing every operation must succeed. */
  readonly settledAfterMs: number
  /** Also list, count and stream while the fault is on: each must fail with StorageConnectionError in its bound. */
  readonly probeOtherOperations?: boolean
}) =>
  Effect.gen(function*() {
    const { db, parentId, proxy, storage, target } = yield* NetworkFixture
    const unhandled = yield* watchUnhandled
    const writers = yield* startWriters(storage, { count: 8, parentId, maxMillis: 45_000 })
    yield* Effect.sleep(Duration.millis(500))

    const faultAt = now()
    yield* Effect.promise(async () => fault.inject(proxy))
    const probing = yield* Effect.fork(
      fault.probeOtherOperations === true
        ? Effect.all([
          probe("listAgentCheckpoints", storage.listAgentCheckpoints({ limit: 10 })),
          probe("statistics", storage.statistics()),
          probe("streamAgentCheckpoints", Stream.runCollect(storage.streamAgentCheckpoints({ pageSize: 50 })))
        ], { concurrency: "unbounded" })
        : Effect.succeed<ReadonlyArray<Effect.Effect.Success<ReturnType<typeof probe>>>>([])
    )
    const detectedAt = yield* waitForFailureAfter(writers, faultAt, BOUND_MS)
    const probes = yield* Fiber.join(probing)
    yield* Effect.sleep(Duration.millis(Math.max(0, fault.lastsMs - (now() - faultAt))))
    const healedAt = now()
    yield* Effect.promise(() => proxy.heal())
    const recoveredAt = yield* waitForSuccessAfter(writers, healedAt, 20_000)
    yield* Effect.sleep(Duration.millis(Math.max(0, healedAt + fault.settledAfterMs + 1_500 - now())))
    yield* writers.stop

    const rows = yield* db.withSql(readAgentRows)
    const result = audit(rows, writers.acknowledged)
    const measured = figures({
      target: target.name,
      fault: fault.name,
      writers,
      faultAt,
      healedAt,
      recoveredAt,
      detectedAt,
      lost: result.lost.length
    })
    yield* logFigures(measured)
    if (probes.length > 0) yield* Effect.sync(() => console.log(`RELIABILITY-PROBES ${target.name} ${JSON.stringify(probes)}`))

    // The fault was felt, and only as StorageConnectionError, each within the bound.
    const failures = writers.records.filter((record) => record.outcome !== "ok")
    expect(detectedAt).toBeDefined()
    expect(failures.map((record) => record.outcome)).toEqual(failures.map(() => "StorageConnectionError"))
    if (fault.expectCode !== undefined) expect(failures.map((record) => record.code)).toContain(fault.expectCode)
    const longest = Math.max(...writers.records.map((record) => record.end - record.start))
    expect(longest).toBeLessThan(BOUND_MS)
    for (const { millis, name, outcome } of probes) {
      expect({ name, outcome }).toEqual({ name, outcome: "StorageConnectionError" })
      // A stream's page is not disconnected from its interruption: @effect/sql-pg's cancel may add up to 5 s.
      expect(millis).toBeLessThan(name === "streamAgentCheckpoints" ? BOUND_MS + 5_000 : BOUND_MS)
    }
    if (fault.failsWhileOn) {
      const startedDuringFault = writers.records.filter((record) => record.start > faultAt + 5 && record.end < healedAt)
      expect(startedDuringFault.length).toBeGreaterThan(0)
      expect(startedDuringFault.filter((record) => record.outcome === "ok")).toEqual([])
    }
    // Healed, the same storage works again by itself: every operation that started once it settled succeeded.
    expect(recoveredAt).toBeDefined()
    const settled = writers.records.filter((record) => record.start > healedAt + fault.settledAfterMs)
    expect(settled.length).toBeGreaterThan(0)
    expect(settled.filter((record) => record.outcome !== "ok")).toEqual([])
    // Nothing acknowledged was lost or changed, nothing half-written, every read returned what was stored.
    expect(writers.acknowledged.size).toBeGreaterThan(0)
    expect(result).toMatchObject({ lost: [], changed: [], halfWritten: [] })
    expect(writers.corruptReads).toEqual([])
    expect(unhandled.seen).toEqual([])
  }).pipe(Effect.scoped)

for (const target of [postgres, mysql]) {
  describe(`${target.name} behind a TCP proxy`, () => {
    layer(target.freshDatabase, { timeout: 60_000 })("the operationTimeout option", (it) => {
      it.effect("refuses a bound that is not a duration, or not longer than zero, naming the option", () =>
        Effect.gen(function*() {
          const db = yield* TestDatabase
          // "soon" is what a plain JavaScript caller could pass.
          for (const operationTimeout of ["soon" as unknown as Duration.DurationInput, 0, -5, Number.NaN]) {
            const error = yield* Effect.flip(Layer.build(db.storage({ operationTimeout })))
            expect(error).toMatchObject({
              _tag: "CheckpointValidationError",
              issues: [expect.objectContaining({ path: "operationTimeout" })]
            })
          }
        }).pipe(Effect.scoped))
    })

    // Live clock: the operation timeout and the waits of these tests are real time.
    layer(networkFixture(target), { timeout: 120_000, excludeTestServices: true })("network faults", (it) => {
      it.effect("every connection cut: the operations in flight fail with StorageConnectionError, the next ones reconnect", () =>
        exercise({
          name: "connections cut",
          inject: (proxy) => proxy.cut(),
          failsWhileOn: false,
          lastsMs: 500,
          settledAfterMs: 500
        }), { timeout: 60_000 })

      it.effect(
        "every connection stalled: operations fail with a TIMEOUT StorageConnectionError at the operation timeout, and the stalled connections are dropped",
        () =>
          exercise({
            name: "network stalled",
            inject: (proxy) => proxy.stall(),
            failsWhileOn: true,
            expectCode: "TIMEOUT",
            probeOtherOperations: true,
            lastsMs: STALL_MS,
            settledAfterMs: SETTLED_AFTER_STALL_MS
          }),
        { timeout: 60_000 }
      )

      it.effect("new connections refused: operations fail fast with StorageConnectionError until the server is reachable again", () =>
        exercise({
          name: "connections refused",
          inject: (proxy) => proxy.refuse(),
          failsWhileOn: true,
          lastsMs: 2_000,
          settledAfterMs: 1_000
        }), { timeout: 60_000 })
    })
  })
}
