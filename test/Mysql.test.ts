import { expect, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
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
