/**
 * What callers ask of the stored checkpoints: filters, list pages, streams, retention policies, statistics.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { CreatedAt } from "./CheckpointFields.js"

/**
 * The largest page a list call returns.
 *
 * @since 0.1.0
 */
export const MAX_PAGE_SIZE = 10_000

/**
 * The page size when none is given.
 *
 * @since 0.1.0
 */
export const DEFAULT_PAGE_SIZE = 50

const PageSize = Schema.Number.pipe(
  Schema.filter((n) => (Number.isInteger(n) && n >= 1 && n <= MAX_PAGE_SIZE) || `must be a whole number from 1 to ${MAX_PAGE_SIZE}`)
)

const KeepCount = Schema.Number.pipe(
  Schema.filter((n) => (Number.isSafeInteger(n) && n >= 1) || "must be a whole number, 1 or more")
)

const Count = Schema.Number.pipe(
  Schema.filter((n) => (Number.isSafeInteger(n) && n >= 0) || "must be a whole number, 0 or more")
)

// "30 days", a number of milliseconds, or a Duration: whatever Duration.decode accepts.
const DurationInput = Schema.declare(
  (input: unknown): input is Duration.DurationInput => Option.isSome(Duration.decodeUnknown(input)),
  { identifier: "DurationInput", message: () => "must be a duration (\"30 days\", milliseconds, or a Duration)" }
)

const createdAtRange = {
  /** Only checkpoints created before this time (`createdAt < before`, ms). */
  before: Schema.optional(CreatedAt),
  /** Only checkpoints created after this time (`createdAt > after`, ms). */
  after: Schema.optional(CreatedAt)
}

/**
 * Which agent checkpoints: every given field must match exactly.
 *
 * @since 0.1.0
 */
export const AgentCheckpointFilter = Schema.Struct({
  sessionId: Schema.optional(Schema.String),
  agentId: Schema.optional(Schema.String),
  agentType: Schema.optional(Schema.String),
  ...createdAtRange
}).annotations({ identifier: "AgentCheckpointFilter" })

/**
 * @since 0.1.0
 */
export interface AgentCheckpointFilter extends Schema.Schema.Type<typeof AgentCheckpointFilter> {}

/**
 * Which app checkpoints: every given field must match exactly.
 *
 * @since 0.1.0
 */
export const AppCheckpointFilter = Schema.Struct({
  sessionId: Schema.optional(Schema.String),
  hostname: Schema.optional(Schema.String),
  workspaceDirectory: Schema.optional(Schema.String),
  ...createdAtRange
}).annotations({ identifier: "AppCheckpointFilter" })

/**
 * @since 0.1.0
 */
export interface AppCheckpointFilter extends Schema.Schema.Type<typeof AppCheckpointFilter> {}

const pageOptions = {
  /** Sort by `createdAt` (ties by id) or by `id`. Default `createdAt`. */
  orderBy: Schema.optional(Schema.Literal("createdAt", "id")),
  /** Default `DESC`: newest first. */
  orderDir: Schema.optional(Schema.Literal("ASC", "DESC")),
  /** The page size, 1 to {@link MAX_PAGE_SIZE}. Default {@link DEFAULT_PAGE_SIZE}. */
  limit: Schema.optional(PageSize),
  /** The `nextCursor` of the previous page, to read the next one (keyset: no rows are skipped or read twice). */
  cursor: Schema.optional(Schema.String),
  /** Skip this many rows first (Token Ring's offset paging; costs a scan of the skipped rows). Not with `cursor`. */
  offset: Schema.optional(Count),
  /** Also count every matching row (one more query). */
  includeTotal: Schema.optional(Schema.Boolean)
}

/**
 * A list request for agent checkpoints: a filter, an order, a page.
 *
 * @since 0.1.0
 */
export const AgentCheckpointListOptions = Schema.Struct({ ...AgentCheckpointFilter.fields, ...pageOptions })
  .annotations({ identifier: "AgentCheckpointListOptions" })

/**
 * @since 0.1.0
 */
export interface AgentCheckpointListOptions extends Schema.Schema.Type<typeof AgentCheckpointListOptions> {}

/**
 * A list request for app checkpoints.
 *
 * @since 0.1.0
 */
export const AppCheckpointListOptions = Schema.Struct({ ...AppCheckpointFilter.fields, ...pageOptions })
  .annotations({ identifier: "AppCheckpointListOptions" })

/**
 * @since 0.1.0
 */
export interface AppCheckpointListOptions extends Schema.Schema.Type<typeof AppCheckpointListOptions> {}

/**
 * One page of a list.
 *
 * @since 0.1.0
 */
