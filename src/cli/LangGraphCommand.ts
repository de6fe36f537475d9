/**
 * `langgraph`: LangGraph's threads in a database, through the LangGraphCheckpoints service alone. `threads`,
 * `history` and `export` are here; `copy` and `prune` have modules of their own.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Chunk from "effect/Chunk"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import { LangGraphCheckpoints } from "../services/LangGraphCheckpoints.js"
import { CliDatabase } from "./CliDatabase.js"
import { CommandFailedError } from "./CliError.js"
import { commandHelp } from "./CommandHelp.js"
import { databaseOptions, jsonOption } from "./CommonOptions.js"
import { langGraphCopyCommand } from "./LangGraphCopy.js"
import { threadIdArg, threadIds, withLangGraph } from "./LangGraphDatabase.js"
import { langGraphPruneCommand } from "./LangGraphPrune.js"
import { type LangGraphHistoryRow, toExportLine, toHistoryRow } from "./LangGraphRecords.js"
import { isClosedPipe, openLineSink } from "./LineFiles.js"
import { formatTime, printJson, renderTable, truncate } from "./Output.js"


/**
 * The `langgraph threads` command: one page of threads, in thread id order.
 */
export const langGraphThreadsCommand = Command.make(
  "threads",
  {
    after: Options.text("after").pipe(
      Options.withDescription("Start after this thread id (the one printed after the previous page)"),
      Options.optional
    ),
    limit: Options.integer("limit").pipe(Options.withDescription("Page size, 1 to 10000"), Options.withDefault(50)),
    json: jsonOption,
    ...databaseOptions
  },
  (args) =>
    Effect.gen(function*() {
      const service = yield* LangGraphCheckpoints
      // The service checks the page size (0 or 20000 is refused as bad usage).
      const page = yield* service.listThreads({ after: Option.getOrUndefined(args.after), limit: args.limit })
      if (args.json) return yield* printJson({ threads: page.threads, nextAfter: page.nextAfter ?? null })
      yield* Console.log(
        page.threads.length === 0
          ? "No threads."
          : renderTable(
            ["threadId", "checkpoints", "namespaces", "latestCheckpointId", "firstCreatedAt", "lastCreatedAt"],
            page.threads.map((thread) => [
              truncate(thread.threadId, 40),
              String(thread.checkpoints),
              String(thread.namespaces),
              thread.latestCheckpointId,
              formatTime(thread.firstCreatedAt),
              formatTime(thread.lastCreatedAt)
            ])
          )
      )
      if (page.nextAfter !== undefined) yield* Console.log(`\nNext page: --after ${page.nextAfter}`)
    }).pipe(withLangGraph(args))
).pipe(Command.withDescription(commandHelp(
  "List LangGraph threads in thread id order, a page at a time: checkpoints, namespaces, the newest checkpoint.",
  "ecs langgraph threads --db sqlite:./graph.db --limit 20"
)))

const historyTable = (rows: ReadonlyArray<LangGraphHistoryRow>) =>
  renderTable(
    ["namespace", "checkpointId", "parentId", "createdAt", "source", "step", "values", "writes"],
    rows.map((row) => [
      truncate(row.checkpointNs, 24),
      row.checkpointId,
      row.parentCheckpointId ?? "",
      formatTime(row.createdAt),
      row.source ?? "",
      row.step === null ? "" : String(row.step),
      String(row.channelValues),
      String(row.pendingWrites)
    ])
  )

/**
 * The `langgraph history` command: a thread's checkpoints, newest first.
 */
