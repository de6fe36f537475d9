import { expect, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import * as Net from "node:net"
import { CheckpointStorage, layerMysql } from "../src/index.js"
import { checkpointQuerySuite } from "./CheckpointQuerySuite.js"
import { checkpointStorageSuite } from "./CheckpointStorageSuite.js"
import { mysql } from "./support/targets.js"
import { TestDatabase } from "./support/TestDatabase.js"

checkpointStorageSuite(mysql)
checkpointQuerySuite(mysql)

layer(mysql.freshDatabase, { timeout: 60_000 })("MySQL client options", (it) => {
  it.effect("pass through to @effect/sql-mysql2: the pool never opens more than maxConnections", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      if (db.config.type !== "mysql") return yield* Effect.dieMessage("expected a MySQL database")
      const context = yield* Layer.build(layerMysql({ ...db.config, maxConnections: 1 }))
      const storage = Context.get(context, CheckpointStorage)
      yield* Effect.forEach(Array.from({ length: 20 }, (_, i) => i), () => storage.listAgentCheckpoints(), {
        concurrency: "unbounded"
      })
      const rows = yield* db.withSql((sql) =>
        sql<{ readonly n: number }>`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST
WHERE DB = DATABASE() AND ID <> CONNECTION_ID()`
      )
      expect(Number(rows[0]!.n)).toBe(1)
    }).pipe(Effect.scoped))
})

layer(mysql.freshDatabase, { timeout: 60_000 })("MySQL connections", (it) => {
  // mysql2 opens its connections on the socket a `stream` factory returns; the layer wraps the caller's own to watch it.
  it.effect("open through the caller's own poolConfig.stream factory", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      if (db.config.type !== "mysql") return yield* Effect.dieMessage("expected a MySQL database")
      let opened = 0
      const stream = ({ config }: { readonly config: { readonly host?: string; readonly port?: number } }) => {
        opened++
        return Net.connect(config.port ?? 3306, config.host ?? "localhost")
      }
      const context = yield* Layer.build(layerMysql({ ...db.config, poolConfig: { stream } }))
      const storage = Context.get(context, CheckpointStorage)
      expect(yield* storage.listAgentCheckpoints()).toEqual([])
      expect(opened).toBeGreaterThanOrEqual(1)
    }).pipe(Effect.scoped))

  it.effect("a connect timeout that passes fails with StorageConnectionError, without the password", () =>
    Effect.gen(function*() {
      // A listener that accepts and never answers: mysql2 waits for the server's greeting until connectTimeout.
      const silent = Net.createServer(() => {})
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => void silent.listen(0, "127.0.0.1", () => resume(Effect.void))),
        () => Effect.sync(() => silent.close())
      )
      const { port } = silent.address() as Net.AddressInfo
      const error = yield* Effect.flip(Layer.build(layerMysql({
        connectionString: `mysql://root:hunter2secret@127.0.0.1:${port}/test`,
        connectTimeout: 300
      })))
      expect(error).toMatchObject({ _tag: "StorageConnectionError", dialect: "mysql", operation: "connect" })
      expect(error.message).not.toContain("hunter2secret")
      expect(JSON.stringify(error)).not.toContain("hunter2secret")
    }).pipe(Effect.scoped))
})
