/**
 * The versioned schema of the persistence table, the SQL backing of `@effect/experimental`'s `Persistence`
 * (`PersistedCache`, `Persistence.layerResult`, `@effect/ai`'s `Chat.layerPersisted`). It has its own migrations
 * table, as the LangGraph tables do, so that a program that never uses the persistence gets no table for it.
 *
 * @since 0.2.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import type { Dialect, MigrationError, StorageConnectionError } from "../services/CheckpointStorageError.js"
import { createIndex } from "./CheckpointMigrationSteps.js"
import { runCheckpointMigrations } from "./CheckpointMigrations.js"
import { PersistenceKeyLimits } from "./PersistenceKeys.js"

/**
 * The table of the entries: one row per (store id, key).
 *
 * @since 0.2.0
 */
export const PERSISTENCE_TABLE = "persistence_entries"

/**
 * The table in which the Migrator records which persistence migrations ran.
 *
 * @since 0.2.0
 */
export const PERSISTENCE_MIGRATIONS_TABLE = "effect_checkpoint_storage_persistence_migrations"

// The value is JSON text on every dialect, stored as the backing received it. Not JSONB on PostgreSQL: JSONB refuses
// the escape \u0000 that JSON.stringify writes for a NUL character, and rewrites the document (key order, duplicate
// keys, number spelling), while a backing must give back what it was given. `expires_at` is epoch milliseconds
// from the Effect Clock, NULL for an entry that never expires.
// Keys: PostgreSQL TEXT in the "C" collation and SQLite TEXT (BINARY collation) compare exactly. MySQL/MariaDB
// VARBINARY, because every utf8mb4 collation there either folds case or is PAD SPACE ("k" = "k " under
// utf8mb4_bin), which would make two keys one; its byte lengths are the limits of PersistenceKeys.ts, so that the
// primary key (1279 bytes) fits InnoDB's 3072-byte index limit. LONGTEXT for the value: TEXT holds only 64 KiB.
const createTable = Effect.gen(function*() {
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  const table = sql(PERSISTENCE_TABLE)
  yield* sql.onDialectOrElse({
    pg: () =>
      sql`CREATE TABLE IF NOT EXISTS ${table} (
  store_id TEXT COLLATE "C" NOT NULL,
  id TEXT COLLATE "C" NOT NULL,
  value TEXT NOT NULL,
  expires_at BIGINT,
  PRIMARY KEY (store_id, id)
)`,
    mysql: () =>
      sql`CREATE TABLE IF NOT EXISTS ${table} (
  store_id VARBINARY(${sql.literal(String(PersistenceKeyLimits.storeIdBytes))}) NOT NULL,
  id VARBINARY(${sql.literal(String(PersistenceKeyLimits.keyBytes))}) NOT NULL,
  value LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  expires_at BIGINT NULL,
  PRIMARY KEY (store_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
    orElse: () =>
      sql`CREATE TABLE IF NOT EXISTS ${table} (
  store_id TEXT NOT NULL,
  id TEXT NOT NULL,
  value TEXT NOT NULL,
  expires_at INTEGER,
  PRIMARY KEY (store_id, id)
)`
  })
  // Pruning finds the expired entries of every store by their expiry.
  yield* createIndex(sql, "persistence_entries_expires_at", PERSISTENCE_TABLE, sql`${sql("expires_at")}`)
})

/**
 * The persistence migrations, by id. Never edit one that has shipped: add the next.
 *
 * @since 0.2.0
 */
export const persistenceMigrations: Record<string, Effect.Effect<void, SqlError, SqlClient.SqlClient>> = {
  "1_persistence_entries": createTable
}

/**
 * Applies the persistence migrations the database has not seen yet. Safe to run from many processes at once.
 *
 * @since 0.2.0
 */
export const runPersistenceMigrations = (
  dialect: Dialect
): Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, MigrationError | StorageConnectionError, SqlClient.SqlClient> =>
  runCheckpointMigrations({ dialect, table: PERSISTENCE_MIGRATIONS_TABLE, migrations: persistenceMigrations })
