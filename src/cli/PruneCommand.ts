/**
 * `prune`: the storage's retention (keep the newest N per session / per agent, drop what is older than an age),
 * as a dry run by default that shows what would go (`planPrune`), and with `--apply` the storage's own `prune`,
 * whose DELETEs of at most 1000 checkpoints are each their own statement, so Ctrl-C leaves every table consistent.
 * The rules apply one after another, as they do at store time: per session, then per agent, then by age.
 * `--persistence` also deletes the expired entries of the persistence table (layerBackingSql), if the database has it.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type { AgentCheckpointListItem } from "../schema/AgentCheckpoint.js"
import type { AppSessionListItem } from "../schema/AppCheckpoint.js"
import type { PruneProgress, RetentionPolicy } from "../schema/CheckpointQuery.js"
import { CheckpointStorage } from "../services/CheckpointStorage.js"
import { PersistenceStorage, type PersistencePrunePlan } from "../services/PersistenceStorage.js"
import { CliDatabase } from "./CliDatabase.js"
import { UsageError } from "./CliError.js"
import { commandHelp } from "./CommandHelp.js"
import { databaseOptions, jsonOption } from "./CommonOptions.js"
import { formatTime, printJson, renderTable, truncate } from "./Output.js"
import { makeProgress, type Progress } from "./Progress.js"
import { withStorage } from "./RunCommand.js"

// The most checkpoints the storage lists in a dry run's sample.
const MAX_SAMPLE = 10_000

type TableName = PruneProgress["table"]

interface TableOutcome {
  readonly table: TableName
  /** Deleted (with --apply) or that would be (dry run). */
  readonly count: number
  /** Dry run: the first of those that would go, by id. */
  readonly sample: ReadonlyArray<AgentCheckpointListItem | AppSessionListItem>
}

const sampleRow = (item: AgentCheckpointListItem | AppSessionListItem) => [
  item.id,
  formatTime(item.createdAt),
  truncate(item.sessionId, 36),
  truncate("agentId" in item ? item.agentId : item.hostname, 24)
]

/**
 * Deletes what the policy removes, with a progress line per table towards the count the plan gave. The storage
 * reports the rows deleted from a table so far after each batch; the tables are pruned one after the other.
 */
const applyPolicy = (policy: RetentionPolicy) =>
  Effect.gen(function*() {
    const storage = yield* CheckpointStorage
    const plan = yield* storage.planPrune(policy, { sampleSize: 0 })
    const totals: Record<TableName, number> = {
      AgentCheckpoints: plan.agentCheckpoints.count,
      AppCheckpoints: plan.appCheckpoints.count,
      AgentMetrics: plan.agentMetrics.count
    }
    const current = yield* Ref.make(
      Option.none<{ readonly table: TableName; readonly progress: Progress; readonly done: number }>()
    )
    const finishCurrent = Effect.flatMap(
      Ref.getAndSet(current, Option.none()),
      Option.match({ onNone: () => Effect.void, onSome: ({ progress }) => progress.finish })
    )
    const onProgress = ({ deleted, table }: PruneProgress) =>
      Effect.gen(function*() {
        const shown = Option.filter(yield* Ref.get(current), (shown) => shown.table === table)
        if (Option.isNone(shown)) yield* finishCurrent
        const progress = Option.isSome(shown)
          ? shown.value.progress
          : yield* makeProgress(`prune ${table}`, Option.some(totals[table]))
        yield* progress.advance(deleted - Option.match(shown, { onNone: () => 0, onSome: ({ done }) => done }))
        yield* Ref.set(current, Option.some({ table, progress, done: deleted }))
      })
    const result = yield* storage.prune(policy, { onProgress })
    yield* finishCurrent
    return [
      { table: "AgentCheckpoints", count: result.agentCheckpoints, sample: [] },
      { table: "AppCheckpoints", count: result.appCheckpoints, sample: [] }
    ] satisfies ReadonlyArray<TableOutcome>
  })

const planPolicy = (policy: RetentionPolicy, show: number) =>
  Effect.gen(function*() {
    const storage = yield* CheckpointStorage
    const plan = yield* storage.planPrune(policy, { sampleSize: Math.min(MAX_SAMPLE, Math.max(0, show)) })
    return [
      { table: "AgentCheckpoints", count: plan.agentCheckpoints.count, sample: plan.agentCheckpoints.sample },
      { table: "AppCheckpoints", count: plan.appCheckpoints.count, sample: plan.appCheckpoints.sample }
    ] satisfies ReadonlyArray<TableOutcome>
  })

