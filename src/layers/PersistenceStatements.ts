/**
 * The SQL of the persistence table, once for every dialect. Every store id, key and value is a bound parameter;
 * the dialects differ only in the upsert's conflict clause and in how MySQL returns its VARBINARY keys.
 *
 * @since 0.2.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import * as Effect from "effect/Effect"
import { PERSISTENCE_TABLE } from "./PersistenceMigrations.js"
import { utf8Bytes } from "./textBytes.js"

/**
 * The fewest host parameters one statement may bind on the drivers we support: SQLite's SQLITE_MAX_VARIABLE_NUMBER
 * (32766 since SQLite 3.32; better-sqlite3 ships 3.53 and bun:sqlite 3.54), against 65535 for PostgreSQL's protocol
 * and MySQL's prepared statements. A call that needs more is split into several statements (in one transaction for
 * writes); up to 32764 keys for `getMany` and 8191 entries for `setMany`, it is one statement.
 *
 * @since 0.2.0
 */
export const MAX_BOUND_PARAMETERS = 32_766

/**
 * One row as written.
 *
 * @since 0.2.0
 */
export type PersistenceRow = {
  readonly store_id: string
  readonly id: string
  readonly value: string
  readonly expires_at: number | null
}

const text = new TextDecoder()

// MySQL returns the VARBINARY key columns as bytes.
const keyText = (key: string | Uint8Array): string => (typeof key === "string" ? key : text.decode(key))

/**
 * Splits items into runs of at most `size`.
 *
 * @since 0.2.0
 */
export const chunksOf = <A>(items: ReadonlyArray<A>, size: number): ReadonlyArray<ReadonlyArray<A>> => {
  const chunks: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size))
  return chunks
}

/**
 * The statements over a client without name transforms.
 *
 * @since 0.2.0
 */
export const makePersistenceStatements = (sql: SqlClient.SqlClient) => {
  const table = sql(PERSISTENCE_TABLE)
  const expiresAt = sql("expires_at")
  // The one definition of an expired entry: it has an expiry, and the expiry is not after `now` (as the memory
  // backing of @effect/experimental decides). Reads keep the rows where it is false.
  const expired = (now: number): Statement.Fragment => sql`(${expiresAt} IS NOT NULL AND ${expiresAt} <= ${now})`
  const live = (now: number): Statement.Fragment => sql`NOT ${expired(now)}`
  const onConflictUpdate = sql.onDialectOrElse({
    mysql: () => sql`ON DUPLICATE KEY UPDATE value = VALUES(value), expires_at = VALUES(expires_at)`,
    orElse: () => sql`ON CONFLICT (store_id, id) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`
  })

  const selectValue = (storeId: string, key: string, now: number): Effect.Effect<string | undefined, SqlError> =>
    Effect.map(
      sql<{ readonly value: string }>`SELECT value FROM ${table} WHERE store_id = ${storeId} AND id = ${key} AND ${
        live(now)
      }`,
      (rows) => rows[0]?.value
    )

  const selectValues = (
    storeId: string,
    keys: ReadonlyArray<string>,
    now: number
  ): Effect.Effect<ReadonlyArray<{ readonly id: string; readonly value: string }>, SqlError> =>
    Effect.map(
      sql<{ readonly id: string | Uint8Array; readonly value: string }>`SELECT id, value FROM ${table} WHERE store_id = ${storeId} AND ${
        sql.in("id", keys)
      } AND ${live(now)}`,
      (rows) => rows.map((row) => ({ id: keyText(row.id), value: row.value }))
    )

  const upsert = (rows: ReadonlyArray<PersistenceRow>): Effect.Effect<void, SqlError> =>
    Effect.asVoid(sql`INSERT INTO ${table} ${sql.insert(rows)} ${onConflictUpdate}`)

  const remove = (storeId: string, key: string): Effect.Effect<void, SqlError> =>
    Effect.asVoid(sql`DELETE FROM ${table} WHERE store_id = ${storeId} AND id = ${key}`)

  const clear = (storeId: string): Effect.Effect<void, SqlError> =>
    Effect.asVoid(sql`DELETE FROM ${table} WHERE store_id = ${storeId}`)

  const statistics = (now: number) =>
    Effect.map(
      sql<{
        readonly store_id: string | Uint8Array
        readonly entries: number | string
        readonly expired: number | string | null
        readonly value_bytes: number | string | null
      }>`SELECT store_id, COUNT(*) AS entries, SUM(CASE WHEN ${expired(now)} THEN 1 ELSE 0 END) AS expired,
  SUM(${utf8Bytes(sql, "value")}) AS value_bytes
FROM ${table} GROUP BY store_id ORDER BY store_id`,
      (rows) =>
        rows.map((row) => ({
          storeId: keyText(row.store_id),
          entries: Number(row.entries),
          expired: Number(row.expired ?? 0),
          valueBytes: Number(row.value_bytes ?? 0)
        }))
    )

  const countExpired = (now: number): Effect.Effect<number, SqlError> =>
    Effect.map(
      sql<{ readonly n: number | string }>`SELECT COUNT(*) AS n FROM ${table} WHERE ${expired(now)}`,
      (rows) => Number(rows[0]?.n ?? 0)
    )

  const sampleExpired = (now: number, limit: number) =>
    Effect.map(
      sql<{
        readonly store_id: string | Uint8Array
        readonly id: string | Uint8Array
        readonly expires_at: number | string
      }>`SELECT store_id, id, expires_at FROM ${table} WHERE ${expired(now)}
ORDER BY expires_at, store_id, id LIMIT ${sql.literal(String(limit))}`,
      (rows) =>
        rows.map((row) => ({ storeId: keyText(row.store_id), key: keyText(row.id), expiresAt: Number(row.expires_at) }))
    )

  const deleteExpired = (now: number): Effect.Effect<void, SqlError> =>
    Effect.asVoid(sql`DELETE FROM ${table} WHERE ${expired(now)}`)

  return {
    selectValue,
    selectValues,
    upsert,
    remove,
    clear,
    statistics,
    countExpired,
    sampleExpired,
    deleteExpired
  } as const
}

/**
 * @since 0.2.0
 */
export type PersistenceStatements = ReturnType<typeof makePersistenceStatements>
