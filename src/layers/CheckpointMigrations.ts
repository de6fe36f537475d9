/**
 * The versioned schema of the checkpoint tables, applied with @effect/sql's Migrator under a lock that holds
 * across processes on every dialect.
 *
 * @since 0.1.0
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import { refailSqlError } from "../internal/refailSqlError.js"
import { type Dialect, MigrationError, StorageConnectionError } from "../services/CheckpointStorageError.js"

/**
 * The table in which the Migrator records which migrations ran.
 *
 * @since 0.1.0
 */
export const DEFAULT_MIGRATIONS_TABLE = "effect_checkpoint_storage_migrations"

/**
 * How long a process waits for another one that is applying the migrations, in seconds.
 */
const MIGRATION_LOCK_TIMEOUT_SECONDS = 60

// Column types: the tables Token Ring's drizzle-storage created (TEXT columns, BIGINT createdAt, an autoincrement
// id) so that its databases open as they are; on MySQL the state is LONGTEXT (TEXT holds only 64 KiB) and the
// identifiers VARCHAR(255) so they can be indexed, in utf8mb4 with a binary collation, so that "A" and "a" are two
// sessions, as they are on PostgreSQL and SQLite.
const createTables = Effect.gen(function*() {
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  yield* sql.onDialectOrElse({
    pg: () =>
      Effect.zipRight(
        sql`CREATE TABLE IF NOT EXISTS "AgentCheckpoints" (
  "id" BIGSERIAL PRIMARY KEY NOT NULL,
  "sessionId" TEXT NOT NULL,
  "agentId" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  "agentType" TEXT NOT NULL,
  "state" TEXT NOT NULL,
  "createdAt" BIGINT NOT NULL
)`,
        sql`CREATE TABLE IF NOT EXISTS "AppCheckpoints" (
  "id" BIGSERIAL PRIMARY KEY NOT NULL,
  "sessionId" TEXT NOT NULL,
  "hostname" TEXT NOT NULL,
  "projectDirectory" TEXT NOT NULL,
  "state" TEXT NOT NULL,
  "createdAt" BIGINT NOT NULL
)`
      ),
    mysql: () =>
      Effect.zipRight(
        sql`CREATE TABLE IF NOT EXISTS \`AgentCheckpoints\` (
  \`id\` BIGINT NOT NULL AUTO_INCREMENT,
  \`sessionId\` VARCHAR(255) NOT NULL,
  \`agentId\` VARCHAR(255) NOT NULL,
  \`name\` VARCHAR(255) NOT NULL,
  \`agentType\` VARCHAR(255) NOT NULL,
  \`state\` LONGTEXT NOT NULL,
  \`createdAt\` BIGINT NOT NULL,
  CONSTRAINT \`AgentCheckpoints_id\` PRIMARY KEY (\`id\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
        sql`CREATE TABLE IF NOT EXISTS \`AppCheckpoints\` (
  \`id\` BIGINT NOT NULL AUTO_INCREMENT,
  \`sessionId\` VARCHAR(255) NOT NULL,
  \`hostname\` VARCHAR(255) NOT NULL,
  \`projectDirectory\` TEXT NOT NULL,
  \`state\` LONGTEXT NOT NULL,
  \`createdAt\` BIGINT NOT NULL,
  CONSTRAINT \`AppCheckpoints_id\` PRIMARY KEY (\`id\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
      ),
    orElse: () =>
      Effect.zipRight(
        sql`CREATE TABLE IF NOT EXISTS "AgentCheckpoints" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  "sessionId" TEXT NOT NULL,
  "agentId" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  "agentType" TEXT NOT NULL,
  "state" TEXT NOT NULL,
  "createdAt" INTEGER NOT NULL
)`,
        sql`CREATE TABLE IF NOT EXISTS "AppCheckpoints" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  "sessionId" TEXT NOT NULL,
  "hostname" TEXT NOT NULL,
  "projectDirectory" TEXT NOT NULL,
  "state" TEXT NOT NULL,
  "createdAt" INTEGER NOT NULL
)`
      )
  })
})

// A MySQL database written by drizzle-storage has TEXT columns in the server's default character set: its states
// were cut at 64 KiB and its identifiers cannot be indexed. Bring them to the types above (a no-op on tables this
// package created). PostgreSQL and SQLite tables already have the right types.
const alignMysqlColumnTypes = Effect.gen(function*() {
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  yield* sql.onDialectOrElse({
    mysql: () =>
      Effect.zipRight(
        sql`ALTER TABLE \`AgentCheckpoints\`
  CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  MODIFY \`sessionId\` VARCHAR(255) NOT NULL,
  MODIFY \`agentId\` VARCHAR(255) NOT NULL,
  MODIFY \`name\` VARCHAR(255) NOT NULL,
  MODIFY \`agentType\` VARCHAR(255) NOT NULL,
  MODIFY \`state\` LONGTEXT NOT NULL`,
        sql`ALTER TABLE \`AppCheckpoints\`
  CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  MODIFY \`sessionId\` VARCHAR(255) NOT NULL,
  MODIFY \`hostname\` VARCHAR(255) NOT NULL,
  MODIFY \`projectDirectory\` TEXT NOT NULL,
  MODIFY \`state\` LONGTEXT NOT NULL`
      ),
    orElse: () => Effect.void
  })
})

