/**
 * The SQL of the agent metrics: one row per agent, replaced whole by each store (an upsert on agentId), its
 * measurements as JSON text, written once over `SqlClient` for every dialect.
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { decodeInput } from "../internal/decodeInput.js"
import { refailSqlError } from "../internal/refailSqlError.js"
import {
  AgentMetrics,
  AgentMetricsData,
  type AgentMetricsListItem,
  toAgentMetricsListItem
} from "../schema/AgentMetrics.js"
import type { RetentionPolicy, TablePrunePlan } from "../schema/CheckpointQuery.js"
import {
  type Dialect,
  StateDecodeError,
  StateTooLargeError,
  type StorageConnectionError,
  StorageQueryError
} from "../services/CheckpointStorageError.js"
import { type BatchDeleteOptions, type Deleted, makeBatchDelete } from "./BatchDelete.js"
import { BigIntColumn } from "./CheckpointColumns.js"
import { utf8Bytes } from "./textBytes.js"

const TABLE = "AgentMetrics"

const MetricsRow = Schema.Struct({
  agentId: Schema.String,
  metrics: Schema.String,
  updatedAt: BigIntColumn
})
const decodeRows = Schema.decodeUnknownEither(Schema.Array(MetricsRow))
const decodeData = Schema.decodeUnknownEither(AgentMetricsData)

/**
 * The operations on the agent metrics.
 *
 * @since 0.1.0
 */
export type AgentMetricsTable = ReturnType<typeof makeAgentMetricsTable>

/**
 * @since 0.1.0
 */