// The expired persistence entries: deleted with --apply, else counted with a sample. A database without the table
// has none, and asking does not create it.
const persistenceOutcome = (apply: boolean, show: number) =>
  Effect.gen(function*() {
    const persistence = yield* PersistenceStorage
    if (!(yield* persistence.installed)) return { count: 0, sample: [] } satisfies PersistencePrunePlan
    if (apply) return { count: yield* persistence.prune(), sample: [] } satisfies PersistencePrunePlan
    return yield* persistence.planPrune({ sampleSize: Math.min(MAX_SAMPLE, Math.max(0, show)) })
  })

const printPersistenceOutcome = (outcome: PersistencePrunePlan, apply: boolean) =>
  Effect.gen(function*() {
    if (apply) return yield* Console.log(`PersistenceEntries (expired): deleted ${outcome.count}`)
    yield* Console.log(`PersistenceEntries (expired): ${outcome.count} would be deleted`)
    if (outcome.sample.length === 0) return
    yield* Console.log(renderTable(
      ["storeId", "key", "expiredAt"],
      outcome.sample.map((entry) => [truncate(entry.storeId, 30), truncate(entry.key, 40), formatTime(entry.expiresAt)])
    ))
    if (outcome.count > outcome.sample.length) yield* Console.log(`… and ${outcome.count - outcome.sample.length} more`)
  })

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
    persistence: Options.boolean("persistence").pipe(
      Options.withDescription("Delete the expired entries of the persistence table (PersistedCache, chats)")
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
      const checkpointRule = Option.isSome(args.keepLastPerSession) || Option.isSome(args.keepLastPerAgent) ||
        Option.isSome(args.maxAge)
      if (!checkpointRule && !args.persistence) {
        return yield* new UsageError({
          reason: "Name a rule: --keep-last-per-session N, --keep-last-per-agent N, --max-age DURATION or --persistence"
        })
      }
      if (args.apply && args.dryRun) return yield* new UsageError({ reason: "--apply and --dry-run exclude each other" })
      if (Option.isSome(args.maxAge) && Option.isNone(Duration.decodeUnknown(args.maxAge.value))) {
        return yield* new UsageError({ reason: `--max-age must be a duration such as "30 days", not "${args.maxAge.value}"` })
      }
      // The storage validates the policy (a count of 0 is refused as bad usage).
      const policy: RetentionPolicy = {
        ...Option.match(args.keepLastPerSession, { onNone: () => ({}), onSome: (n) => ({ keepLastPerSession: n }) }),
        ...Option.match(args.keepLastPerAgent, { onNone: () => ({}), onSome: (n) => ({ keepLastPerAgent: n }) }),
        ...Option.match(args.maxAge, {
          onNone: () => ({}),
          onSome: (age) => ({ maxAge: age as Duration.DurationInput })
        })
      }
      const { url } = yield* CliDatabase
      const results = !checkpointRule
        ? []
        : args.apply
        ? yield* applyPolicy(policy)
        : yield* planPolicy(policy, args.show)
      const expired = args.persistence ? yield* persistenceOutcome(args.apply, args.show) : undefined
      if (args.json) {
        return yield* printJson({
          database: url.display,
          dryRun: !args.apply,
          ...Object.fromEntries(results.map((r) => [
            r.table,
            args.apply ? { deleted: r.count } : { wouldDelete: r.count, sample: r.sample }
          ])),
          ...(expired === undefined ? {} : {
            PersistenceEntries: args.apply
              ? { deleted: expired.count }
              : { wouldDelete: expired.count, sample: expired.sample }
          })
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
            result.sample.map(sampleRow)
          ))
          if (result.count > result.sample.length) yield* Console.log(`… and ${result.count - result.sample.length} more`)
        }
      }
      if (expired !== undefined) yield* printPersistenceOutcome(expired, args.apply)
      if (!args.apply) yield* Console.log("\nDry run: nothing was deleted. Run again with --apply to delete them.")
    }).pipe(withStorage(args))
).pipe(Command.withDescription(commandHelp(
  "Delete old checkpoints by retention rules, applied one after another (per session, then per agent, then by " +
    "age); --persistence: the expired entries of the persistence table. A dry run by default: it shows what would " +
    "go; --apply deletes.",
  "ecs prune --keep-last-per-session 20 --max-age \"30 days\" --apply"
)))