export const langGraphHistoryCommand = Command.make(
  "history",
  {
    threadId: threadIdArg,
    namespace: Options.text("namespace").pipe(
      Options.withDescription("Only this checkpoint namespace (\"\" is the root graph's; default: every namespace)"),
      Options.optional
    ),
    limit: Options.integer("limit").pipe(
      Options.withDescription("At most this many checkpoints (the newest)"),
      Options.withDefault(50)
    ),
    json: jsonOption,
    ...databaseOptions
  },
  (args) =>
    Effect.gen(function*() {
      const service = yield* LangGraphCheckpoints
      // One more than asked, to tell whether the thread has older checkpoints than those shown.
      const read = yield* service.list({
        threadId: args.threadId,
        checkpointNs: Option.getOrUndefined(args.namespace),
        limit: args.limit + 1
      }).pipe(Stream.map(toHistoryRow), Stream.runCollect)
      const all = Chunk.toReadonlyArray(read)
      const rows = all.slice(0, args.limit)
      if (args.json) return yield* Effect.forEach(rows, printJson, { discard: true })
      if (rows.length === 0) return yield* Console.log(`No checkpoints in thread ${args.threadId}.`)
      yield* Console.log(historyTable(rows))
      if (all.length > rows.length) yield* Console.log(`\nOlder checkpoints exist: raise --limit to see them.`)
    }).pipe(withLangGraph(args))
).pipe(Command.withDescription(commandHelp(
  "Show a thread's checkpoints, newest first: parent, time, the metadata's source and step, and how many channel " +
    "values and pending writes each has.",
  "ecs langgraph history thread-1 --db postgres://me@localhost/agents"
)))

/**
 * The `langgraph export` command: JSON Lines, one stored checkpoint per line, every thread or one.
 */
export const langGraphExportCommand = Command.make(
  "export",
  {
    threadId: threadIdArg.pipe(Args.optional),
    out: Options.file("out").pipe(
      Options.withAlias("o"),
      Options.withDescription("Write to this file (default: stdout)"),
      Options.optional
    ),
    ...databaseOptions
  },
  (args) =>
    Effect.scoped(Effect.gen(function*() {
      const service = yield* LangGraphCheckpoints
      const { url } = yield* CliDatabase
      const sink = yield* openLineSink(args.out)
      const exported = yield* Ref.make(0)
      // A thread at a time, a page of checkpoints at a time (newest first, as the service lists them): one write
      // per page, memory for one page only.
      const written = yield* threadIds(service, args.threadId).pipe(
        Stream.flatMap((threadId) => service.list({ threadId }), { concurrency: 1 }),
        Stream.runForEachChunk((chunk) =>
          sink.write(Chunk.toReadonlyArray(chunk).map((stored) => `${JSON.stringify(toExportLine(stored))}\n`).join(""))
            .pipe(Effect.zipRight(Ref.update(exported, (n) => n + chunk.length)))
        ),
        Effect.as(true),
        // `ecs langgraph export | head` closes stdout early: stop writing, quietly, as `export` does.
        Effect.catchIf(
          (error): error is CommandFailedError => error._tag === "CommandFailedError" && isClosedPipe(error),
          () => Effect.succeed(false)
        )
      )
      if (!written) return
      const count = yield* Ref.get(exported)
      if (Option.isSome(args.threadId) && count === 0) {
        return yield* new CommandFailedError({ reason: `There is no thread ${args.threadId.value} in ${url.display}` })
      }
      yield* sink.commit
      if (Option.isSome(args.out)) {
        yield* Console.error(`Exported ${count} checkpoints from ${url.display} to ${args.out.value}`)
      }
    })).pipe(withLangGraph(args))
).pipe(Command.withDescription(commandHelp(
  "Export LangGraph checkpoints as JSON Lines, one per line (newest first per thread): the checkpoint and metadata " +
    "documents as stored, channel values and pending writes with their bytes in base64. Every thread, or one.",
  "ecs langgraph export thread-1 --db sqlite:./graph.db --out thread-1.jsonl"
)))

/**
 * The `langgraph` command group.
 */
export const langGraphCommand = Command.make("langgraph").pipe(
  Command.withSubcommands([
    langGraphThreadsCommand,
    langGraphHistoryCommand,
    langGraphExportCommand,
    langGraphCopyCommand,
    langGraphPruneCommand
  ]),
  Command.withDescription(commandHelp(
    "LangGraph threads (the tables of effect-checkpoint-storage/langgraph): threads, history, export, copy, " +
      "prune (dry run by default).",
    "ecs langgraph threads --db sqlite:./graph.db",
    "ecs langgraph copy --from sqlite:./graph.db --to postgres://me:secret@db.internal/agents"
  ))
)
