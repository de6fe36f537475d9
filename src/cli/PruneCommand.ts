/**
 * `prune`: the retention options of the query API (keep the newest N per session / per agent, drop what is older
 * than an age), as a dry run by default that shows what would go. With `--apply` the checkpoints are deleted in
 * batches of their ids, each batch its own transaction, so Ctrl-C leaves every table consistent.
 *
 * The rules are those of `CheckpointStorage.prune` (the same window over createdAt then id), evaluated here so that
 * a dry run can list the checkpoints and a real run can report its progress.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { decodeInput } from "../internal/decodeInput.js"
import { refailSqlError } from "../internal/refailSqlError.js"
import { RetentionPolicy } from "../schema/CheckpointQuery.js"
import { CliDatabase } from "./CliDatabase.js"
import { UsageError } from "./CliError.js"
import { databaseOptions, jsonOption } from "./CommonOptions.js"
import { formatTime, printJson, renderTable, truncate } from "./Output.js"
import { makeProgress } from "./Progress.js"
import { withStorage } from "./RunCommand.js"
import { agentTable, appTable, type TransferTable } from "./TransferTables.js"
import { commandHelp } from "./CommandHelp.js"

const BATCH = 1000

interface Rules {
  /** [column, keep]: keep the newest `keep` rows per value of the column. */
  readonly keepLast: ReadonlyArray<readonly [string, number]>
  /** Rows created before this time go. */
  readonly cutoff: number | undefined
}

const rulesFor = (table: TransferTable, policy: RetentionPolicy, now: number): Rules => ({
  keepLast: [
    ...(policy.keepLastPerSession === undefined ? [] : [["sessionId", policy.keepLastPerSession] as const]),
    ...(policy.keepLastPerAgent === undefined || table.kind !== "agent" ? [] : [["agentId", policy.keepLastPerAgent] as const])
  ],
  cutoff: policy.maxAge === undefined ? undefined : now - Duration.toMillis(policy.maxAge)
})

// The rows some rule removes. The ranked rows sit in a derived table so that MySQL accepts reading the table it
// deletes from.
const doomed = (sql: SqlClient.SqlClient, table: TransferTable, rules: Rules): Statement.Fragment | undefined => {
  const tableName = sql(table.name)
  const clauses: Array<Statement.Fragment> = rules.keepLast.map(([column, keep]) =>
    sql`${sql("id")} IN (SELECT ${sql("id")} FROM (
  SELECT ${sql("id")}, ROW_NUMBER() OVER (PARTITION BY ${sql(column)} ORDER BY ${sql("createdAt")} DESC, ${sql("id")} DESC) AS ${
      sql("position")
    }
  FROM ${tableName}) ${sql(`ranked_${column}`)} WHERE ${sql("position")} > ${keep})`
  )
  if (rules.cutoff !== undefined) clauses.push(sql`${sql("createdAt")} < ${rules.cutoff}`)
  return clauses.length === 0 ? undefined : sql.or(clauses)
}

const countDoomed = (sql: SqlClient.SqlClient, table: TransferTable, rules: Rules): Effect.Effect<number, SqlError> => {
  const where = doomed(sql, table, rules)
  return where === undefined
    ? Effect.succeed(0)
    : Effect.map(
      sql<{ readonly n: unknown }>`SELECT COUNT(*) AS ${sql("n")} FROM ${sql(table.name)} WHERE ${where}`,
      (rows) => Number(rows[0]?.n ?? 0)
    )
}

const listDoomed = (
  sql: SqlClient.SqlClient,
  table: TransferTable,
  rules: Rules,
  afterId: number,
  limit: number
): Effect.Effect<ReadonlyArray<Record<string, unknown>>, SqlError> => {
  const where = doomed(sql, table, rules)
  const columns = sql.csv(["id", ...table.columns].map((column) => sql`${sql(column)}`))
  return where === undefined
    ? Effect.succeed([])
    : sql<Record<string, unknown>>`SELECT ${columns} FROM ${sql(table.name)} WHERE (${where}) AND ${sql("id")} > ${afterId}
ORDER BY ${sql("id")} LIMIT ${sql.literal(String(limit))}`
}

const deleteDoomed = (sql: SqlClient.SqlClient, table: TransferTable, rules: Rules, total: number) =>
  Effect.gen(function*() {
    const progress = yield* makeProgress(`prune ${table.name}`, Option.some(total))
    let after = 0
    let deleted = 0
    while (true) {
      const batch = yield* listDoomed(sql, table, rules, after, BATCH)
      const last = batch.at(-1)
      if (last === undefined) break
      const ids = batch.map((row) => Number(row.id))
      yield* sql.withTransaction(sql`DELETE FROM ${sql(table.name)} WHERE ${sql.in("id", ids)}`)
      deleted += ids.length
      yield* progress.advance(ids.length)
      after = Number(last.id)
    }
    yield* progress.finish
    return deleted
  })

