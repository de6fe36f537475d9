/**
 * The export file: JSON Lines. The first line is a header naming the format and the export; each other line is one
 * checkpoint, its `state` a JSON object:
 *
 *   {"format":"effect-checkpoint-storage/jsonl","version":1,"exportId":"…","source":"postgres://me:***@db/agents","exportedAt":…}
 *   {"table":"agent","id":"1","parentId":null,"sessionId":"s","agentId":"a","agentType":"coder","name":"step-1","createdAt":…,"state":{…}}
 *   {"table":"app","id":"1","parentId":null,"sessionId":"s","hostname":"h","workspaceDirectory":"/p","createdAt":…,"state":{…}}
 */
import * as Schema from "effect/Schema"
import * as Crypto from "node:crypto"

/**
 * The `format` of the header line.
 */
export const EXPORT_FORMAT = "effect-checkpoint-storage/jsonl"

/**
 * The header line.
 */
export const ExportHeader = Schema.Struct({
  format: Schema.Literal(EXPORT_FORMAT),
  version: Schema.Literal(1),
  /** Unique per export: an import records it, so importing the same file again adds nothing. */
  exportId: Schema.String,
  source: Schema.optional(Schema.String),
  exportedAt: Schema.optional(Schema.Number)
})

/**
 * @since 0.1.0
 */
export type ExportHeader = typeof ExportHeader.Type

const Id = Schema.Union(Schema.String, Schema.Number).pipe(
  Schema.filter((id) => /^[1-9]\d{0,15}$/.test(String(id)) || "must be a positive whole number")
)
const StateObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })
const shared = {
  id: Id,
  parentId: Schema.optional(Schema.NullOr(Id)),
  sessionId: Schema.String,
  createdAt: Schema.Number,
  state: StateObject
}

const AppLine = Schema.Struct({
  table: Schema.Literal("app"),
  ...shared,
  hostname: Schema.String,
  workspaceDirectory: Schema.String
})

// Files exported before Token Ring renamed the directory (and this package with it) call it projectDirectory.
const ProjectDirectoryAppLine = Schema.transform(
  Schema.Struct({ table: Schema.Literal("app"), ...shared, hostname: Schema.String, projectDirectory: Schema.String }),
  Schema.typeSchema(AppLine),
  {
    strict: true,
    decode: ({ projectDirectory, ...line }) => ({ ...line, workspaceDirectory: projectDirectory }),
    encode: ({ workspaceDirectory, ...line }) => ({ ...line, projectDirectory: workspaceDirectory })
  }
)

/**
 * A checkpoint line.
 */
export const ExportLine = Schema.Union(
  Schema.Struct({
    table: Schema.Literal("agent"),
    ...shared,
    agentId: Schema.String,
    agentType: Schema.String,
    name: Schema.String
  }),
  AppLine,
  ProjectDirectoryAppLine
)

/**
 * @since 0.1.0
 */
export type ExportLine = typeof ExportLine.Type

/**
 * A new export's header line (with its newline): a fresh export id, the source as people see it (password masked).
 */
export const exportHeaderLine = (source: string): string => {
  const header: ExportHeader = {
    format: EXPORT_FORMAT,
    version: 1,
    exportId: Crypto.randomUUID(),
    source,
    exportedAt: Date.now()
  }
  return `${JSON.stringify(header)}\n`
}

/**
 * One checkpoint as its line (with its newline): `table`, `id` and `parentId` (null when it has none) first, then the
 * stored fields, state included. `ecs export` and the inspector's session download both write lines with it.
 */
export const exportLine = (
  table: "agent" | "app",
  { id, parentId, ...fields }: { readonly id: string; readonly parentId?: string | undefined }
): string => `${JSON.stringify({ table, id, parentId: parentId ?? null, ...fields })}\n`
