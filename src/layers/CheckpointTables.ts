/**
 * The two checkpoint tables as data: their names, their columns, the input they accept and the rows they return.
 * The SQL implementation is written once over this description.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { NamedAgentCheckpoint } from "../schema/AgentCheckpoint.js"
import { AppSessionCheckpoint } from "../schema/AppCheckpoint.js"

// Drivers return BIGINT as a number (mysql2, SQLite) or as decimal text (node-postgres): read either as a number.
const BigIntColumn = Schema.Union(
  Schema.Number,
  Schema.NumberFromString,
  Schema.transform(Schema.BigIntFromSelf, Schema.Number, {
    strict: true,
    decode: (n) => Number(n),
    encode: (n) => BigInt(n)
  })
)

const IdColumn = Schema.transform(BigIntColumn, Schema.String, {
  strict: true,
  decode: (n) => String(n),
  encode: (s) => Number(s)
})

/**
 * A checkpoint table: its name, the input it stores, and the columns of its list items (everything but `state`).
 *
 * @since 0.1.0
 */
export interface CheckpointTable<
  Input extends { readonly state: object },
  ListRow extends { readonly id: string },
  Row extends ListRow & { readonly state: string },
  ListRowEncoded = unknown,
  RowEncoded = unknown
> {
  readonly name: "AgentCheckpoints" | "AppCheckpoints"
  /** The schema of a caller's input; its name is the `subject` of validation errors. */
  readonly input: Schema.Schema<Input, Input>
  readonly inputName: string
  /** The columns written from the input, in order (all but `id`, which the database assigns). */
  readonly inputColumns: ReadonlyArray<Extract<keyof Input, string>>
  /** The columns of a list item, in order. */
  readonly listColumns: ReadonlyArray<string>
  /** A list row as the database returns it. Read without the input limits: a row written by drizzle-storage may
   * hold an empty or a long identifier. */
  readonly listRow: Schema.Schema<ListRow, ListRowEncoded>
  /** A full row: the list row and the state, still JSON text. */
  readonly row: Schema.Schema<Row, RowEncoded>
}

const storedColumns = { id: IdColumn, createdAt: BigIntColumn }

const checkpointTable = <
  Input extends { readonly state: object },
  ListRow extends { readonly id: string },
  Row extends ListRow & { readonly state: string },
  ListRowEncoded,
  RowEncoded
>(table: CheckpointTable<Input, ListRow, Row, ListRowEncoded, RowEncoded>) => table

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
  inputColumns: ["sessionId", "agentId", "name", "agentType", "state", "createdAt"],
  listColumns: ["id", "sessionId", "agentId", "agentType", "name", "createdAt"],
  listRow: AgentListRow,
  row: Schema.Struct({ ...AgentListRow.fields, state: Schema.String })
})

const AppListRow = Schema.Struct({
  ...storedColumns,
  sessionId: Schema.String,
  hostname: Schema.String,
  projectDirectory: Schema.String
})

/**
 * @since 0.1.0
 */
export const appCheckpoints = checkpointTable({
  name: "AppCheckpoints",
  input: AppSessionCheckpoint,
  inputName: "AppSessionCheckpoint",
  inputColumns: ["sessionId", "hostname", "projectDirectory", "state", "createdAt"],
  listColumns: ["id", "sessionId", "hostname", "projectDirectory", "createdAt"],
  listRow: AppListRow,
  row: Schema.Struct({ ...AppListRow.fields, state: Schema.String })
})
