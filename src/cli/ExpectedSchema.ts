/**
 * The schema the migrations create (see src/layers/CheckpointMigrations.ts and the README's "Tables and
 * migrations"), as data per dialect, for `doctor` to compare with a live database.
 */
import type { Dialect } from "../services/CheckpointStorageError.js"

/**
 * One expected column: its type as the dialect's catalog reports it (lower case, MySQL integer display widths
 * dropped) and whether it takes NULL.
 */
export interface ExpectedColumn {
  readonly name: string
  readonly type: string
  readonly nullable: boolean
}

/**
 * One expected table.
 */
export interface ExpectedTable {
  readonly name: "AgentCheckpoints" | "AppCheckpoints"
  readonly columns: ReadonlyArray<ExpectedColumn>
  /** The list indexes, by name, with their columns in order. */
  readonly indexes: ReadonlyArray<{ readonly name: string; readonly columns: ReadonlyArray<string> }>
}

type Kind = "id" | "identifier" | "name" | "longIdentifier" | "state" | "integer"

const types: Record<Dialect, Record<Kind, string>> = {
  pg: { id: "bigint", identifier: "text", name: "text", longIdentifier: "text", state: "text", integer: "bigint" },
  mysql: {
    id: "bigint",
    identifier: "varchar(255)",
    name: "varchar(255)",
    longIdentifier: "text",
    state: "longtext",
    integer: "bigint"
  },
  sqlite: { id: "integer", identifier: "text", name: "text", longIdentifier: "text", state: "text", integer: "integer" }
}

const index = (table: string, columns: ReadonlyArray<string>) => ({ name: `${table}_${columns.join("_")}`, columns })

/**
 * The expected tables of a dialect.
 */
export const expectedTables = (dialect: Dialect): ReadonlyArray<ExpectedTable> => {
  const t = types[dialect]
  const column = (name: string, kind: Kind, nullable = false): ExpectedColumn => ({ name, type: t[kind], nullable })
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
        index("AgentCheckpoints", ["createdAt", "id"]),
        index("AgentCheckpoints", ["sessionId", "createdAt", "id"]),
        index("AgentCheckpoints", ["agentId", "createdAt", "id"])
      ]
    },
    {
      name: "AppCheckpoints",
      columns: [
        column("id", "id"),
        column("sessionId", "identifier"),
        column("hostname", "identifier"),
        column("projectDirectory", "longIdentifier"),
        column("state", "state"),
        column("createdAt", "integer"),
        column("parentId", "integer", true),
        column("sizeBytes", "integer", true)
      ],
      indexes: [
        index("AppCheckpoints", ["createdAt", "id"]),
        index("AppCheckpoints", ["sessionId", "createdAt", "id"])
      ]
    }
  ]
}

/**
 * MySQL's binary collation for text columns, so that identifiers compare exactly, as on the other databases.
 */
export const MYSQL_COLLATION = "utf8mb4_bin"
