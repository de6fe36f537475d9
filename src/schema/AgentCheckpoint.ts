/**
 * Agent checkpoints: the shapes of Token Ring's `AgentCheckpointStorage`.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { CheckpointId, ParentId, CheckpointName, CheckpointState, CreatedAt, Identifier } from "./CheckpointFields.js"

/**
 * What a caller stores: one step of an agent's state.
 *
 * @since 0.1.0
 */
export const NamedAgentCheckpoint = Schema.Struct({
  agentId: Identifier,
  sessionId: Identifier,
  agentType: Identifier,
  name: CheckpointName,
  state: CheckpointState,
  createdAt: CreatedAt,
  /** The checkpoint this one continues (see `fork`). Absent for a checkpoint that starts a history. */
  parentId: Schema.optional(ParentId)
}).annotations({ identifier: "NamedAgentCheckpoint" })

/**
 * @since 0.1.0
 */
export interface NamedAgentCheckpoint extends Schema.Schema.Type<typeof NamedAgentCheckpoint> {}

/**
 * A stored agent checkpoint, with the id the database gave it.
 *
 * @since 0.1.0
 */
export const StoredAgentCheckpoint = Schema.Struct({
  id: CheckpointId,
  ...NamedAgentCheckpoint.fields
}).annotations({ identifier: "StoredAgentCheckpoint" })

/**
 * @since 0.1.0
 */
export interface StoredAgentCheckpoint extends Schema.Schema.Type<typeof StoredAgentCheckpoint> {}

/**
 * One entry of an agent checkpoint list: everything but the state.
 *
 * @since 0.1.0
 */
export const AgentCheckpointListItem = StoredAgentCheckpoint.pipe(Schema.omit("state")).annotations({
  identifier: "AgentCheckpointListItem"
})

/**
 * @since 0.1.0
 */
export interface AgentCheckpointListItem extends Schema.Schema.Type<typeof AgentCheckpointListItem> {}
