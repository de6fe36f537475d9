/**
 * The live schema of a database compared with the one the migrations create: which migrations are recorded, and
 * for each table the migrations create, its columns and its indexes as the database's catalog reports them, with
 * the statement that fixes each difference. It reads the catalog only: building a report changes nothing.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import { refailSqlError } from "../internal/refailSqlError.js"
import type { Dialect, StorageConnectionError, StorageQueryError } from "../services/CheckpointStorageError.js"
import { DEFAULT_MIGRATIONS_TABLE } from "./CheckpointMigrations.js"
import {
  type ExpectedColumn,
  type ExpectedIndex,
  expectedMigrations,
  type ExpectedTable,
  expectedTables,
  expectedVersion,
  MYSQL_COLLATION
} from "./CheckpointSchemaExpected.js"

/**
 * How to fix a difference: run the migrations, run a statement, or (SQLite, which cannot change a column in place)
 * copy the checkpoints into a new database.
 *
 * @since 0.1.0
 */
export type SchemaFix =
  | { readonly _tag: "RunMigrations" }
  | { readonly _tag: "Statement"; readonly statement: string }
  | { readonly _tag: "CopyToNewDatabase"; readonly table: string }

/**
 * One thing checked: what was expected, what is there, and when they differ, how to fix it.
 *
 * @since 0.1.0
 */
export interface SchemaFinding {
  readonly status: "ok" | "missing" | "different" | "extra"
  /** What was checked: `migration 1 checkpoint_tables`, `table AppCheckpoints`, `column AppCheckpoints.state`, … */
  readonly subject: string
  readonly expected: string
  readonly actual: string
  readonly fix?: SchemaFix | undefined
}

/**
 * The live schema compared with the expected one.
 *
 * @since 0.1.0
 */
export interface SchemaReport {
  /** The id of the last migration recorded, 0 when none is. */
  readonly version: number
  readonly expectedVersion: number
  readonly findings: ReadonlyArray<SchemaFinding>
}

/**
 * A column as the catalog reports it.
 */
interface LiveColumn {
  readonly name: string
  /** Lower case; MySQL integer display widths ("bigint(20)") dropped. */
  readonly type: string
  readonly nullable: boolean
  /** MySQL only: the collation of a text column. */
  readonly collation: string | null
}

interface LiveIndex {
  readonly name: string
  readonly columns: ReadonlyArray<string>
}

const normalizeType = (type: string): string => type.toLowerCase().replace(/^(bigint|int|integer)\(\d+\)/, "$1").trim()

const textOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : String(value))

// The catalog of each dialect: whether a table exists, its columns, its indexes but the primary key.
const catalogOf = (sql: SqlClient.SqlClient, dialect: Dialect) => {
  switch (dialect) {
    case "pg":
      return {
        tableExists: (table: string) =>
          sql<{ readonly n: unknown }>`SELECT COUNT(*) AS n FROM information_schema.tables
WHERE table_schema = current_schema() AND table_name = ${table}`,
        columns: (table: string) =>
          Effect.map(
            sql<Record<string, unknown>>`SELECT column_name, data_type, is_nullable FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = ${table} ORDER BY ordinal_position`,
            (rows) =>
              rows.map((row): LiveColumn => ({
                name: String(row.column_name),
                type: normalizeType(String(row.data_type)),
                nullable: row.is_nullable === "YES",
                collation: null
              }))
          ),
        indexes: (table: string) =>
          sql<Record<string, unknown>>`SELECT i.relname AS index_name, a.attname AS column_name
FROM pg_index x
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
WHERE n.nspname = current_schema() AND t.relname = ${table} AND NOT x.indisprimary
ORDER BY i.relname, k.ord`
      }
    case "mysql":
      return {
        tableExists: (table: string) =>
          sql<{ readonly n: unknown }>`SELECT COUNT(*) AS n FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table}`,
        columns: (table: string) =>
          Effect.map(
            sql<Record<string, unknown>>`SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable,
COLLATION_NAME AS collation FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table} ORDER BY ORDINAL_POSITION`,
            (rows) =>
              rows.map((row): LiveColumn => ({
                name: String(row.name),
                type: normalizeType(String(row.type)),
                nullable: row.nullable === "YES",
                collation: textOrNull(row.collation)
              }))
          ),
        indexes: (table: string) =>
          sql<Record<string, unknown>>`SELECT INDEX_NAME AS index_name, COLUMN_NAME AS column_name
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table} AND INDEX_NAME <> 'PRIMARY'
ORDER BY INDEX_NAME, SEQ_IN_INDEX`
      }
    case "sqlite":
      return {
        tableExists: (table: string) =>
          sql<{ readonly n: unknown }>`SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ${table}`,
        columns: (table: string) =>
          Effect.map(
            sql<Record<string, unknown>>`SELECT name, type, "notnull" AS not_null, pk FROM pragma_table_info(${table})`,
            (rows) =>
              rows.map((row): LiveColumn => ({
                name: String(row.name),
                type: normalizeType(String(row.type)),
                // An INTEGER PRIMARY KEY is the rowid, and no column of a primary key takes NULL, whatever was
                // declared.
                nullable: Number(row.not_null) === 0 && Number(row.pk) === 0,
                collation: null
              }))
          ),
        // Only the indexes created by CREATE INDEX (origin 'c'), not those SQLite makes for a key.
        indexes: (table: string) =>
          sql<Record<string, unknown>>`SELECT il.name AS index_name, ii.name AS column_name
FROM pragma_index_list(${table}) il, pragma_index_info(il.name) ii WHERE il.origin = 'c'
ORDER BY il.name, ii.seqno`
      }
  }
}

