/**
 * The LangGraph saver as its users meet it: built from a URL or from a layer of ours, failing with our typed errors
 * (never with a secret in them), creating only LangGraph's tables, and reconnecting after end().
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import { emptyCheckpoint, uuid6 } from "@langchain/langgraph-checkpoint"
import { Effect, Layer } from "effect"
import { isBun, layerLangGraphSql, layerMysql, layerPostgres, layerSqliteBun, layerSqliteNode } from "../../src/index.js"
import { SqlCheckpointSaver } from "../../src/langgraph/SqlCheckpointSaver.js"
import { runtimeTargets, provision } from "../support/provision.js"
import type { TestDatabaseService } from "../support/TestDatabase.js"
import { connectionStringOf } from "../support/tokenRingApp.js"

const meta = { source: "input" as const, step: -1, parents: {} }

/** A checkpoint put and read back through a saver: what a graph's first step does. */
const roundTrip = async (saver: SqlCheckpointSaver, threadId: string) => {
  const checkpoint = { ...emptyCheckpoint(), id: uuid6(-1), channel_values: { messages: ["hello"] }, channel_versions: { messages: 1 } }
  const config = await saver.put({ configurable: { thread_id: threadId } }, checkpoint, meta, { messages: 1 })
  return (await saver.getTuple(config))?.checkpoint.channel_values
}

/** The tables of the test database, read behind the saver's back. */
const tablesOf = (db: TestDatabaseService) =>
  Effect.runPromise(db.withSql((sql) =>
    Effect.map(
      sql.onDialectOrElse({
        pg: () => sql<{ readonly name: string }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()`,
        mysql: () => sql<{ readonly name: string }>`SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()`,
        orElse: () => sql<{ readonly name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`
      }),
      (rows) => rows.map((row) => row.name).sort()
    )
  ))

for (const target of runtimeTargets) {
  describe(`SqlCheckpointSaver on ${target.name}`, () => {
    let db: TestDatabaseService
    let release: () => Promise<void>
    beforeAll(async () => {
      ;({ db, release } = await provision(target))
    })
    afterAll(() => release())

    it("from a connection string creates LangGraph's tables only, and works again after end()", async () => {
      const saver = SqlCheckpointSaver.fromConnString(connectionStringOf(db.config))
      await saver.setup()
      expect(await tablesOf(db)).toEqual([
        "effect_checkpoint_storage_langgraph_migrations",
        "langgraph_channel_values",
        "langgraph_checkpoints",
        "langgraph_writes"
      ])
      expect(await roundTrip(saver, "url")).toEqual({ messages: ["hello"] })
      await saver.end()
      // A new pool after end(): the thread is still there.
      expect((await saver.getTuple({ configurable: { thread_id: "url" } }))?.checkpoint.channel_values).toEqual({
        messages: ["hello"]
      })
      await saver.end()
    })

    it("from a layer of this library shares the database with CheckpointStorage", async () => {
      const { config } = db
      const layer = config.type === "sqlite"
        ? (isBun ? layerSqliteBun : layerSqliteNode)({ databasePath: config.databasePath })
        : config.type === "mysql"
        ? layerMysql({ connectionString: config.connectionString })
        : layerPostgres({ connectionString: config.connectionString })
      const saver = new SqlCheckpointSaver(layer)
      expect(await roundTrip(saver, "layer")).toEqual({ messages: ["hello"] })
      expect(await tablesOf(db)).toContain("AgentCheckpoints")
      await saver.end()
    })

    it("from layerLangGraphSql over the caller's own client", async () => {
      const client = await Effect.runPromise(db.withSql((sql) => Effect.succeed(sql)))
      const saver = new SqlCheckpointSaver(layerLangGraphSql().pipe(Layer.provide(Layer.succeed(SqlClient.SqlClient, client))))
      expect(await roundTrip(saver, "own-client")).toEqual({ messages: ["hello"] })
      await saver.end()
    })

    it("rejects bad input with the typed error itself, and a missing thread_id reads as nothing", async () => {
      const saver = SqlCheckpointSaver.fromConnString(connectionStringOf(db.config))
      const refused = await saver.put({ configurable: {} }, emptyCheckpoint(), meta, {}).catch((error: unknown) => error)
      expect(refused).toMatchObject({ _tag: "CheckpointValidationError", subject: "LangGraphCheckpointInput" })
      expect(String((refused as Error).message)).toContain("threadId")
      expect(await saver.getTuple({ configurable: {} })).toBeUndefined()
      const badFilter = saver.list({ configurable: {} }, { filter: { nested: { a: 1 } } })
      await expect(badFilter.next()).rejects.toMatchObject({ _tag: "CheckpointValidationError" })
      await saver.end()
    })

    for (const { config, label, secret } of target.unreachable) {
      it(`fails to reach ${label} with StorageConnectionError${secret === undefined ? "" : ", the password nowhere"}`, async () => {
        const saver = SqlCheckpointSaver.fromConnString(connectionStringOf(config))
        const error = await saver.getTuple({ configurable: { thread_id: "t" } }).catch((e: unknown) => e)
        expect(error).toMatchObject({ _tag: "StorageConnectionError" })
        if (secret !== undefined) {
          expect(String((error as Error).message)).not.toContain(secret)
          expect(JSON.stringify(error)).not.toContain(secret)
        }
        await saver.end()
      })
    }
  })
}

describe("SqlCheckpointSaver.fromConnString", () => {
  it("refuses a URL that names no database it knows, without showing its password", async () => {
    const saver = SqlCheckpointSaver.fromConnString("redis://user:hunter2secret@localhost:6379")
    const error = await saver.setup().catch((e: unknown) => e)
    expect(error).toMatchObject({ _tag: "CheckpointValidationError", subject: "connection string" })
    expect(String((error as Error).message)).not.toContain("hunter2secret")
    await saver.end()
  })
})
