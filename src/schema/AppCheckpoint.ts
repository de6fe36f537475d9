/**
 * App session checkpoints: the shapes of Token Ring's `AppCheckpointStorage`.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { CheckpointId, ParentId, CheckpointState, CreatedAt, Identifier, WorkspaceDirectory } from "./CheckpointFields.js"

/**
 * What a caller stores: the state of one app session.
 *
 * @since 0.1.0
 */
export const AppSessionCheckpoint = Schema.Struct({
  sessionId: Identifier,
  hostname: Identifier,
  workspaceDirectory: WorkspaceDirectory,
  state: CheckpointState,
  createdAt: CreatedAt,
  /** The checkpoint this one continues (see `fork`). Absent for a checkpoint that starts a history. */
  parentId: Schema.optional(ParentId)
}).annotations({ identifier: "AppSessionCheckpoint" })

/**
 * @since 0.1.0
 */
export interface AppSessionCheckpoint extends Schema.Schema.Type<typeof AppSessionCheckpoint> {}

/**
 * A stored app checkpoint, with the id the database gave it.
 *
 * @since 0.1.0
 */
export const StoredAppCheckpoint = Schema.Struct({
  id: CheckpointId,
  ...AppSessionCheckpoint.fields
}).annotations({ identifier: "StoredAppCheckpoint" })

/**
 * @since 0.1.0
 */
export interface StoredAppCheckpoint extends Schema.Schema.Type<typeof StoredAppCheckpoint> {}

/**
 * One entry of an app checkpoint list: everything but the state.
 *
 * @since 0.1.0
 */
export const AppSessionListItem = StoredAppCheckpoint.pipe(Schema.omit("state")).annotations({
  identifier: "AppSessionListItem"
})

/**
 * @since 0.1.0
 */
export interface AppSessionListItem extends Schema.Schema.Type<typeof AppSessionListItem> {}
