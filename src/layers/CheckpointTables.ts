/**
 * The two checkpoint tables as data: their names, their columns, the input they accept, the filters they answer
 * and the rows they return. The SQL implementation is written once over this description.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import type { CheckpointState } from "../schema/CheckpointFields.js"
import { NamedAgentCheckpoint } from "../schema/AgentCheckpoint.js"
import { AppSessionCheckpoint } from "../schema/AppCheckpoint.js"
import { ImportedAgentCheckpoint, ImportedAppCheckpoint } from "../schema/CheckpointImport.js"
import {
  AgentCheckpointFilter,
  AgentCheckpointListOptions,
  AgentCheckpointSelector,
  AppCheckpointFilter,
  AppCheckpointListOptions,
  AppCheckpointSelector
} from "../schema/CheckpointQuery.js"
import { BigIntColumn, IdColumn, OptionalIdColumn } from "./CheckpointColumns.js"

/**
 * A BIGINT column as the drivers return it, read as a number.
 *
 * @since 0.1.0
 */
export const NumberColumn = BigIntColumn

/**
 * The retention rules that keep the newest N rows per value of a column.
 *
 * @since 0.1.0
 */
export type KeepLastRule = "keepLastPerSession" | "keepLastPerAgent"

/**
 * A checkpoint table: its name, the input it stores, its filters and the columns of its list items. The
 * implementation is written once over this shape; each table's own types come from its Schemas (`ListItemOf`,
 * `StoredOf`).
 *
 * @since 0.1.0
 */
export interface CheckpointTable {
  readonly name: "AgentCheckpoints" | "AppCheckpoints"
  /** The schema of a caller's input; its name is the `subject` of validation errors. */
  readonly input: Schema.Schema.AnyNoContext
  readonly inputName: string
  /** The schema of a checkpoint to import (see schema/CheckpointImport.ts), and its name. */
  readonly imported: Schema.Schema.AnyNoContext
  readonly importedName: string
  /** The columns written from the input (`state`, `parentId` and `sizeBytes` are written by the storage). */
  readonly inputColumns: ReadonlyArray<string>
  /** The columns of a list item, in order. */
  readonly listColumns: ReadonlyArray<string>
  /** The columns of a full row: the list item's and the state. */
  readonly rowColumns: ReadonlyArray<string>
  /** A list row as the database returns it. Read without the input limits: a row written by drizzle-storage may
   * hold an empty or a long identifier. A NULL parentId is left out. */
  readonly listRow: Schema.Schema.AnyNoContext & { readonly fields: Schema.Struct.Fields }
  /** A full row: the list row and the state, still JSON text. */
  readonly row: Schema.Schema.AnyNoContext & { readonly fields: Schema.Struct.Fields }
  /** The columns a filter may match exactly. */
  readonly filterColumns: ReadonlyArray<string>
  readonly filter: Schema.Schema.AnyNoContext
  readonly listOptions: Schema.Schema.AnyNoContext
  /** What erasure by key accepts, and the columns it matches. */
  readonly selector: Schema.Schema.AnyNoContext
  readonly selectorColumns: ReadonlyArray<string>
  /** The retention rules that apply to this table, each with the column it groups by. */
  readonly keepLastRules: ReadonlyArray<readonly [KeepLastRule, string]>
  /** The section of a retention policy with this table's own rules. */
  readonly retentionSection: "agentCheckpoints" | "appCheckpoints"
  /** The column whose newest row `maxAgeSparesNewestPerAgent` keeps, if the table has that rule. */
  readonly maxAgeSparingColumn?: string | undefined
}

/**
 * A list item of the table: its list row as decoded.
 *
 * @since 0.1.0
 */
export type ListItemOf<T extends CheckpointTable> = Schema.Schema.Type<T["listRow"]>

/**
 * A stored checkpoint of the table: its full row as decoded, the state parsed from its JSON text.
 *
 * @since 0.1.0
 */
export type StoredOf<T extends CheckpointTable> =
  & Omit<Schema.Schema.Type<T["row"]>, "state">
  & { readonly state: CheckpointState }

const storedColumns = {
  id: IdColumn,
  createdAt: BigIntColumn,
  parentId: OptionalIdColumn
}

const checkpointTable = <T extends CheckpointTable>(table: T): T => table

const AgentListRow = Schema.Struct({
  ...storedColumns,
  sessionId: Schema.String,
  agentId: Schema.String,
  agentType: Schema.String,
  name: Schema.String
})

/**
 * @since 0.1.0
 */
export const agentCheckpoints = checkpointTable({
  name: "AgentCheckpoints",
  input: NamedAgentCheckpoint,
  inputName: "NamedAgentCheckpoint",
  imported: ImportedAgentCheckpoint,
  importedName: "ImportedAgentCheckpoint",
  inputColumns: ["sessionId", "agentId", "name", "agentType", "createdAt"],
  listColumns: ["id", "sessionId", "agentId", "agentType", "name", "createdAt", "parentId"],
  rowColumns: ["id", "sessionId", "agentId", "agentType", "name", "createdAt", "parentId", "state"],
  listRow: AgentListRow,
  row: Schema.Struct({ ...AgentListRow.fields, state: Schema.String }),
  filterColumns: ["sessionId", "agentId", "agentType"],
  filter: AgentCheckpointFilter,
  listOptions: AgentCheckpointListOptions,
  selector: AgentCheckpointSelector,
  selectorColumns: ["sessionId", "agentId"],
  keepLastRules: [["keepLastPerSession", "sessionId"], ["keepLastPerAgent", "agentId"]],
  retentionSection: "agentCheckpoints",
  maxAgeSparingColumn: "agentId"
})

const AppListRow = Schema.Struct({
  ...storedColumns,
  sessionId: Schema.String,
  hostname: Schema.String,
  workspaceDirectory: Schema.String
})

/**
 * @since 0.1.0
 */
export const appCheckpoints = checkpointTable({
  name: "AppCheckpoints",
  input: AppSessionCheckpoint,
  inputName: "AppSessionCheckpoint",
  imported: ImportedAppCheckpoint,
  importedName: "ImportedAppCheckpoint",
  inputColumns: ["sessionId", "hostname", "workspaceDirectory", "createdAt"],
  listColumns: ["id", "sessionId", "hostname", "workspaceDirectory", "createdAt", "parentId"],
  rowColumns: ["id", "sessionId", "hostname", "workspaceDirectory", "createdAt", "parentId", "state"],
  listRow: AppListRow,
  row: Schema.Struct({ ...AppListRow.fields, state: Schema.String }),
  filterColumns: ["sessionId", "hostname", "workspaceDirectory"],
  filter: AppCheckpointFilter,
  listOptions: AppCheckpointListOptions,
  selector: AppCheckpointSelector,
  selectorColumns: ["sessionId"],
  keepLastRules: [["keepLastPerSession", "sessionId"]],
  retentionSection: "appCheckpoints"
})