export interface CheckpointPage<A> {
  readonly items: ReadonlyArray<A>
  /** Pass it as `cursor` to read the next page; None on the last page. */
  readonly nextCursor: Option.Option<string>
  /** The number of matching rows, when `includeTotal` was asked for. */
  readonly total: Option.Option<number>
}

/**
 * How to read a stream: a filter, an order, and how many rows to read per round trip (default 1000).
 * `includeState: true` streams full checkpoints instead of list items.
 *
 * @since 0.1.0
 */
export interface CheckpointStreamOptions {
  readonly orderBy?: "createdAt" | "id" | undefined
  readonly orderDir?: "ASC" | "DESC" | undefined
  readonly pageSize?: number | undefined
  readonly includeState?: boolean | undefined
}

/**
 * Which checkpoints to erase: everything of a session, or of an agent (at least one of them).
 *
 * @since 0.1.0
 */
export const AgentCheckpointSelector = Schema.Struct({
  sessionId: Schema.optional(Schema.String),
  agentId: Schema.optional(Schema.String)
}).pipe(
  Schema.filter((selector) =>
    selector.sessionId !== undefined || selector.agentId !== undefined || "must name a sessionId or an agentId"
  ),
  Schema.annotations({ identifier: "AgentCheckpointSelector" })
)

/**
 * @since 0.1.0
 */
export type AgentCheckpointSelector = typeof AgentCheckpointSelector.Type

/**
 * Which app checkpoints to erase: everything of a session.
 *
 * @since 0.1.0
 */
export const AppCheckpointSelector = Schema.Struct({ sessionId: Schema.String }).annotations({
  identifier: "AppCheckpointSelector"
})

/**
 * @since 0.1.0
 */
export type AppCheckpointSelector = typeof AppCheckpointSelector.Type

// The rules of one checkpoint table. Each removes what it names; together they keep only what every rule keeps.
const tableRules = {
  /** Keep the newest N checkpoints of each session. */
  keepLastPerSession: Schema.optional(KeepCount),
  /** Keep the newest N checkpoints of the table. */
  keepLast: Schema.optional(KeepCount),
  /** Remove checkpoints whose createdAt is older than this (relative to the clock when the rule applies). */
  maxAge: Schema.optional(DurationInput)
}

/**
 * The retention rules of the agent checkpoints alone.
 *
 * @since 0.1.0
 */
export const AgentCheckpointRetention = Schema.Struct({
  ...tableRules,
  /** Keep the newest N agent checkpoints of each agent. */
  keepLastPerAgent: Schema.optional(KeepCount),
  /** `maxAge` never removes an agent's newest checkpoint, however old (Token Ring's `keepLatest`). */
  maxAgeSparesNewestPerAgent: Schema.optional(Schema.Boolean)
}).annotations({ identifier: "AgentCheckpointRetention" })

/**
 * @since 0.1.0
 */
export type AgentCheckpointRetention = typeof AgentCheckpointRetention.Type

/**
 * The retention rules of the app checkpoints alone.
 *
 * @since 0.1.0
 */
export const AppCheckpointRetention = Schema.Struct(tableRules).annotations({ identifier: "AppCheckpointRetention" })

/**
 * @since 0.1.0
 */
export type AppCheckpointRetention = typeof AppCheckpointRetention.Type

/**
 * How long checkpoints and metrics are kept. The rules at the top apply to both checkpoint tables; a table's own
 * section adds rules for it alone, and where both name a rule the section's wins. A table's rules apply one after
 * another: per session, per agent, the newest N overall, then by age. Each removes what it names; together they
 * keep only what every rule keeps.
 *
 * @since 0.1.0
 */
export const RetentionPolicy = Schema.Struct({
  /** Keep the newest N checkpoints of each session (agent and app checkpoints). */
  keepLastPerSession: Schema.optional(KeepCount),
  /** Keep the newest N agent checkpoints of each agent. */
  keepLastPerAgent: Schema.optional(KeepCount),
  /** Remove checkpoints whose createdAt is older than this (relative to the clock when the rule applies). */
  maxAge: Schema.optional(DurationInput),
  /** Rules for the agent checkpoints alone. */
  agentCheckpoints: Schema.optional(AgentCheckpointRetention),
  /** Rules for the app checkpoints alone. */
  appCheckpoints: Schema.optional(AppCheckpointRetention),
  /** Remove agent metrics not updated for this long (applied by `prune`, not at store time). */
  agentMetrics: Schema.optional(Schema.Struct({ maxAge: Schema.optional(DurationInput) }))
}).annotations({ identifier: "RetentionPolicy" })

