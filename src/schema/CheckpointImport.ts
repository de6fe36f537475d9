/**
 * Importing checkpoints from elsewhere (an export file, another database) with the ids they had there.
 *
 * @since 0.1.0
 */
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { NamedAgentCheckpoint } from "./AgentCheckpoint.js"
import { AppSessionCheckpoint } from "./AppCheckpoint.js"
import { ParentId } from "./CheckpointFields.js"

const sourceIds = {
  /** Its id in the source. */
  sourceId: ParentId,
  /** The source id of the checkpoint it continues, if any: written as the new id of that checkpoint. */
  sourceParentId: Schema.optional(ParentId)
}

/**
 * An agent checkpoint to import: the checkpoint (its `createdAt` is kept) and the ids it had in its source.
 *
 * @since 0.1.0
 */
export const ImportedAgentCheckpoint = Schema.Struct({
  ...sourceIds,
  checkpoint: NamedAgentCheckpoint.pipe(Schema.omit("parentId"))
}).annotations({ identifier: "ImportedAgentCheckpoint" })

/**
 * @since 0.1.0
 */
export interface ImportedAgentCheckpoint extends Schema.Schema.Type<typeof ImportedAgentCheckpoint> {}

/**
 * An app checkpoint to import.
 *
 * @since 0.1.0
 */
export const ImportedAppCheckpoint = Schema.Struct({
  ...sourceIds,
  checkpoint: AppSessionCheckpoint.pipe(Schema.omit("parentId"))
}).annotations({ identifier: "ImportedAppCheckpoint" })

/**
 * @since 0.1.0
 */
export interface ImportedAppCheckpoint extends Schema.Schema.Type<typeof ImportedAppCheckpoint> {}

/**
 * What one import call did.
 *
 * @since 0.1.0
 */
export interface ImportResult {
  /** Checkpoints written now. */
  readonly written: number
  /** Checkpoints this source had already imported: not written again. */
  readonly skipped: number
  /** Checkpoints whose parent the target does not hold: written without a parent. */
  readonly orphans: number
  /** For every checkpoint given (written or skipped), the id it has in this storage. */
  readonly ids: ReadonlyArray<{ readonly sourceId: string; readonly id: string }>
}

/**
 * How much of a source a table holds.
 *
 * @since 0.1.0
 */
export interface ImportPosition {
  readonly imported: number
  /** The highest source id imported, if any: an import that resumes starts after it. */
  readonly lastSourceId: Option.Option<string>
}