const indexesOf = (rows: ReadonlyArray<Record<string, unknown>>): ReadonlyArray<LiveIndex> => {
  const indexes = new Map<string, Array<string>>()
  for (const row of rows) {
    const name = String(row.index_name)
    const columns = indexes.get(name) ?? []
    columns.push(String(row.column_name))
    indexes.set(name, columns)
  }
  return [...indexes].map(([name, columns]) => ({ name, columns }))
}

const appliedWith = (sql: SqlClient.SqlClient, dialect: Dialect, table: string) =>
  Effect.gen(function*() {
    const [exists] = yield* catalogOf(sql, dialect).tableExists(table)
    if (Number(exists?.n ?? 0) === 0) return [] as ReadonlyArray<readonly [number, string]>
    const rows = yield* sql<{ readonly migration_id: unknown; readonly name: unknown }>`SELECT migration_id, name FROM ${
      sql(table)
    } ORDER BY migration_id`
    return rows.map((row) => [Number(row.migration_id), String(row.name)] as const)
  })

/**
 * The migrations a database has recorded, as `[id, name]` in order (none when its migrations table does not exist).
 *
 * @since 0.1.0
 */
export const appliedMigrations = (options: {
  readonly dialect: Dialect
  readonly migrationsTable?: string | undefined
}): Effect.Effect<
  ReadonlyArray<readonly [id: number, name: string]>,
  StorageConnectionError | StorageQueryError,
  SqlClient.SqlClient
> =>
  Effect.flatMap(SqlClient.SqlClient, (client) =>
    appliedWith(client.withoutTransforms(), options.dialect, options.migrationsTable ?? DEFAULT_MIGRATIONS_TABLE)).pipe(
      Effect.mapError(refailSqlError(options.dialect, "appliedMigrations")),
      Effect.withSpan("CheckpointStorage.appliedMigrations")
    )

const quote = (dialect: Dialect, name: string) => (dialect === "mysql" ? `\`${name}\`` : `"${name}"`)

const isText = (type: string) => /text|char/.test(type)

const describeColumn = (column: { readonly type: string; readonly nullable: boolean }) =>
  `${column.type} ${column.nullable ? "NULL" : "NOT NULL"}`

// The statement that gives a column its expected type (or adds it).
const columnFix = (dialect: Dialect, table: ExpectedTable, column: ExpectedColumn, exists: boolean): SchemaFix => {
  const t = quote(dialect, table.name)
  const c = quote(dialect, column.name)
  const nullability = column.nullable ? "NULL" : "NOT NULL"
  switch (dialect) {
    case "pg":
      return {
        _tag: "Statement",
        statement: exists
          ? `ALTER TABLE ${t} ALTER COLUMN ${c} TYPE ${column.type}, ALTER COLUMN ${c} ${column.nullable ? "DROP" : "SET"} NOT NULL`
          : `ALTER TABLE ${t} ADD COLUMN ${c} ${column.type} ${nullability}`
      }
    case "mysql": {
      const collate = table.binaryCollation && isText(column.type) ? ` COLLATE ${MYSQL_COLLATION}` : ""
      return {
        _tag: "Statement",
        statement: `ALTER TABLE ${t} ${exists ? "MODIFY" : "ADD COLUMN"} ${c} ${column.type.toUpperCase()}${collate} ${nullability}`
      }
    }
    case "sqlite":
      return exists
        ? { _tag: "CopyToNewDatabase", table: table.name }
        : { _tag: "Statement", statement: `ALTER TABLE ${t} ADD COLUMN ${c} ${column.type.toUpperCase()} ${nullability}` }
  }
}

const indexFix = (dialect: Dialect, table: ExpectedTable, index: ExpectedIndex): SchemaFix => ({
  _tag: "Statement",
  statement: `CREATE ${index.unique ? "UNIQUE " : ""}INDEX ${quote(dialect, index.name)} ON ${quote(dialect, table.name)} (${
    index.columns.map((column) => quote(dialect, column)).join(", ")
  })`
})