/**
 * @since 0.1.0
 */
export interface RetentionPolicy {
  readonly keepLastPerSession?: number | undefined
  readonly keepLastPerAgent?: number | undefined
  readonly maxAge?: Duration.DurationInput | undefined
  readonly agentCheckpoints?: {
    readonly keepLastPerSession?: number | undefined
    readonly keepLastPerAgent?: number | undefined
    readonly keepLast?: number | undefined
    readonly maxAge?: Duration.DurationInput | undefined
    readonly maxAgeSparesNewestPerAgent?: boolean | undefined
  } | undefined
  readonly appCheckpoints?: {
    readonly keepLastPerSession?: number | undefined
    readonly keepLast?: number | undefined
    readonly maxAge?: Duration.DurationInput | undefined
  } | undefined
  readonly agentMetrics?: { readonly maxAge?: Duration.DurationInput | undefined } | undefined
}

/**
 * How many rows a prune removed, per table.
 *
 * @since 0.1.0
 */
export interface PruneResult {
  readonly agentCheckpoints: number
  readonly appCheckpoints: number
  readonly agentMetrics: number
  /** The sum of the removed states' and metrics' sizes, in UTF-8 bytes of their JSON text. */
  readonly freedBytes: number
}

/**
 * What a prune would delete from one table, computed without deleting anything.
 *
 * @since 0.1.0
 */
export interface TablePrunePlan<A> {
  /** How many checkpoints would go. */
  readonly count: number
  /** The sum of their states' encoded sizes, in bytes. */
  readonly bytes: number
  /** The first of them (by id; metrics by agentId), at most `sampleSize`. */
  readonly sample: ReadonlyArray<A>
}

/**
 * How a prune is carried out.
 *
 * @since 0.1.0
 */
export interface PruneOptions {
  /** How many checkpoints one DELETE removes at most (each its own statement). Default 1000. */
  readonly batchSize?: number | undefined
  /**
   * Apply each rule in one transaction (its batches inside it): a crash or an interruption leaves every rule applied
   * whole or not at all. The rule's rows stay locked until it ends. Default false: each batch commits on its own.
   */
  readonly atomicRules?: boolean | undefined
  /** Called after each batch with how far the prune has come. */
  readonly onProgress?: ((progress: PruneProgress) => Effect.Effect<void>) | undefined
}

/**
 * How far a prune has come: sent after each batch.
 *
 * @since 0.1.0
 */
export interface PruneProgress {
  readonly table: "AgentCheckpoints" | "AppCheckpoints" | "AgentMetrics"
  /** Rows deleted from this table so far. */
  readonly deleted: number
}

/**
 * The checkpoints of one session in one table.
 *
 * @since 0.1.0
 */
export interface SessionStatistics {
  readonly sessionId: string
  readonly count: number
  readonly totalBytes: number
  readonly oldestCreatedAt: number
  readonly newestCreatedAt: number
}

/**
 * What a prune would delete, per table.
 *
 * @since 0.1.0
 */
export interface PrunePlan<AgentItem = unknown, AppItem = unknown, MetricsItem = unknown> {
  readonly agentCheckpoints: TablePrunePlan<AgentItem>
  readonly appCheckpoints: TablePrunePlan<AppItem>
  readonly agentMetrics: TablePrunePlan<MetricsItem>
}

/**
 * The size and age of one table.
 *
 * @since 0.1.0
 */
export interface TableStatistics {
  readonly count: number
  /** The sum of the states' encoded sizes, in bytes (UTF-8 JSON). */
  readonly totalBytes: number
  readonly largestBytes: number
  readonly oldestCreatedAt: Option.Option<number>
  readonly newestCreatedAt: Option.Option<number>
}

/**
 * @since 0.1.0
 */
export interface StorageStatistics {
  readonly agentCheckpoints: TableStatistics
  readonly appCheckpoints: TableStatistics
}

/**
 * What a fork changes in the checkpoint it continues from (everything else is copied; createdAt defaults to now).
 *
 * @since 0.1.0
 */
export interface AgentCheckpointChanges {
  readonly agentId?: string | undefined
  readonly sessionId?: string | undefined
  readonly agentType?: string | undefined
  readonly name?: string | undefined
  readonly state?: { readonly [key: string]: unknown } | undefined
  readonly createdAt?: number | undefined
}

/**
 * @since 0.1.0
 */
export interface AppCheckpointChanges {
  readonly sessionId?: string | undefined
  readonly hostname?: string | undefined
  readonly workspaceDirectory?: string | undefined
  readonly state?: { readonly [key: string]: unknown } | undefined
  readonly createdAt?: number | undefined
}