// One index per list order: the whole-table order (createdAt, id) and the per-session / per-agent look-ups.
const LIST_INDEXES: ReadonlyArray<readonly [table: string, columns: ReadonlyArray<string>]> = [
  ["AgentCheckpoints", ["createdAt", "id"]],
  ["AgentCheckpoints", ["sessionId", "createdAt", "id"]],
  ["AgentCheckpoints", ["agentId", "createdAt", "id"]],
  ["AppCheckpoints", ["createdAt", "id"]],
  ["AppCheckpoints", ["sessionId", "createdAt", "id"]]
]

const createListIndexes = Effect.gen(function*() {
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  const createIndex = sql.onDialectOrElse({
    // MySQL has no CREATE INDEX IF NOT EXISTS (MariaDB does): ask the catalog, so that a migration re-run after a
    // failure half-way (MySQL DDL cannot be rolled back) finishes the job instead of failing on the first index.
    mysql: () => (name: string, table: string, columns: Statement.Fragment) =>
      sql<{ readonly present: number | string }>`SELECT COUNT(*) AS present FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table} AND INDEX_NAME = ${name}`.pipe(
        Effect.flatMap((rows) =>
          Number(rows[0]?.present ?? 0) > 0 ? Effect.void : sql`CREATE INDEX ${sql(name)} ON ${sql(table)} (${columns})`
        )
      ),
    orElse: () => (name: string, table: string, columns: Statement.Fragment) =>
      sql`CREATE INDEX IF NOT EXISTS ${sql(name)} ON ${sql(table)} (${columns})`
  })
  yield* Effect.forEach(LIST_INDEXES, ([table, columns]) =>
    createIndex(
      `${table}_${columns.join("_")}`,
      table,
      sql.csv(columns.map((column) => sql`${sql(column)}`))
    ), { discard: true })
})

// Each checkpoint records the checkpoint it continues (lineage) and the size of its state (limits, statistics).
// The size of existing rows is computed once here: bytes of the JSON text, as the store computes it.
const addLineageAndSize = Effect.gen(function*() {
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  const columnExists = sql.onDialectOrElse({
    pg: () => (table: string, column: string) =>
      sql<{ readonly present: number | string }>`SELECT COUNT(*) AS present FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = ${table} AND column_name = ${column}`,
    mysql: () => (table: string, column: string) =>
      sql<{ readonly present: number | string }>`SELECT COUNT(*) AS present FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table} AND COLUMN_NAME = ${column}`,
    orElse: () => (table: string, column: string) =>
      sql<{ readonly present: number | string }>`SELECT COUNT(*) AS present FROM pragma_table_info(${table})
WHERE name = ${column}`
  })
  const integerType = sql.onDialectOrElse({ sqlite: () => sql.literal("INTEGER"), orElse: () => sql.literal("BIGINT") })
  const stateBytes = sql.onDialectOrElse({
    pg: () => sql`octet_length(${sql("state")})`,
    mysql: () => sql`LENGTH(${sql("state")})`,
    orElse: () => sql`length(CAST(${sql("state")} AS BLOB))`
  })
  for (const table of ["AgentCheckpoints", "AppCheckpoints"]) {
    for (const column of ["parentId", "sizeBytes"]) {
      const [row] = yield* columnExists(table, column)
      if (Number(row?.present ?? 0) === 0) {
        yield* sql`ALTER TABLE ${sql(table)} ADD COLUMN ${sql(column)} ${integerType} NULL`
      }
    }
    yield* sql`UPDATE ${sql(table)} SET ${sql("sizeBytes")} = ${stateBytes} WHERE ${sql("sizeBytes")} IS NULL`
  }
})

