/**
 * Which migrations a database has recorded, and which this version of the package ships.
 */
import * as Effect from "effect/Effect"
import { refailSqlError } from "../internal/refailSqlError.js"
import { checkpointMigrations, DEFAULT_MIGRATIONS_TABLE } from "../layers/CheckpointMigrations.js"
import { CliDatabase } from "./CliDatabase.js"

/**
 * The migrations this package ships, as `[id, name]`, in order.
 */
export const expectedMigrations: ReadonlyArray<readonly [id: number, name: string]> = Object.keys(checkpointMigrations)
  .map((key) => {
    const [, id = "0", name = key] = /^(\d+)_(.*)$/.exec(key) ?? []
    return [Number(id), name] as const
  })
  .sort(([a], [b]) => a - b)

/**
 * The schema version this package expects: the id of its last migration.
 */
export const expectedVersion: number = expectedMigrations.at(-1)?.[0] ?? 0

/**
 * The migrations recorded in the database (none when its migrations table does not exist yet).
 */
export const appliedMigrations = Effect.gen(function*() {
  const { sql, url } = yield* CliDatabase
  const exists = yield* url.dialect === "sqlite"
    ? sql<{ readonly n: unknown }>`SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ${DEFAULT_MIGRATIONS_TABLE}`
    : url.dialect === "pg"
    ? sql<{ readonly n: unknown }>`SELECT COUNT(*) AS n FROM information_schema.tables
WHERE table_schema = current_schema() AND table_name = ${DEFAULT_MIGRATIONS_TABLE}`
    : sql<{ readonly n: unknown }>`SELECT COUNT(*) AS n FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${DEFAULT_MIGRATIONS_TABLE}`
  if (Number(exists[0]?.n ?? 0) === 0) return [] as ReadonlyArray<readonly [number, string]>
  const rows = yield* sql<{ readonly migration_id: unknown; readonly name: unknown }>`SELECT migration_id, name FROM ${
    sql(DEFAULT_MIGRATIONS_TABLE)
  } ORDER BY migration_id`
  return rows.map((row) => [Number(row.migration_id), String(row.name)] as const)
}).pipe(
  Effect.catchTag("SqlError", (error) =>
    Effect.flatMap(CliDatabase, ({ url }) => Effect.fail(refailSqlError(url.dialect, "read schema version")(error))))
)
