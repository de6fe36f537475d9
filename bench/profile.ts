/**
 * A profiling harness: one operation in a loop through the Effect API, for `node --cpu-prof`.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof node_modules/vite-node/vite-node.mjs bench/profile.ts -- <db> <op> <size> [n] [callers]
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as SqlClient from "@effect/sql/SqlClient"
import { CheckpointStorage } from "../src/index.js"
import { cleanupAll, createDatabase, type Db } from "./databases.js"
import { storageLayer } from "./subjects.js"
import { checkpoints, type SizeName, takenNow } from "./workload.js"

const rawClient = async (database: { db: Db; connectionString: string }) => {
  const Redacted = await import("effect/Redacted")
  if (database.db === "pg") return (await import("@effect/sql-pg")).PgClient.layer({ url: Redacted.make(database.connectionString) })
  if (database.db === "mysql") return (await import("@effect/sql-mysql2")).MysqlClient.layer({ url: Redacted.make(database.connectionString) })
  // Under Bun, bun:sqlite: Bun cannot load better-sqlite3.
  const { SqliteClient } = typeof process.versions.bun === "string"
    ? await import("@effect/sql-sqlite-bun")
    : await import("@effect/sql-sqlite-node")
  return SqliteClient.layer({ filename: database.connectionString })
}

const [db = "sqlite", op = "store", size = "1KiB", count = "20000", callers = "1"] = process.argv.slice(2).filter((arg) =>
  arg !== "--"
)
const database = await createDatabase(db as Db)
try {
  const scope = Effect.runSync(Scope.make())
  const context = await Effect.runPromise(Layer.buildWithScope(storageLayer(database.db, database.connectionString), scope))
  const storage = Context.get(context, CheckpointStorage)
  // The floor of @effect/sql itself: the same SELECT through a SqlClient of the same driver, nothing of ours.
  const client = await Effect.runPromise(Layer.buildWithScope(
    Layer.effect(SqlClient.SqlClient, SqlClient.SqlClient).pipe(Layer.provide(await rawClient(database))),
    scope
  ))
  const sql = Context.get(client, SqlClient.SqlClient)
  const columns = ["id", "sessionId", "agentId", "agentType", "name", "createdAt", "parentId", "state"]
  const inputs = checkpoints(size as SizeName, 64)
  const ids = await Effect.runPromise(Effect.forEach(inputs, (input) => storage.storeAgentCheckpoint(input)))
  const n = Number(count)
  const start = performance.now()
  // As the benchmark's Effect side runs its callers (bench/subjects.ts): `callers` fibers looping, no fiber per call.
  let next = 0
  const call = (i: number): Effect.Effect<unknown, unknown> =>
    op === "sql"
      ? sql`SELECT ${sql.csv(columns.map((column) => sql`${sql(column)}`))} FROM ${sql("AgentCheckpoints")} WHERE ${sql("id")} = ${
        Number(ids[i % ids.length])
      }`
      : op === "store"
      ? storage.storeAgentCheckpoint(takenNow(inputs[i % inputs.length]!))
      : op === "retrieve"
      ? storage.retrieveAgentCheckpoint(ids[i % ids.length]!)
      : storage.retrieveLatestAgentCheckpoint({ sessionId: inputs[0]!.sessionId })
  const caller = Effect.whileLoop({ while: () => next < n, body: () => Effect.suspend(() => call(next++)), step: () => {} })
  await Effect.runPromise(
    Effect.all(Array.from({ length: Number(callers) }, () => caller), { concurrency: "unbounded", discard: true })
  )
  const seconds = (performance.now() - start) / 1000
  console.log(`${db} ${op} ${size} ×${callers}: ${(n / seconds).toFixed(0)} ops/s, ${(1e6 * seconds / n).toFixed(1)} µs/op`)
  await Effect.runPromise(Scope.close(scope, Exit.void))
} finally {
  await cleanupAll()
}