const inspect = (sql: SqlClient.SqlClient, dialect: Dialect, migrationsTable: string) =>
  Effect.gen(function*() {
    const catalog = catalogOf(sql, dialect)
    const findings: Array<SchemaFinding> = []
    const applied = yield* appliedWith(sql, dialect, migrationsTable)
    const appliedIds = new Set(applied.map(([id]) => id))
    const allApplied = expectedMigrations.every(([id]) => appliedIds.has(id))
    for (const [id, name] of expectedMigrations) {
      const subject = `migration ${id} ${name}`
      findings.push(
        appliedIds.has(id)
          ? { status: "ok", subject, expected: "applied", actual: "applied" }
          : { status: "missing", subject, expected: "applied", actual: "not applied", fix: { _tag: "RunMigrations" } }
      )
    }
    for (const table of expectedTables(dialect)) {
      const columns = yield* catalog.columns(table.name)
      if (columns.length === 0) {
        findings.push({
          status: "missing",
          subject: `table ${table.name}`,
          expected: "present",
          actual: "absent",
          fix: { _tag: "RunMigrations" }
        })
        continue
      }
      const withCollation = (column: { readonly type: string; readonly nullable: boolean }, collation: string | null) =>
        `${describeColumn(column)}${dialect === "mysql" && collation !== null ? ` ${collation}` : ""}`
      for (const expected of table.columns) {
        const subject = `column ${table.name}.${expected.name}`
        const actual = columns.find((column) => column.name === expected.name)
        if (actual === undefined) {
          findings.push({
            status: "missing",
            subject,
            expected: describeColumn(expected),
            actual: "absent",
            // A migration not yet applied adds it; otherwise someone dropped it.
            fix: allApplied ? columnFix(dialect, table, expected, false) : { _tag: "RunMigrations" }
          })
          continue
        }
        const expectedCollation = dialect === "mysql" && table.binaryCollation && isText(expected.type)
          ? MYSQL_COLLATION
          : null
        const same = actual.type === expected.type && actual.nullable === expected.nullable &&
          (expectedCollation === null || actual.collation === expectedCollation)
        findings.push({
          status: same ? "ok" : "different",
          subject,
          expected: withCollation(expected, expectedCollation),
          actual: withCollation(actual, expectedCollation === null ? null : actual.collation),
          ...(same ? {} : { fix: columnFix(dialect, table, expected, true) })
        })
      }
      for (const extra of columns.filter((column) => !table.columns.some((expected) => expected.name === column.name))) {
        findings.push({
          status: "extra",
          subject: `column ${table.name}.${extra.name}`,
          expected: "absent",
          actual: describeColumn(extra)
        })
      }
      const indexes = indexesOf(yield* catalog.indexes(table.name))
      for (const expected of table.indexes) {
        const subject = `index ${table.name} (${expected.columns.join(", ")})`
        const actual = indexes.find((index) => index.columns.join(",") === expected.columns.join(","))
        findings.push(
          actual === undefined
            ? {
              status: "missing",
              subject,
              expected: expected.name,
              actual: "absent",
              fix: allApplied ? indexFix(dialect, table, expected) : { _tag: "RunMigrations" }
            }
            : { status: "ok", subject, expected: expected.name, actual: actual.name }
        )
      }
    }
    return { version: applied.at(-1)?.[0] ?? 0, expectedVersion, findings }
  })

/**
 * Compares the live schema with the one the migrations create: every migration (recorded or not), then every
 * table, column and index (present, absent, different, or extra), with how to fix each difference. Reads the
 * catalog only, so it can run on a database whose migrations have not been applied (over a client layer alone, not
 * a storage layer, whose building would apply them).
 *
 * @example
 * ```ts
 * import { PgClient } from "@effect/sql-pg"
 * import { Effect, Redacted } from "effect"
 * import { schemaReport } from "./CheckpointSchemaReport.js"
 *
 * const program = Effect.map(schemaReport({ dialect: "pg" }), (report) =>
 *   report.findings.filter((finding) => finding.status === "missing" || finding.status === "different"))
 *
 * Effect.runPromise(program.pipe(Effect.provide(PgClient.layer({ url: Redacted.make(process.env.DATABASE_URL!) }))))
 * ```
 *
 * @since 0.1.0
 */
export const schemaReport = (options: {
  readonly dialect: Dialect
  readonly migrationsTable?: string | undefined
}): Effect.Effect<SchemaReport, StorageConnectionError | StorageQueryError, SqlClient.SqlClient> =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (client): Effect.Effect<SchemaReport, SqlError> =>
      // The catalog's own column names are exact: the caller's name transforms must not bend them.
      inspect(client.withoutTransforms(), options.dialect, options.migrationsTable ?? DEFAULT_MIGRATIONS_TABLE)
  ).pipe(
    Effect.mapError(refailSqlError(options.dialect, "schemaReport")),
    Effect.withSpan("CheckpointStorage.schemaReport")
  )
