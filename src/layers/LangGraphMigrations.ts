/**
 * The versioned schema of the LangGraph tables. They have their own migrations table, so that a database used only
 * for LangGraph gets only these tables, and the checkpoint tables' migrations stay as they are.
 *
 * @since 0.2.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import type { Dialect, MigrationError, StorageConnectionError } from "../services/CheckpointStorageError.js"
import { LangGraphKeyLengths } from "../schema/LangGraphCheckpoint.js"
import { createIndex } from "./CheckpointMigrationSteps.js"
import { runCheckpointMigrations } from "./CheckpointMigrations.js"

/**
 * The tables, by role.
 *
 * @since 0.2.0
 */
export const LangGraphTables = {
  checkpoints: "langgraph_checkpoints",
  channelValues: "langgraph_channel_values",
  writes: "langgraph_writes"
} as const

/**
 * The table in which the Migrator records which LangGraph migrations ran.
 *
 * @since 0.2.0
 */
export const LANGGRAPH_MIGRATIONS_TABLE = "effect_checkpoint_storage_langgraph_migrations"

// PostgreSQL and SQLite: TEXT keys. On PostgreSQL in the "C" collation, so that ORDER BY compares by code point as
// LangGraph's writesSortKey does (a database's default collation is often a locale's, where "a" < "B"); SQLite's
// BINARY already does. MySQL: VARCHAR keys so they can be indexed, LONGTEXT and LONGBLOB for the rest (TEXT and BLOB
// hold only 64 KiB), all utf8mb4_bin, which also orders by code point.
const createTables = Effect.gen(function*() {
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  const { channelValues, checkpoints, writes } = LangGraphTables
  const L = LangGraphKeyLengths
  yield* sql.onDialectOrElse({
    pg: () =>
      Effect.all([
        sql`CREATE TABLE IF NOT EXISTS ${sql(checkpoints)} (
  thread_id TEXT COLLATE "C" NOT NULL,
  checkpoint_ns TEXT COLLATE "C" NOT NULL DEFAULT '',
  checkpoint_id TEXT COLLATE "C" NOT NULL,
  parent_checkpoint_id TEXT COLLATE "C",
  checkpoint TEXT NOT NULL,
  metadata JSONB NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
)`,
        sql`CREATE TABLE IF NOT EXISTS ${sql(channelValues)} (
  thread_id TEXT COLLATE "C" NOT NULL,
  checkpoint_ns TEXT COLLATE "C" NOT NULL DEFAULT '',
  channel TEXT COLLATE "C" NOT NULL,
  version TEXT COLLATE "C" NOT NULL,
  type TEXT NOT NULL,
  value BYTEA,
  PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
)`,
        sql`CREATE TABLE IF NOT EXISTS ${sql(writes)} (
  thread_id TEXT COLLATE "C" NOT NULL,
  checkpoint_ns TEXT COLLATE "C" NOT NULL DEFAULT '',
  checkpoint_id TEXT COLLATE "C" NOT NULL,
  task_id TEXT COLLATE "C" NOT NULL,
  idx INTEGER NOT NULL,
  task_path TEXT COLLATE "C" NOT NULL DEFAULT '',
  channel TEXT COLLATE "C" NOT NULL,
  type TEXT NOT NULL,
  value BYTEA NOT NULL,
  PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
)`
      ], { discard: true }),
    mysql: () =>
      Effect.all([
        sql`CREATE TABLE IF NOT EXISTS ${sql(checkpoints)} (
  thread_id VARCHAR(${sql.literal(String(L.threadId))}) NOT NULL,
  checkpoint_ns VARCHAR(${sql.literal(String(L.checkpointNs))}) NOT NULL DEFAULT '',
  checkpoint_id VARCHAR(${sql.literal(String(L.checkpointId))}) NOT NULL,
  parent_checkpoint_id VARCHAR(${sql.literal(String(L.checkpointId))}) NULL,
  checkpoint LONGTEXT NOT NULL,
  metadata LONGTEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
        sql`CREATE TABLE IF NOT EXISTS ${sql(channelValues)} (
  thread_id VARCHAR(${sql.literal(String(L.threadId))}) NOT NULL,
  checkpoint_ns VARCHAR(${sql.literal(String(L.checkpointNs))}) NOT NULL DEFAULT '',
  channel VARCHAR(${sql.literal(String(L.channel))}) NOT NULL,
  version VARCHAR(${sql.literal(String(L.version))}) NOT NULL,
  type VARCHAR(255) NOT NULL,
  value LONGBLOB NULL,
  PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
        sql`CREATE TABLE IF NOT EXISTS ${sql(writes)} (
  thread_id VARCHAR(${sql.literal(String(L.threadId))}) NOT NULL,
  checkpoint_ns VARCHAR(${sql.literal(String(L.checkpointNs))}) NOT NULL DEFAULT '',
  checkpoint_id VARCHAR(${sql.literal(String(L.checkpointId))}) NOT NULL,
  task_id VARCHAR(${sql.literal(String(L.taskId))}) NOT NULL,
  idx INTEGER NOT NULL,
  task_path VARCHAR(${sql.literal(String(L.taskPath))}) NOT NULL DEFAULT '',
  channel VARCHAR(${sql.literal(String(L.channel))}) NOT NULL,
  type VARCHAR(255) NOT NULL,
  value LONGBLOB NOT NULL,
  PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
      ], { discard: true }),
    orElse: () =>
      Effect.all([
        sql`CREATE TABLE IF NOT EXISTS ${sql(checkpoints)} (
  thread_id TEXT NOT NULL,
  checkpoint_ns TEXT NOT NULL DEFAULT '',
  checkpoint_id TEXT NOT NULL,
  parent_checkpoint_id TEXT,
  checkpoint TEXT NOT NULL,
  metadata TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
)`,
        sql`CREATE TABLE IF NOT EXISTS ${sql(channelValues)} (
  thread_id TEXT NOT NULL,
  checkpoint_ns TEXT NOT NULL DEFAULT '',
  channel TEXT NOT NULL,
  version TEXT NOT NULL,
  type TEXT NOT NULL,
  value BLOB,
  PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
)`,
        sql`CREATE TABLE IF NOT EXISTS ${sql(writes)} (
  thread_id TEXT NOT NULL,
  checkpoint_ns TEXT NOT NULL DEFAULT '',
  checkpoint_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  task_path TEXT NOT NULL DEFAULT '',
  channel TEXT NOT NULL,
  type TEXT NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
)`
      ], { discard: true })
  })
  // Retention by age reads the checkpoints by creation time, across threads.
  yield* createIndex(sql, "langgraph_checkpoints_created_at", checkpoints, sql`${sql("created_at")}`)
})

/**
 * The LangGraph migrations, by id. Never edit one that has shipped: add the next.
 *
 * @since 0.2.0
 */
export const langGraphMigrations: Record<string, Effect.Effect<void, SqlError, SqlClient.SqlClient>> = {
  "1_langgraph_tables": createTables
}

/**
 * Applies the LangGraph migrations the database has not seen yet. Safe to run from many processes at once.
 *
 * @since 0.2.0
 */
export const runLangGraphMigrations = (
  dialect: Dialect
): Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, MigrationError | StorageConnectionError, SqlClient.SqlClient> =>
  runCheckpointMigrations({ dialect, table: LANGGRAPH_MIGRATIONS_TABLE, migrations: langGraphMigrations })
