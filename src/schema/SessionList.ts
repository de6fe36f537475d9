/**
 * The sessions and agents of the checkpoint tables, summarised and listed newest activity first, a keyset page at a
 * time: what an inspector (`ecs ui`) shows before anyone opens a checkpoint.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import { CreatedAt } from "./CheckpointFields.js"

/**
 * The largest page of sessions or agents one call returns. Each page aggregates the matching rows, so it is kept
 * smaller than a checkpoint page.
 *
 * @since 0.2.0
 */
export const MAX_SUMMARY_PAGE_SIZE = 500

/**
 * The page size of sessions and agents when none is given.
 *
 * @since 0.2.0
 */
export const DEFAULT_SUMMARY_PAGE_SIZE = 50

/**
 * How many agent ids (and agent types) a session summary names at most.
 *
 * @since 0.2.0
 */
export const MAX_SESSION_AGENTS = 10

const SummaryPageSize = Schema.Number.pipe(
  Schema.filter((n) =>
    (Number.isInteger(n) && n >= 1 && n <= MAX_SUMMARY_PAGE_SIZE) ||
    `must be a whole number from 1 to ${MAX_SUMMARY_PAGE_SIZE}`
  )
)

// Both bounds inclusive: a range of one millisecond (`from === to`) is the checkpoints of that millisecond.
const timeRange = {
  /** Only checkpoints with `createdAt >= from` (ms) count. */
  from: Schema.optional(CreatedAt),
  /** Only checkpoints with `createdAt <= to` (ms) count. */
  to: Schema.optional(CreatedAt)
}

const page = {
  /** The `nextCursor` of the previous page of the same query. */
  cursor: Schema.optional(Schema.String),
  /** 1 to {@link MAX_SUMMARY_PAGE_SIZE}; default {@link DEFAULT_SUMMARY_PAGE_SIZE}. */
  limit: Schema.optional(SummaryPageSize)
}

const fromNotAfterTo = <A extends { readonly from?: number | undefined; readonly to?: number | undefined }>(
  options: A
) =>
  options.from === undefined || options.to === undefined || options.from <= options.to ||
  { path: ["from"], message: "must not be after to" }

/**
 * Which sessions: those of one table (`kind`), with at least one checkpoint matching the filter. The summary of a
 * session counts only its matching checkpoints.
 *
 * @since 0.2.0
 */
export const SessionListOptions = Schema.Struct({
  kind: Schema.Literal("agent", "app"),
  /** Agent sessions only: checkpoints of this agent type. */
  agentType: Schema.optional(Schema.String),
  /** Agent sessions only: checkpoints of this agent. */
  agentId: Schema.optional(Schema.String),
  ...timeRange,
  ...page
}).pipe(
  Schema.filter(fromNotAfterTo),
  Schema.filter((options) =>
    options.kind === "agent" || (options.agentType === undefined && options.agentId === undefined) ||
    { path: [options.agentType === undefined ? "agentId" : "agentType"], message: "applies to agent sessions only" }
  ),
  Schema.annotations({ identifier: "SessionListOptions" })
)

/**
 * @since 0.2.0
 */
export type SessionListOptions = typeof SessionListOptions.Type

/**
 * Which agents: those with at least one agent checkpoint matching the filter.
 *
 * @since 0.2.0
 */
export const AgentListOptions = Schema.Struct({
  agentType: Schema.optional(Schema.String),
  ...timeRange,
  ...page
}).pipe(Schema.filter(fromNotAfterTo), Schema.annotations({ identifier: "AgentListOptions" }))

/**
 * @since 0.2.0
 */
export type AgentListOptions = typeof AgentListOptions.Type

/**
 * One session: its matching checkpoints counted, measured and dated.
 *
 * @since 0.2.0
 */
export interface SessionSummary {
  readonly sessionId: string
  readonly checkpoints: number
  /** The agents that wrote the counted checkpoints, in id order, at most {@link MAX_SESSION_AGENTS} (app: none). */
  readonly agentIds: ReadonlyArray<string>
  /** Their agent types, in order, at most {@link MAX_SESSION_AGENTS} (app: none). */
  readonly agentTypes: ReadonlyArray<string>
  readonly firstCreatedAt: number
  readonly lastCreatedAt: number
  /** The sum of the states' sizes: UTF-8 bytes of their JSON text, as `statistics` counts them. */
  readonly totalStateBytes: number
}

/**
 * One agent: its matching checkpoints counted, and the sessions they belong to.
 *
 * @since 0.2.0
 */
export interface AgentSummary {
  readonly agentId: string
  /** Its agent type (should one agent id have been stored with several, the greatest). */
  readonly agentType: string
  readonly checkpoints: number
  readonly sessions: number
  readonly lastCreatedAt: number
}

/**
 * One page of summaries, newest activity first (`lastCreatedAt` descending, then the key descending).
 *
 * @since 0.2.0
 */
export interface SummaryPage<A> {
  readonly items: ReadonlyArray<A>
  /** Pass it as `cursor` to read the next page; absent on the last page. */
  readonly nextCursor?: string | undefined
}