/**
 * The table that records which checkpoints of a source an import has written, and the ids they got, so that an
 * import can resume, skip what it wrote before, and map parents across batches. The same table the CLI's `copy`
 * created before it went through the storage (`CREATE … IF NOT EXISTS`: such a database keeps its entries).
 *
 * @since 0.1.0
 */
export const IMPORT_LEDGER_TABLE = "effect_checkpoint_storage_copies"

const createImportLedger = Effect.gen(function*() {
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  const integer = sql.onDialectOrElse({ sqlite: () => sql.literal("INTEGER"), orElse: () => sql.literal("BIGINT") })
  yield* sql`CREATE TABLE IF NOT EXISTS ${sql(IMPORT_LEDGER_TABLE)} (
  ${sql("sourceKey")} VARCHAR(64) NOT NULL,
  ${sql("tableName")} VARCHAR(32) NOT NULL,
  ${sql("sourceId")} ${integer} NOT NULL,
  ${sql("targetId")} ${integer} NOT NULL,
  PRIMARY KEY (${sql("sourceKey")}, ${sql("tableName")}, ${sql("sourceId")})
)`
  // By target id too, unique: a verification maps each target row back to its source by key.
  const indexName = `${IMPORT_LEDGER_TABLE}_target`
  const columns = sql`${sql("sourceKey")}, ${sql("tableName")}, ${sql("targetId")}`
  // MySQL has no CREATE INDEX IF NOT EXISTS (MariaDB has): ask the catalog first.
  const [existing] = yield* sql.onDialectOrElse({
    mysql: () =>
      sql<{ readonly n: unknown }>`SELECT COUNT(*) AS ${sql("n")} FROM ${sql("information_schema.STATISTICS")}
WHERE ${sql("TABLE_SCHEMA")} = DATABASE() AND ${sql("TABLE_NAME")} = ${IMPORT_LEDGER_TABLE} AND ${sql("INDEX_NAME")} = ${indexName}`,
    orElse: () => Effect.succeed([{ n: 0 }])
  })
  if (Number(existing?.n ?? 0) > 0) return
  yield* sql.onDialectOrElse({
    mysql: () => sql`CREATE UNIQUE INDEX ${sql(indexName)} ON ${sql(IMPORT_LEDGER_TABLE)} (${columns})`,
    orElse: () => sql`CREATE UNIQUE INDEX IF NOT EXISTS ${sql(indexName)} ON ${sql(IMPORT_LEDGER_TABLE)} (${columns})`
  })
})

/**
 * The migrations, by id. Never edit one that has shipped: add the next.
 *
 * @since 0.1.0
 */
export const checkpointMigrations: Record<string, Effect.Effect<void, SqlError, SqlClient.SqlClient>> = {
  "1_checkpoint_tables": Effect.zipRight(createTables, alignMysqlColumnTypes),
  "2_list_indexes": createListIndexes,
  "3_lineage_and_size": addLineageAndSize,
  "4_import_ledger": createImportLedger
}

interface FailedMigration {
  readonly migration: string
  readonly cause: Cause.Cause<unknown>
}

// The Migrator reports a failing migration as a defect, and on MySQL the rollback to its savepoint then fails as
// well (the DDL has committed), which replaces that defect. So each migration records its own failure here.
const recordingFailures = (failed: Ref.Ref<Option.Option<FailedMigration>>) =>
  Migrator.fromRecord(Object.fromEntries(
    Object.entries(checkpointMigrations).map(([migration, effect]) => [
      migration,
      Effect.tapErrorCause(effect, (cause) => Ref.set(failed, Option.some({ migration, cause })))
    ])
  ))