interface TableOutcome {
  readonly table: string
  /** Deleted (with --apply) or that would be (dry run). */
  readonly count: number
  /** Dry run: the first of those that would go. */
  readonly sample: ReadonlyArray<Record<string, unknown>>
}

const validatePolicy = decodeInput(RetentionPolicy, "RetentionPolicy")

/**
 * The `prune` command.
 */
export const pruneCommand = Command.make(
  "prune",
  {
    keepLastPerSession: Options.integer("keep-last-per-session").pipe(
      Options.withDescription("Keep the newest N checkpoints of each session (both tables)"),
      Options.optional
    ),
    keepLastPerAgent: Options.integer("keep-last-per-agent").pipe(
      Options.withDescription("Keep the newest N agent checkpoints of each agent"),
      Options.optional
    ),
    maxAge: Options.text("max-age").pipe(
      Options.withDescription("Remove checkpoints older than this (\"30 days\", \"12 hours\")"),
      Options.optional
    ),
    apply: Options.boolean("apply").pipe(
      Options.withDescription("Delete them (without it, a dry run only shows what would go)")
    ),
    dryRun: Options.boolean("dry-run").pipe(Options.withDescription("Only show what would go (the default)")),
    show: Options.integer("show").pipe(
      Options.withDescription("How many of the checkpoints that would go to list in a dry run, per table"),
      Options.withDefault(20)
    ),
    json: jsonOption,
    ...databaseOptions
  },
  (args) =>
    Effect.gen(function*() {
      if (Option.isNone(args.keepLastPerSession) && Option.isNone(args.keepLastPerAgent) && Option.isNone(args.maxAge)) {
        return yield* new UsageError({
          reason: "Name a rule: --keep-last-per-session N, --keep-last-per-agent N or --max-age DURATION"
        })
      }
      if (args.apply && args.dryRun) return yield* new UsageError({ reason: "--apply and --dry-run exclude each other" })
      if (Option.isSome(args.maxAge) && Option.isNone(Duration.decodeUnknown(args.maxAge.value))) {
        return yield* new UsageError({ reason: `--max-age must be a duration such as "30 days", not "${args.maxAge.value}"` })
      }
      const policy = yield* validatePolicy({
        ...Option.match(args.keepLastPerSession, { onNone: () => ({}), onSome: (n) => ({ keepLastPerSession: n }) }),
        ...Option.match(args.keepLastPerAgent, { onNone: () => ({}), onSome: (n) => ({ keepLastPerAgent: n }) }),
        ...Option.match(args.maxAge, {
          onNone: () => ({}),
          onSome: (age) => ({ maxAge: age as Duration.DurationInput })
        })
      })
      const { sql, url } = yield* CliDatabase
      const now = yield* Clock.currentTimeMillis
      const results: Array<TableOutcome> = []
      for (const table of [agentTable, appTable]) {
        const rules = rulesFor(table, policy, now)
        const count = yield* countDoomed(sql, table, rules)
        if (args.apply) {
          const deleted = count === 0 ? 0 : yield* deleteDoomed(sql, table, rules, count)
          results.push({ table: table.name, count: deleted, sample: [] })
        } else {
          results.push({ table: table.name, count, sample: yield* listDoomed(sql, table, rules, 0, Math.max(0, args.show)) })
        }
      }
      if (args.json) {
        return yield* printJson({
          database: url.display,
          dryRun: !args.apply,
          ...Object.fromEntries(results.map((r) => [
            r.table,
            args.apply ? { deleted: r.count } : { wouldDelete: r.count, sample: r.sample }
          ]))
        })
      }
      for (const result of results) {
        if (args.apply) {
          yield* Console.log(`${result.table}: deleted ${result.count}`)
          continue
        }
        yield* Console.log(`${result.table}: ${result.count} would be deleted`)
        if (result.sample.length > 0) {
          yield* Console.log(renderTable(
            ["id", "createdAt", "sessionId", result.table === "AgentCheckpoints" ? "agentId" : "hostname"],
            result.sample.map((row) => [
              String(row.id),
              formatTime(Number(row.createdAt)),
              truncate(String(row.sessionId), 36),
              truncate(String(row.agentId ?? row.hostname), 24)
            ])
          ))
          if (result.count > result.sample.length) yield* Console.log(`… and ${result.count - result.sample.length} more`)
        }
      }
      if (!args.apply) yield* Console.log("\nDry run: nothing was deleted. Run again with --apply to delete them.")
    }).pipe(
      Effect.catchTag("SqlError", (error) =>
        Effect.flatMap(CliDatabase, ({ url }) => Effect.fail(refailSqlError(url.dialect, "prune")(error)))),
      withStorage(args)
    )
).pipe(Command.withDescription(commandHelp(
  "Delete old checkpoints by retention rules. A dry run by default: it shows what would go; --apply deletes.",
  "ecs prune --keep-last-per-session 20 --max-age \"30 days\" --apply"
)))
