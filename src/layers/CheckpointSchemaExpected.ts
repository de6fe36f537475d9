/**
 * The schema the migrations create (src/layers/CheckpointMigrations.ts), as data per dialect: what a schema report
 * compares a live database with.
 *
 * @since 0.1.0
 */
import type { Dialect } from "../services/CheckpointStorageError.js"
import { checkpointMigrations, IMPORT_LEDGER_TABLE } from "./CheckpointMigrations.js"

/**
 * The migrations this package ships, as `[id, name]`, in the order they apply.
 *
 * @since 0.1.0
 */
export const expectedMigrations: ReadonlyArray<readonly [id: number, name: string]> = Object.keys(checkpointMigrations)
  .map((key) => {
    const [, id = "0", name = key] = /^(\d+)_(.*)$/.exec(key) ?? []
    return [Number(id), name] as const
  })
  .sort(([a], [b]) => a - b)

/**
 * The schema version this package expects: the id of its last migration.
 *
 * @since 0.1.0
 */
export const expectedVersion: number = expectedMigrations.at(-1)?.[0] ?? 0

/**
 * MySQL's binary collation of the checkpoint tables' text columns, so that identifiers compare exactly, as they do
 * on the other databases.
 *
 * @since 0.1.0
 */
export const MYSQL_COLLATION = "utf8mb4_bin"

/**
 * A column the migrations create: its type as the dialect's catalog reports it (lower case, MySQL integer display
 * widths dropped) and whether it takes NULL.
 *
 * @since 0.1.0
 */
export interface ExpectedColumn {
  readonly name: string
  readonly type: string
  readonly nullable: boolean
}

/**
 * An index the migrations create, with its columns in order.
 *
 * @since 0.1.0
 */
export interface ExpectedIndex {
  readonly name: string
  readonly columns: ReadonlyArray<string>
  readonly unique: boolean
}

/**
 * A table the migrations create.
 *
 * @since 0.1.0
 */
export interface ExpectedTable {
  readonly name: string
  readonly columns: ReadonlyArray<ExpectedColumn>
  /** Its indexes besides the primary key. */
  readonly indexes: ReadonlyArray<ExpectedIndex>
  /** MySQL: whether its text columns must have {@link MYSQL_COLLATION} (the import ledger keeps the server's). */
  readonly binaryCollation: boolean
}

type ColumnKind = "id" | "identifier" | "name" | "longIdentifier" | "state" | "integer" | "sourceKey" | "tableName"

// The types of migrations 1, 3, 4, 5 and 6 (see CheckpointMigrations.ts), as each catalog names them.
const columnTypes: Record<Dialect, Record<ColumnKind, string>> = {
  pg: {
    id: "bigint",
    identifier: "text",
    name: "text",
    longIdentifier: "text",
    state: "text",
    integer: "bigint",
    sourceKey: "character varying",
    tableName: "character varying"
  },
  mysql: {
    id: "bigint",
    identifier: "varchar(255)",
    name: "varchar(255)",
    longIdentifier: "text",
    state: "longtext",
    integer: "bigint",
    sourceKey: "varchar(64)",
    tableName: "varchar(32)"
  },
  sqlite: {
    id: "integer",
    identifier: "text",
    name: "text",
    longIdentifier: "text",
    state: "text",
    integer: "integer",
    sourceKey: "varchar(64)",
    tableName: "varchar(32)"
  }
}

const listIndex = (table: string, columns: ReadonlyArray<string>): ExpectedIndex => ({
  name: `${table}_${columns.join("_")}`,
  columns,
  unique: false
})

/**
 * The tables the migrations create on a dialect.
 *
 * @since 0.1.0
 */
export const expectedTables = (dialect: Dialect): ReadonlyArray<ExpectedTable> => {
  const types = columnTypes[dialect]
  const column = (name: string, kind: ColumnKind, nullable = false): ExpectedColumn => ({
    name,
    type: types[kind],
    nullable
  })
  return [
    {
      name: "AgentCheckpoints",
      columns: [
        column("id", "id"),
        column("sessionId", "identifier"),
        column("agentId", "identifier"),
        column("name", "name"),
        column("agentType", "identifier"),
        column("state", "state"),
        column("createdAt", "integer"),
        column("parentId", "integer", true),
        column("sizeBytes", "integer", true)
      ],
      indexes: [
        listIndex("AgentCheckpoints", ["createdAt", "id"]),
        listIndex("AgentCheckpoints", ["sessionId", "createdAt", "id"]),
        listIndex("AgentCheckpoints", ["agentId", "createdAt", "id"])
      ],
      binaryCollation: true
    },
    {
      name: "AppCheckpoints",
      columns: [
        column("id", "id"),
        column("sessionId", "identifier"),
        column("hostname", "identifier"),
        column("workspaceDirectory", "longIdentifier"),
        column("state", "state"),
        column("createdAt", "integer"),
        column("parentId", "integer", true),
        column("sizeBytes", "integer", true)
      ],
      indexes: [
        listIndex("AppCheckpoints", ["createdAt", "id"]),
        listIndex("AppCheckpoints", ["sessionId", "createdAt", "id"])
      ],
      binaryCollation: true
    },
    {
      name: "AgentMetrics",
      columns: [column("agentId", "identifier"), column("metrics", "state"), column("updatedAt", "integer")],
      indexes: [listIndex("AgentMetrics", ["updatedAt", "agentId"])],
      binaryCollation: true
    },
    {
      name: IMPORT_LEDGER_TABLE,
      columns: [
        column("sourceKey", "sourceKey"),
        column("tableName", "tableName"),
        column("sourceId", "integer"),
        column("targetId", "integer")
      ],
      indexes: [
        { name: `${IMPORT_LEDGER_TABLE}_target`, columns: ["sourceKey", "tableName", "targetId"], unique: true }
      ],
      binaryCollation: false
    }
  ]
}
