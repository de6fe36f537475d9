import { expect, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { CheckpointStorage, layerPostgres } from "../src/index.js"
import { checkpointQuerySuite } from "./CheckpointQuerySuite.js"
import { checkpointStorageSuite } from "./CheckpointStorageSuite.js"
import { postgres } from "./support/targets.js"
import { TestDatabase } from "./support/TestDatabase.js"

checkpointStorageSuite(postgres)
checkpointQuerySuite(postgres)

layer(postgres.freshDatabase, { timeout: 60_000 })("PostgreSQL client options", (it) => {
  it.effect("pass through to @effect/sql-pg: the pool's size and application name are the ones given", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      if (db.config.type !== "postgres") return yield* Effect.dieMessage("expected a PostgreSQL database")
      const context = yield* Layer.build(
        layerPostgres({ ...db.config, applicationName: "ecs-options-test", maxConnections: 2 })
      )
      const storage = Context.get(context, CheckpointStorage)
      yield* Effect.forEach(Array.from({ length: 20 }, (_, i) => i), () => storage.listAgentCheckpoints(), {
        concurrency: "unbounded"
      })
      const rows = yield* db.withSql((sql) =>
        sql<{ readonly n: string }>`SELECT COUNT(*) AS n FROM pg_stat_activity
WHERE datname = current_database() AND application_name = 'ecs-options-test'`
      )
      const connections = Number(rows[0]!.n)
      expect(connections).toBeGreaterThanOrEqual(1)
      expect(connections).toBeLessThanOrEqual(2)
    }).pipe(Effect.scoped))
})