export const makeAgentMetricsTable = (
  sql: SqlClient.SqlClient,
  dialect: Dialect,
  options: { readonly maxStateBytes?: number | undefined }
) => {
  const table = sql(TABLE)
  const columns = sql`${sql("agentId")}, ${sql("metrics")}, ${sql("updatedAt")}`
  const batchDelete = makeBatchDelete(sql, { table: TABLE, key: "agentId", textColumn: "metrics" })
  const validate = decodeInput(AgentMetrics, "AgentMetrics")
  const run = <A>(operation: string, statement: Effect.Effect<A, SqlError>) =>
    Effect.mapError(statement, refailSqlError(dialect, operation))

  // Rows as stored: a row whose columns are not of the table's types, or whose metrics are not the JSON of
  // AgentMetricsData, was written outside this library.
  const toRecords = (operation: string) =>
  (
    rows: ReadonlyArray<unknown>
  ): Either.Either<Array<AgentMetrics>, StorageQueryError | StateDecodeError> => {
    const decoded = decodeRows(rows)
    if (Either.isLeft(decoded)) {
      return Either.left(new StorageQueryError({ dialect, operation, code: "UNEXPECTED_ROW", cause: decoded.left }))
    }
    const records: Array<AgentMetrics> = []
    for (const row of decoded.right) {
      let json: unknown
      try {
        json = JSON.parse(row.metrics)
      } catch (cause) {
        return Either.left(new StateDecodeError({ table: TABLE, id: row.agentId, cause }))
      }
      const metrics = decodeData(json)
      if (Either.isLeft(metrics)) {
        return Either.left(new StateDecodeError({ table: TABLE, id: row.agentId, cause: metrics.left }))
      }
      records.push({ agentId: row.agentId, metrics: metrics.right, updatedAt: row.updatedAt })
    }
    return Either.right(records)
  }

  // The last write wins: a store replaces the agent's metrics and updatedAt whole.
  const upsert = sql.onDialectOrElse({
    mysql: () => (agentId: string, metrics: string, updatedAt: number) =>
      sql`INSERT INTO ${table} (${columns}) VALUES (${agentId}, ${metrics}, ${updatedAt})
ON DUPLICATE KEY UPDATE ${sql("metrics")} = VALUES(${sql("metrics")}), ${sql("updatedAt")} = VALUES(${sql("updatedAt")})`,
    orElse: () => (agentId: string, metrics: string, updatedAt: number) =>
      sql`INSERT INTO ${table} (${columns}) VALUES (${agentId}, ${metrics}, ${updatedAt})
ON CONFLICT (${sql("agentId")}) DO UPDATE SET ${sql("metrics")} = excluded.${sql("metrics")}, ${sql("updatedAt")} = excluded.${
        sql("updatedAt")
      }`
  })

  /** Validates the metrics (filling the parts left out) and stores them in place of the agent's earlier ones. */
  const store = (operation: string, input: unknown) =>
    Effect.flatMap(validate(input), (record): Effect.Effect<
      void,
      StateTooLargeError | StorageConnectionError | StorageQueryError
    > => {
      // Every value is a string or a finite number once decoded: the JSON always exists.
      const json = JSON.stringify(record.metrics)
      const sizeBytes = Buffer.byteLength(json, "utf8")
      if (options.maxStateBytes !== undefined && sizeBytes > options.maxStateBytes) {
        return Effect.fail(new StateTooLargeError({ sizeBytes, maxBytes: options.maxStateBytes }))
      }
      return Effect.asVoid(run(operation, upsert(record.agentId, json, record.updatedAt)))
    })

  const retrieve = (operation: string, agentId: string) =>
    Effect.flatMap(
      run(operation, sql`SELECT ${columns} FROM ${table} WHERE ${sql("agentId")} = ${agentId}`),
      (rows) => Either.map(toRecords(operation)(rows), (records) => Option.fromNullable(records[0]))
    )

  /** Every agent's totals, most recently updated first, then by agentId. */
  const list = (operation: string) =>
    Effect.flatMap(
      run(
        operation,
        sql`SELECT ${columns} FROM ${table} ORDER BY ${sql("updatedAt")} DESC, ${sql("agentId")} ASC`
      ),
      (rows) => Either.map(toRecords(operation)(rows), (records) => records.map(toAgentMetricsListItem))
    )

  const deleteByAgent = (operation: string, agentId: string) =>
    run(operation, batchDelete.deleteCounting(sql`DELETE FROM ${table} WHERE ${sql("agentId")} = ${agentId}`))

  const olderThan = (cutoff: number) => sql`${sql("updatedAt")} < ${cutoff}`

  /** Removes the metrics the policy's `agentMetrics.maxAge` expires (none without one), in batches. */
  const prune = <E>(
    policy: RetentionPolicy,
    deleteOptions: BatchDeleteOptions<E>
  ): Effect.Effect<Deleted, SqlError | E> => {
    const maxAge = policy.agentMetrics?.maxAge
    if (maxAge === undefined) return Effect.succeed({ count: 0, bytes: 0 })
    return Effect.flatMap(Clock.currentTimeMillis, (now) =>
      batchDelete.deleteSelected(
        sql`SELECT ${sql("agentId")} FROM ${table} WHERE ${olderThan(now - Duration.toMillis(maxAge))}`,
        deleteOptions
      ))
  }

  /** What `prune` would remove now: how many, their bytes, and the first `sampleSize` by agentId. */
  const plan = (
    operation: string,
    policy: RetentionPolicy,
    sampleSize: number
  ): Effect.Effect<TablePrunePlan<AgentMetricsListItem>, StorageConnectionError | StorageQueryError> =>
    Effect.gen(function*() {
      const maxAge = policy.agentMetrics?.maxAge
      if (maxAge === undefined) return { count: 0, bytes: 0, sample: [] }
      const now = yield* Clock.currentTimeMillis
      const removed = olderThan(now - Duration.toMillis(maxAge))
      const [totals] = yield* run(
        operation,
        sql<{ readonly n: unknown; readonly bytes: unknown }>`SELECT COUNT(*) AS ${sql("n")}, SUM(${
          utf8Bytes(sql, "metrics")
        }) AS ${sql("bytes")} FROM ${table} WHERE ${removed}`
      )
      const rows = sampleSize === 0 ? [] : yield* run(
        operation,
        sql`SELECT ${columns} FROM ${table} WHERE ${removed} ORDER BY ${sql("agentId")} LIMIT ${
          sql.literal(String(sampleSize))
        }`
      )
      // A sample is a look at the rows, not a read of them: one that cannot be read is an unexpected row.
      const records = Either.mapLeft(toRecords(operation)(rows), (error) =>
        error._tag === "StateDecodeError"
          ? new StorageQueryError({ dialect, operation, code: "UNEXPECTED_ROW", cause: error })
          : error)
      const sample = yield* Either.map(records, (read) => read.map(toAgentMetricsListItem))
      return { count: Number(totals?.n ?? 0), bytes: Number(totals?.bytes ?? 0), sample }
    })

  return { store, retrieve, list, deleteByAgent, prune, plan }
}
