/**
 * `langgraph prune`: the LangGraph retention of the service (keep the newest N checkpoints of each thread's
 * namespace, remove what is older than an age, the newest spared unless `--include-newest`). A dry run by default,
 * which shows the service's `planPrune`; `--apply` calls its `prune`.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { LangGraphCheckpoints, type LangGraphRetentionPolicy } from "../services/LangGraphCheckpoints.js"
import { CliDatabase } from "./CliDatabase.js"
import { UsageError } from "./CliError.js"
import { commandHelp } from "./CommandHelp.js"
import { databaseOptions, jsonOption } from "./CommonOptions.js"
import { withLangGraph } from "./LangGraphDatabase.js"
import { printJson, renderTable, truncate } from "./Output.js"

const checkPolicy = (args: {
  readonly keepLast: Option.Option<number>
  readonly maxAge: Option.Option<string>
}): Effect.Effect<void, UsageError> => {
  if (Option.isNone(args.keepLast) && Option.isNone(args.maxAge)) {
    return Effect.fail(new UsageError({ reason: "Name a rule: --keep-last N or --max-age DURATION" }))
  }
  if (Option.isSome(args.keepLast) && args.keepLast.value < 1) {
    return Effect.fail(new UsageError({ reason: "--keep-last must be 1 or more" }))
  }
  if (Option.isSome(args.maxAge)) {
    const age = Duration.decodeUnknown(args.maxAge.value)
    if (Option.isNone(age) || !Duration.greaterThan(age.value, Duration.zero)) {
      return Effect.fail(
        new UsageError({ reason: `--max-age must be a duration such as "30 days", not "${args.maxAge.value}"` })
      )
    }
  }
  return Effect.void
}

/**
 * The `langgraph prune` command.
 */
export const langGraphPruneCommand = Command.make(
  "prune",
  {
    keepLast: Options.integer("keep-last").pipe(
      Options.withDescription("Keep the newest N checkpoints of each thread (of each of its namespaces)"),
      Options.optional
    ),
    maxAge: Options.text("max-age").pipe(
      Options.withDescription("Remove checkpoints older than this (\"30 days\", \"12 hours\")"),
      Options.optional
    ),
    includeNewest: Options.boolean("include-newest").pipe(
      Options.withDescription("Let --max-age remove a thread's newest checkpoint too (the thread then disappears)")
    ),
    thread: Options.text("thread").pipe(Options.withDescription("Only this thread"), Options.optional),
    apply: Options.boolean("apply").pipe(
      Options.withDescription("Delete them (without it, a dry run only shows what would go)")
    ),
    show: Options.integer("show").pipe(
      Options.withDescription("How many of the threads that would lose checkpoints to list in a dry run"),
      Options.withDefault(20)
    ),
    json: jsonOption,
    ...databaseOptions
  },
  (args) =>
    Effect.gen(function*() {
      yield* checkPolicy(args)
      const policy: LangGraphRetentionPolicy = {
        ...Option.match(args.keepLast, { onNone: () => ({}), onSome: (n) => ({ keepLastPerThread: n }) }),
        ...Option.match(args.maxAge, { onNone: () => ({}), onSome: (age) => ({ maxAge: age as Duration.DurationInput }) }),
        ...(args.includeNewest ? { includeNewest: true } : {}),
        ...Option.match(args.thread, { onNone: () => ({}), onSome: (threadId) => ({ threadId }) })
      }
      const service = yield* LangGraphCheckpoints
      const { url } = yield* CliDatabase
      if (args.apply) {
        const removed = yield* service.prune(policy)
        if (args.json) return yield* printJson({ database: url.display, dryRun: false, ...removed })
        return yield* Console.log(
          `Removed ${removed.checkpoints} checkpoints, ${removed.writes} pending writes and ` +
            `${removed.channelValues} channel values from ${url.display}.`
        )
      }
      const { threads: plans, ...totals } = yield* service.planPrune(policy)
      if (args.json) return yield* printJson({ database: url.display, dryRun: true, ...totals, threads: plans })
      yield* Console.log(
        `Would remove ${totals.checkpoints} checkpoints, ${totals.writes} pending writes and ` +
          `${totals.channelValues} channel values from ${url.display}, in ${plans.length} threads.`
      )
      const shown = plans.slice(0, Math.max(0, args.show))
      if (shown.length > 0) {
        yield* Console.log(renderTable(
          ["threadId", "checkpoints", "writes", "channelValues"],
          shown.map((plan) => [
            truncate(plan.threadId, 40),
            String(plan.checkpoints),
            String(plan.writes),
            String(plan.channelValues)
          ])
        ))
        if (plans.length > shown.length) yield* Console.log(`… and ${plans.length - shown.length} more threads`)
      }
      yield* Console.log("\nDry run: nothing was deleted. Run again with --apply to delete them.")
    }).pipe(withLangGraph(args))
).pipe(Command.withDescription(commandHelp(
  "Remove old LangGraph checkpoints, with their pending writes and the channel values no checkpoint left names: " +
    "the newest N of each thread kept, those older than an age removed (a thread's newest spared unless " +
    "--include-newest). A dry run by default: it shows what would go; --apply deletes.",
  "ecs langgraph prune --keep-last 20 --max-age \"30 days\" --apply"
)))
