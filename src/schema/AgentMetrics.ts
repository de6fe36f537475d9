/**
 * Agent metrics: the shapes of Token Ring's `MetricsStorage` (package @tokenring-ai/metrics). One record per agent,
 * replaced whole by each store. Every part of `metrics` may be left out and is filled with zeros and empty
 * collections, as Token Ring's schema does.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { CreatedAt, Identifier } from "./CheckpointFields.js"

// A number JSON can hold: NaN and ±Infinity would be stored as null and come back as something else.
const Amount = Schema.Number.pipe(
  Schema.filter((n) => Number.isFinite(n) || "must be a finite number"),
  Schema.annotations({ identifier: "MetricAmount" })
)

const amount = Schema.optionalWith(Amount, { default: () => 0 })
const amounts = Schema.optionalWith(Schema.Record({ key: Schema.String, value: Amount }), { default: () => ({}) })
const series = Schema.optionalWith(Schema.Array(Amount), { default: () => [] })

// A struct whose every field has a default may itself be left out: it is then the struct decoded from `{}`.
const defaulted = <S extends Schema.Schema.AnyNoContext>(schema: S) => {
  const empty = Schema.decodeUnknownSync(schema)({})
  return Schema.optionalWith(schema, { default: () => empty })
}

/**
 * Token counts, in total or for one category.
 *
 * @since 0.1.0
 */
export const TokenCounts = Schema.Struct({
  totalInputTokens: amount,
  totalOutputTokens: amount,
  totalCachedTokens: amount,
  totalReasoningTokens: amount
}).annotations({ identifier: "TokenCounts" })

/**
 * What Token Ring measures of an agent: costs, tokens, latency, errors and activity.
 *
 * @since 0.1.0
 */
export const AgentMetricsData = Schema.Struct({
  /** Cost per provider or model. */
  costs: amounts,
  tokens: defaulted(TokenCounts),
  tokensByCategory: Schema.optionalWith(Schema.Record({ key: Schema.String, value: TokenCounts }), {
    default: () => ({})
  }),
  latency: defaulted(Schema.Struct({
    requestCount: amount,
    totalElapsedMs: amount,
    totalTimeToFirstTokenMs: amount,
    timeToFirstTokenCount: amount,
    totalTokensPerSecond: amount,
    tokensPerSecondCount: amount,
    recentElapsedMs: series,
    recentTimeToFirstTokenMs: series
  })),
  errors: defaulted(Schema.Struct({
    errorsByProvider: amounts,
    errorsByType: amounts,
    retryCount: amount
  })),
  activity: defaulted(Schema.Struct({
    totalSteps: amount,
    totalToolCalls: amount,
    toolCallsByName: amounts
  }))
}).annotations({ identifier: "AgentMetricsData" })

/**
 * @since 0.1.0
 */
export interface AgentMetricsData extends Schema.Schema.Type<typeof AgentMetricsData> {}

/**
 * An agent's metrics as stored: the agent, its measurements, and when they were last updated (ms since the epoch).
 * What a caller stores is the encoded side (`typeof AgentMetrics.Encoded`): any part of `metrics` may be missing.
 *
 * @since 0.1.0
 */
export const AgentMetrics = Schema.Struct({
  agentId: Identifier,
  metrics: defaulted(AgentMetricsData),
  updatedAt: CreatedAt
}).annotations({ identifier: "AgentMetrics" })

/**
 * @since 0.1.0
 */
export interface AgentMetrics extends Schema.Schema.Type<typeof AgentMetrics> {}

/**
 * What `storeAgentMetrics` accepts: {@link AgentMetrics} with any part of `metrics` left out.
 *
 * @since 0.1.0
 */
export type AgentMetricsInput = typeof AgentMetrics.Encoded

/**
 * One agent in a list of metrics: the totals Token Ring shows.
 *
 * @since 0.1.0
 */
export interface AgentMetricsListItem {
  readonly agentId: string
  /** The sum of `metrics.costs`. */
  readonly totalCost: number
  readonly totalInputTokens: number
  readonly totalOutputTokens: number
  readonly requestCount: number
  readonly totalSteps: number
  readonly totalToolCalls: number
  readonly updatedAt: number
}

/**
 * The list item of an agent's metrics.
 *
 * @since 0.1.0
 */
export const toAgentMetricsListItem = (record: AgentMetrics): AgentMetricsListItem => ({
  agentId: record.agentId,
  totalCost: Object.values(record.metrics.costs).reduce((sum, cost) => sum + cost, 0),
  totalInputTokens: record.metrics.tokens.totalInputTokens,
  totalOutputTokens: record.metrics.tokens.totalOutputTokens,
  requestCount: record.metrics.latency.requestCount,
  totalSteps: record.metrics.activity.totalSteps,
  totalToolCalls: record.metrics.activity.totalToolCalls,
  updatedAt: record.updatedAt
})
