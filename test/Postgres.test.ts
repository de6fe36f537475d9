import { expect, layer } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import { Chunk, Context, Effect, Layer, Redacted, Stream } from "effect"
import * as Net from "node:net"
import Pg from "pg"
import { CheckpointStorage, layerPostgres } from "../src/index.js"
import { classifyDriverError } from "../src/internal/driverError.js"
import { pgClientLayer } from "../src/clients/PgClientLayer.js"
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

  // node-postgres opens its connections on the socket a `stream` factory returns; the layer wraps the caller's own to
  // watch it (internal/connectionWatchdog.ts).
  it.effect("open through the caller's own stream factory", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      if (db.config.type !== "postgres") return yield* Effect.dieMessage("expected a PostgreSQL database")
      let opened = 0
      const stream = () => {
        opened++
        return new Net.Socket()
      }
      const context = yield* Layer.build(layerPostgres({ ...db.config, stream }))
      expect(yield* Context.get(context, CheckpointStorage).listAgentCheckpoints()).toEqual([])
      expect(opened).toBeGreaterThanOrEqual(1)
    }).pipe(Effect.scoped))
})

layer(postgres.freshDatabase, { timeout: 60_000 })("The client of layerPostgres", (it) => {
  // The client layerPostgres builds: the official PgClient over a pool of the layer's own.
  const buildClient = Effect.gen(function*() {
    const db = yield* TestDatabase
    if (db.config.type !== "postgres") return yield* Effect.dieMessage("expected a PostgreSQL database")
    const url = Redacted.make(String(db.config.connectionString))
    const context = yield* Layer.build(pgClientLayer({ Client: Pg.Client, Pool: Pg.Pool, PgClient }, { url, maxConnections: 2 }))
    expect(Context.get(context, PgClient.PgClient)).toBe(Context.get(context, SqlClient.SqlClient))
    return Context.get(context, PgClient.PgClient)
  })

  // On one connection (a transaction holds one): what PostgreSQL has prepared in that session.
  const preparedInSession = (sql: SqlClient.SqlClient) =>
    Effect.map(
      sql<{ readonly statement: string }>`SELECT "statement" FROM "pg_prepared_statements" ORDER BY "prepare_time"`,
      (rows) => rows.map((row) => row.statement)
    )

  it.effect("is the official PgClient; a statement with parameters is prepared once per connection, one without is not", () =>
    Effect.gen(function*() {
      const sql = yield* buildClient
      const prepared = yield* sql.withTransaction(Effect.gen(function*() {
        for (const n of [1, 2, 3]) expect(yield* sql`SELECT ${n}::int AS "n"`).toEqual([{ n }])
        expect(yield* sql`SELECT ${4}::int AS "n"`.values).toEqual([[4]])
        yield* sql`SELECT 1 AS "constant"`
        return yield* preparedInSession(sql)
      }))
      // One name for the text, whether read as objects or as arrays; the query of pg_prepared_statements itself has no
      // parameters, so it is not named either.
      expect(prepared).toEqual([`SELECT $1::int AS "n"`])
    }).pipe(Effect.scoped))

  it.effect("still runs several statements in one text, streams, and fails a statement with its SQLSTATE", () =>
    Effect.gen(function*() {
      const sql = yield* buildClient
      yield* sql.unsafe(`CREATE TABLE "notes" ("id" serial PRIMARY KEY, "text" text NOT NULL); INSERT INTO "notes" ("text") VALUES ('one'), ('two')`)
      const streamed = yield* Stream.runCollect(sql`SELECT "text" FROM "notes" WHERE "id" >= ${1} ORDER BY "id"`.stream)
      expect(Chunk.toReadonlyArray(streamed)).toEqual([{ text: "one" }, { text: "two" }])
      const failure = yield* Effect.flip(sql`SELECT ${"not a number"}::int AS "n"`)
      expect(failure).toBeInstanceOf(SqlError)
      expect(classifyDriverError("pg", failure.cause).code).toBe("22P02")
      // The name of a statement that failed to prepare is not taken: the text runs once it is valid.
      const missing = yield* Effect.flip(sql`SELECT "text" FROM "later" WHERE "id" = ${1}`)
      expect(classifyDriverError("pg", missing.cause).code).toBe("42P01")
      yield* sql`CREATE TABLE "later" ("id" int, "text" text)`
      expect(yield* sql`SELECT "text" FROM "later" WHERE "id" = ${1}`).toEqual([])
    }).pipe(Effect.scoped))
})
