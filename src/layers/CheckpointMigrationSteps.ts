/**
 * The migrations of the checkpoint tables, one Effect each. Each is safe to run again after a failure half-way
 * (MySQL DDL cannot be rolled back), and each opens the tables Token Ring's drizzle-storage and bun-storage made as
 * they are.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import * as Effect from "effect/Effect"
import { utf8Bytes } from "./textBytes.js"

const columnExists = (sql: SqlClient.SqlClient, table: string, column: string) =>
  Effect.map(
    sql.onDialectOrElse({
      pg: () =>
        sql<{ readonly present: number | string }>`SELECT COUNT(*) AS present FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = ${table} AND column_name = ${column}`,
      mysql: () =>
        sql<{ readonly present: number | string }>`SELECT COUNT(*) AS present FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table} AND COLUMN_NAME = ${column}`,
      orElse: () =>
        sql<{ readonly present: number | string }>`SELECT COUNT(*) AS present FROM pragma_table_info(${table})
WHERE name = ${column}`
    }),
    (rows) => Number(rows[0]?.present ?? 0) > 0
  )

// MySQL has no CREATE INDEX IF NOT EXISTS (MariaDB has): ask the catalog, so that a migration re-run after a failure
// half-way (MySQL DDL cannot be rolled back) finishes the job instead of failing on the first index.
/** @internal */
export const createIndex = (
  sql: SqlClient.SqlClient,
  name: string,
  table: string,
  columns: Statement.Fragment,
  options?: { readonly unique?: boolean }
): Effect.Effect<void, SqlError> => {
  const create = options?.unique ? sql.literal("CREATE UNIQUE INDEX") : sql.literal("CREATE INDEX")
  return sql.onDialectOrElse({
    mysql: () =>
      sql<{ readonly present: number | string }>`SELECT COUNT(*) AS present FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table} AND INDEX_NAME = ${name}`.pipe(
        Effect.flatMap((rows) =>
          Number(rows[0]?.present ?? 0) > 0
            ? Effect.void
            : Effect.asVoid(sql`${create} ${sql(name)} ON ${sql(table)} (${columns})`)
        )
      ),
    orElse: () => Effect.asVoid(sql`${create} IF NOT EXISTS ${sql(name)} ON ${sql(table)} (${columns})`)
  })
}

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

// A MySQL database written by drizzle-storage or bun-storage has TEXT columns in the server's default character set: its states
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
        // The directory column is left to migration 5: a table bun-storage 0.2 made calls it workspaceDirectory.
        sql`ALTER TABLE \`AppCheckpoints\`
  CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  MODIFY \`sessionId\` VARCHAR(255) NOT NULL,
  MODIFY \`hostname\` VARCHAR(255) NOT NULL,
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
  yield* Effect.forEach(LIST_INDEXES, ([table, columns]) =>
    createIndex(
      sql,
      `${table}_${columns.join("_")}`,
      table,
      sql.csv(columns.map((column) => sql`${sql(column)}`))
    ), { discard: true })
})

// Each checkpoint records the checkpoint it continues (lineage) and the size of its state (limits, statistics).
// The size of existing rows is computed once here: bytes of the JSON text, as the store computes it.
const addLineageAndSize = Effect.gen(function*() {
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  const integerType = sql.onDialectOrElse({ sqlite: () => sql.literal("INTEGER"), orElse: () => sql.literal("BIGINT") })
  const stateBytes = utf8Bytes(sql, "state")
  for (const table of ["AgentCheckpoints", "AppCheckpoints"]) {
    for (const column of ["parentId", "sizeBytes"]) {
      if (!(yield* columnExists(sql, table, column))) {
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
  yield* createIndex(
    sql,
    `${IMPORT_LEDGER_TABLE}_target`,
    IMPORT_LEDGER_TABLE,
    sql`${sql("sourceKey")}, ${sql("tableName")}, ${sql("targetId")}`,
    { unique: true }
  )
})

// Token Ring renamed the app checkpoints' directory: projectDirectory (drizzle-storage) became workspaceDirectory
// (bun-storage 0.2). A table bun-storage made has it already; on MySQL the column gets the type migration 1 gives
// the others.
const renameProjectDirectory = Effect.gen(function*() {
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  const renamed = yield* columnExists(sql, "AppCheckpoints", "workspaceDirectory")
  yield* sql.onDialectOrElse({
    mysql: () =>
      renamed
        ? sql`ALTER TABLE \`AppCheckpoints\` MODIFY \`workspaceDirectory\` TEXT NOT NULL`
        : sql`ALTER TABLE \`AppCheckpoints\` CHANGE \`projectDirectory\` \`workspaceDirectory\` TEXT NOT NULL`,
    orElse: () =>
      renamed
        ? Effect.void
        : sql`ALTER TABLE ${sql("AppCheckpoints")} RENAME COLUMN ${sql("projectDirectory")} TO ${sql("workspaceDirectory")}`
  })
})

// Token Ring's agent metrics, one row per agent, as bun-storage 0.2 creates them; on MySQL the metrics are LONGTEXT
// and the agentId binary-collated, as the checkpoint tables are (a table bun-storage made is brought to that).
const createAgentMetrics = Effect.gen(function*() {
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  yield* sql.onDialectOrElse({
    pg: () =>
      sql`CREATE TABLE IF NOT EXISTS "AgentMetrics" (
  "agentId" TEXT PRIMARY KEY NOT NULL,
  "metrics" TEXT NOT NULL,
  "updatedAt" BIGINT NOT NULL
)`,
    mysql: () =>
      Effect.zipRight(
        sql`CREATE TABLE IF NOT EXISTS \`AgentMetrics\` (
  \`agentId\` VARCHAR(255) NOT NULL,
  \`metrics\` LONGTEXT NOT NULL,
  \`updatedAt\` BIGINT NOT NULL,
  PRIMARY KEY (\`agentId\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
        sql`ALTER TABLE \`AgentMetrics\`
  CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  MODIFY \`agentId\` VARCHAR(255) NOT NULL,
  MODIFY \`metrics\` LONGTEXT NOT NULL`
      ),
    orElse: () =>
      sql`CREATE TABLE IF NOT EXISTS "AgentMetrics" (
  "agentId" TEXT PRIMARY KEY NOT NULL,
  "metrics" TEXT NOT NULL,
  "updatedAt" INTEGER NOT NULL
)`
  })
  yield* createIndex(sql, "AgentMetrics_updatedAt_agentId", "AgentMetrics", sql`${sql("updatedAt")}, ${sql("agentId")}`)
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
  "4_import_ledger": createImportLedger,
  "5_workspace_directory": renameProjectDirectory,
  "6_agent_metrics": createAgentMetrics
}

