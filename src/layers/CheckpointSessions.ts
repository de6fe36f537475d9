/**
 * The sessions and agents of the checkpoint tables, summarised a keyset page at a time, newest activity first.
 *
 * Each page groups the matching rows (`GROUP BY sessionId` or `agentId`), keeps the groups after the cursor (`HAVING`
 * on the group's newest createdAt and its key) and sorts them: the work grows with the matching rows, not with the
 * page. No index can hand out groups in the order of their newest row; the `(sessionId, createdAt, id)` and
 * `(agentId, createdAt, id)` list indexes let the grouping read the rows in key order without a sort, and the
 * `(createdAt, id)` index serves a time range. Measured on SQLite (better-sqlite3), 100 000 agent checkpoints in
 * 2 000 sessions: about 70 ms a page of 50 sessions, first or tenth; a page of one agent's sessions, about 1 ms.
 *
 * @since 0.2.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type * as Statement from "@effect/sql/Statement"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { decodeKeyCursor, encodeKeyCursor, type KeyCursorPosition } from "../internal/cursor.js"
import { decodeInput } from "../internal/decodeInput.js"
import { refailSqlError } from "../internal/refailSqlError.js"
import {
  AgentListOptions,
  type AgentSummary,
  DEFAULT_SUMMARY_PAGE_SIZE,
  MAX_SESSION_AGENTS,
  SessionListOptions,
  type SessionSummary,
  type SummaryPage
} from "../schema/SessionList.js"
import { CheckpointValidationError, type Dialect, StorageQueryError } from "../services/CheckpointStorageError.js"
import { NumberColumn } from "./CheckpointTables.js"

const SessionRows = Schema.Array(Schema.Struct({
  sessionId: Schema.String,
  checkpoints: NumberColumn,
  firstAt: NumberColumn,
  lastAt: NumberColumn,
  stateBytes: NumberColumn
}))

const SessionAgentRows = Schema.Array(Schema.Struct({
  sessionId: Schema.String,
  agentId: Schema.String,
  agentType: Schema.String
}))

const AgentRows = Schema.Array(Schema.Struct({
  agentId: Schema.String,
  agentType: Schema.String,
  checkpoints: NumberColumn,
  sessions: NumberColumn,
  lastAt: NumberColumn
}))

const validateSessionOptions = decodeInput(SessionListOptions, "SessionListOptions")
const validateAgentOptions = decodeInput(AgentListOptions, "AgentListOptions")

/** Distinct values in order, at most `max` of them. */
const firstDistinct = (values: ReadonlyArray<string>, max: number): ReadonlyArray<string> =>
  [...new Set(values)].sort().slice(0, max)

/**
 * The summaries of the checkpoint tables, over a client without name transforms.
 *
 * @since 0.2.0
 */