// Serializes the migrations of every process sharing a database. The Migrator locks its table on PostgreSQL only,
// and only after creating it, so two processes starting on an empty database race on every dialect without this.
const withMigrationLock = (
  sql: SqlClient.SqlClient,
  dialect: Dialect,
  table: string
) =>
<A, E, R>(migrate: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError | MigrationError, R> => {
  switch (dialect) {
    case "pg":
      // A transaction-scoped advisory lock, released by the commit. The Migrator's own transaction nests in ours as
      // a savepoint; its table is created first so that its existence check cannot abort our transaction.
      return sql.withTransaction(
        sql`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.' || ${table}))`.pipe(
          Effect.zipRight(sql`CREATE TABLE IF NOT EXISTS ${sql(table)} (
  migration_id integer primary key,
  created_at timestamp with time zone not null default now(),
  name text not null
)`),
          Effect.zipRight(migrate)
        )
      )
    case "mysql": {
      // A named lock belongs to the session: take it and release it inside one transaction so both use the same
      // pooled connection. MySQL DDL commits implicitly (the lock outlives those commits), so the Migrator's record
      // of the migrations it is about to run is committed before they run: if one fails, that record is taken back
      // here, and the next start runs them again (each of them is written to be safe to repeat).
      const lockName = sql`SHA1(CONCAT(DATABASE(), '.', ${table}))`
      const latestApplied = sql<{ readonly latest: number | string | null }>`SELECT MAX(migration_id) AS latest FROM ${
        sql(table)
      }`.pipe(Effect.map((rows) => Number(rows[0]?.latest ?? 0)))
      return sql.withTransaction(
        Effect.acquireUseRelease(
          sql<{ readonly locked: number | null }>`SELECT GET_LOCK(${lockName}, ${MIGRATION_LOCK_TIMEOUT_SECONDS}) AS locked`
            .pipe(
              Effect.filterOrFail(
                (rows) => rows[0]?.locked === 1,
                () => new MigrationError({ dialect, reason: "locked" })
              )
            ),
          () =>
            Effect.gen(function*() {
              yield* sql`CREATE TABLE IF NOT EXISTS ${sql(table)} (
  migration_id INTEGER UNSIGNED NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  name VARCHAR(255) NOT NULL,
  PRIMARY KEY (migration_id)
)`
              const before = yield* latestApplied
              return yield* Effect.onError(
                migrate,
                () => Effect.ignore(sql`DELETE FROM ${sql(table)} WHERE migration_id > ${before}`)
              )
            }),
          () => Effect.ignore(sql`SELECT RELEASE_LOCK(${lockName})`)
        )
      )
    }
    case "sqlite":
      // SQLite has one writer at a time: the first write of our transaction takes the write lock (waiting up to the
      // busy timeout), and every other process's migration waits for our commit.
      return Effect.zipRight(
        sql`CREATE TABLE IF NOT EXISTS ${sql(table)} (
  migration_id integer PRIMARY KEY NOT NULL,
  created_at datetime NOT NULL DEFAULT current_timestamp,
  name VARCHAR(255) NOT NULL
)`,
        sql.withTransaction(
          Effect.zipRight(sql`DELETE FROM ${sql(table)} WHERE migration_id < 0`, migrate)
        )
      )
  }
}

/**
 * Applies the checkpoint migrations that the database has not seen yet, and returns those it applied.
 * Safe to run from many processes at once.
 *
 * @since 0.1.0
 */
export const runCheckpointMigrations = (options: {
  readonly dialect: Dialect
  readonly table?: string | undefined
}): Effect.Effect<
  ReadonlyArray<readonly [id: number, name: string]>,
  MigrationError | StorageConnectionError,
  SqlClient.SqlClient
> =>
  Effect.gen(function*() {
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const table = options.table ?? DEFAULT_MIGRATIONS_TABLE
    const failed = yield* Ref.make(Option.none<FailedMigration>())
    const migrate = Migrator.make({})({ loader: recordingFailures(failed), table })
    return yield* withMigrationLock(sql, options.dialect, table)(migrate).pipe(
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.failCause(cause as Cause.Cause<never>)
          : Effect.flatMap(Ref.get(failed), (failedMigration) =>
            Effect.fail(toMigrationFailure(options.dialect, cause, failedMigration)))
      )
    )
  }).pipe(Effect.withSpan("CheckpointStorage.migrate"))

const toMigrationFailure = (
  dialect: Dialect,
  cause: Cause.Cause<unknown>,
  failedMigration: Option.Option<FailedMigration>
): MigrationError | StorageConnectionError => {
  if (Option.isSome(failedMigration)) {
    const { cause: migrationCause, migration } = failedMigration.value
    return new MigrationError({ dialect, reason: "failed", migration, cause: Cause.squash(migrationCause) })
  }
  const failure = Option.getOrUndefined(Cause.failureOption(cause))
  if (failure instanceof MigrationError) return failure
  if (isSqlError(failure)) {
    const refailed = refailSqlError(dialect, "migrate")(failure)
    if (refailed._tag === "StorageConnectionError") return refailed
  }
  const defect = Chunk.toReadonlyArray(Cause.defects(cause))[0]
  return new MigrationError({ dialect, reason: "failed", cause: failure ?? defect ?? Cause.squash(cause) })
}

const isSqlError = (error: unknown): error is SqlError =>
  typeof error === "object" && error !== null && "_tag" in error && error._tag === "SqlError"