export const makeCheckpointSessions = (sql: SqlClient.SqlClient, dialect: Dialect) => {
  const unexpectedRow = (operation: string) => (cause: unknown) =>
    new StorageQueryError({ dialect, operation, code: "UNEXPECTED_ROW", cause })
  const createdAt = sql("createdAt")
  const newest = sql`MAX(${createdAt})`

  /** The row filter: exact columns, then the inclusive createdAt range. */
  const whereOf = (filter: {
    readonly agentType?: string | undefined
    readonly agentId?: string | undefined
    readonly from?: number | undefined
    readonly to?: number | undefined
  }): Array<Statement.Fragment> => {
    const clauses: Array<Statement.Fragment> = []
    if (filter.agentType !== undefined) clauses.push(sql`${sql("agentType")} = ${filter.agentType}`)
    if (filter.agentId !== undefined) clauses.push(sql`${sql("agentId")} = ${filter.agentId}`)
    if (filter.from !== undefined) clauses.push(sql`${createdAt} >= ${filter.from}`)
    if (filter.to !== undefined) clauses.push(sql`${createdAt} <= ${filter.to}`)
    return clauses
  }
  const where = (clauses: ReadonlyArray<Statement.Fragment>) =>
    clauses.length === 0 ? sql`` : sql`WHERE ${sql.and(clauses)}`
  // The groups after the cursor in (newest createdAt DESC, key DESC) order. An aggregate is not a column: the
  // condition goes in HAVING, on the aggregate itself (PostgreSQL does not accept the select list's alias there).
  const havingAfter = (key: string, position: KeyCursorPosition | undefined) =>
    position === undefined
      ? sql``
      : sql`HAVING ${newest} < ${position.sortValue} OR (${newest} = ${position.sortValue} AND ${sql(key)} < ${position.key})`
  // The limit is a validated integer, written as a literal: mysql2 refuses a bound LIMIT.
  const limitOf = (limit: number) => sql`LIMIT ${sql.literal(String(limit + 1))}`

  /** The cursor's position, or a validation error naming the cursor, before any SQL runs. */
  const positionOf = (subject: string, query: unknown, cursor: string | undefined) => {
    if (cursor === undefined) return Effect.succeed(undefined)
    const decoded = decodeKeyCursor(query, cursor)
    return Either.isLeft(decoded)
      ? Effect.fail(new CheckpointValidationError({ subject, issues: [{ path: "cursor", message: decoded.left }] }))
      : Effect.succeed(decoded.right)
  }

  /** One more row than the page was read: its presence says there is a next page. */
  const pageOf = <A extends { readonly lastCreatedAt: number }>(
    query: unknown,
    limit: number,
    rows: ReadonlyArray<A>,
    keyOf: (item: A) => string
  ): SummaryPage<A> => {
    const items = rows.slice(0, limit)
    const last = items.at(-1)
    return rows.length > limit && last !== undefined
      ? { items, nextCursor: encodeKeyCursor(query, { sortValue: last.lastCreatedAt, key: keyOf(last) }) }
      : { items }
  }

  /** One page of sessions of one table. */
  const listSessions = (operation: string, input: unknown) =>
    Effect.gen(function*() {
      const options = yield* validateSessionOptions(input)
      const limit = options.limit ?? DEFAULT_SUMMARY_PAGE_SIZE
      const { cursor: _, limit: __, ...filter } = options
      const query = { list: "sessions", ...filter }
      const position = yield* positionOf("SessionListOptions", query, options.cursor)
      const table = sql(options.kind === "agent" ? "AgentCheckpoints" : "AppCheckpoints")
      const clauses = whereOf(filter)
      const raw = yield* sql`SELECT ${sql("sessionId")}, COUNT(*) AS ${sql("checkpoints")}, MIN(${createdAt}) AS ${
        sql("firstAt")
      }, ${newest} AS ${sql("lastAt")}, COALESCE(SUM(${sql("sizeBytes")}), 0) AS ${sql("stateBytes")}
FROM ${table} ${where(clauses)} GROUP BY ${sql("sessionId")} ${havingAfter("sessionId", position)}
ORDER BY ${sql("lastAt")} DESC, ${sql("sessionId")} DESC ${limitOf(limit)}`.pipe(
        Effect.mapError(refailSqlError(dialect, operation))
      )
      const rows = yield* Effect.mapError(Schema.decodeUnknown(SessionRows)(raw), unexpectedRow(operation))
      const sessionIds = rows.slice(0, limit).map((row) => row.sessionId)
      // The agents of the page's sessions, among the counted checkpoints: one statement for the whole page.
      const agents = options.kind === "app" || sessionIds.length === 0
        ? []
        : yield* sql`SELECT DISTINCT ${sql("sessionId")}, ${sql("agentId")}, ${sql("agentType")} FROM ${table}
${where([sql`${sql("sessionId")} IN ${sql.in(sessionIds)}`, ...clauses])}`.pipe(
          Effect.mapError(refailSqlError(dialect, operation)),
          Effect.flatMap((found) => Effect.mapError(Schema.decodeUnknown(SessionAgentRows)(found), unexpectedRow(operation)))
        )
      const summaries = rows.map((row): SessionSummary => {
        const own = agents.filter((agent) => agent.sessionId === row.sessionId)
        return {
          sessionId: row.sessionId,
          checkpoints: row.checkpoints,
          agentIds: firstDistinct(own.map((agent) => agent.agentId), MAX_SESSION_AGENTS),
          agentTypes: firstDistinct(own.map((agent) => agent.agentType), MAX_SESSION_AGENTS),
          firstCreatedAt: row.firstAt,
          lastCreatedAt: row.lastAt,
          totalStateBytes: row.stateBytes
        }
      })
      return pageOf(query, limit, summaries, (session) => session.sessionId)
    })

  /** One page of the agents of the agent checkpoints. */
  const listAgents = (operation: string, input: unknown) =>
    Effect.gen(function*() {
      const options = yield* validateAgentOptions(input)
      const limit = options.limit ?? DEFAULT_SUMMARY_PAGE_SIZE
      const { cursor: _, limit: __, ...filter } = options
      const query = { list: "agents", ...filter }
      const position = yield* positionOf("AgentListOptions", query, options.cursor)
      const raw = yield* sql`SELECT ${sql("agentId")}, MAX(${sql("agentType")}) AS ${sql("agentType")}, COUNT(*) AS ${
        sql("checkpoints")
      }, COUNT(DISTINCT ${sql("sessionId")}) AS ${sql("sessions")}, ${newest} AS ${sql("lastAt")}
FROM ${sql("AgentCheckpoints")} ${where(whereOf(filter))} GROUP BY ${sql("agentId")} ${havingAfter("agentId", position)}
ORDER BY ${sql("lastAt")} DESC, ${sql("agentId")} DESC ${limitOf(limit)}`.pipe(
        Effect.mapError(refailSqlError(dialect, operation))
      )
      const rows = yield* Effect.mapError(Schema.decodeUnknown(AgentRows)(raw), unexpectedRow(operation))
      const summaries = rows.map((row): AgentSummary & { readonly lastCreatedAt: number } => ({
        agentId: row.agentId,
        agentType: row.agentType,
        checkpoints: row.checkpoints,
        sessions: row.sessions,
        lastCreatedAt: row.lastAt
      }))
      return pageOf(query, limit, summaries, (agent) => agent.agentId)
    })

  return { listSessions, listAgents }
}
