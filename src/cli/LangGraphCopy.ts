/**
 * `langgraph copy --from URL --to URL [THREAD_ID]`: LangGraph threads from one database to another, through the
 * LangGraphCheckpoints service of each. Per thread, oldest checkpoint first: `put` (its channel values and its
 * createdAt with it), then its pending writes with `putWrites` per task, `replace: false`. A checkpoint the target
 * already holds unchanged is skipped and a write it already holds is kept, so a copy run again writes nothing new.
 * Each thread is read back from the target and compared at the end: a copy that does not verify fails.
 *
 * A thread is held in memory while it is copied (both sides), as the service lists it newest first and the copy
 * writes oldest first.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Chunk from "effect/Chunk"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type {
  LangGraphCheckpointsService,
  LangGraphWrite,
  StoredLangGraphCheckpoint
} from "../services/LangGraphCheckpoints.js"
import { CommandFailedError, UsageError } from "./CliError.js"
import { commandHelp } from "./CommandHelp.js"
import { jsonOption, verboseOption } from "./CommonOptions.js"
import { type DatabaseUrl, parseDatabaseUrl, requireExisting } from "./DatabaseUrl.js"
import { openLangGraph, threadIdArg, threadIds } from "./LangGraphDatabase.js"
import { channelValueKey, checkpointKey, sameCheckpoint, writeKey } from "./LangGraphRecords.js"
import { printJson } from "./Output.js"
import { reportFailure } from "./RunCommand.js"

/**
 * What the copy did to one thread.
 */
interface ThreadReport {
  readonly threadId: string
  /** Checkpoints written (new in the target, or different there and replaced). */
  readonly checkpoints: number
  /** Checkpoints the target already held unchanged. */
  readonly checkpointsAlreadyThere: number
  readonly writes: number
  readonly writesAlreadyThere: number
  /** Channel values of the source the target did not show before the copy. */
  readonly channelValues: number
  /** Every checkpoint of the source reads back equal from the target, writes included. */
  readonly verified: boolean
}

const readThread = (service: LangGraphCheckpointsService, threadId: string) =>
  Effect.map(Stream.runCollect(service.list({ threadId })), Chunk.toReadonlyArray)

const byKey = (checkpoints: ReadonlyArray<StoredLangGraphCheckpoint>) =>
  new Map(checkpoints.map((stored) => [checkpointKey(stored), stored]))

const valueKeys = (checkpoints: ReadonlyArray<StoredLangGraphCheckpoint>) =>
  new Set(checkpoints.flatMap((stored) => stored.channelValues.map((value) => channelValueKey(stored.checkpointNs, value))))

/**
 * The writes of a checkpoint the target lacks, grouped by task (task id and path), as `putWrites` takes them.
 */
const missingWritesByTask = (stored: StoredLangGraphCheckpoint, present: ReadonlySet<string>) => {
  const tasks = new Map<string, { taskId: string; taskPath: string; writes: Array<LangGraphWrite> }>()
  for (const write of stored.pendingWrites) {
    if (present.has(writeKey(write))) continue
    const task = `${write.taskId}\u0000${write.taskPath}`
    const group = tasks.get(task) ?? { taskId: write.taskId, taskPath: write.taskPath, writes: [] }
    group.writes.push({ channel: write.channel, idx: write.idx, value: { type: write.type, value: write.value } })
    tasks.set(task, group)
  }
  return [...tasks.values()]
}

const copyThread = (source: LangGraphCheckpointsService, target: LangGraphCheckpointsService, threadId: string) =>
  Effect.gen(function*() {
    // The service lists newest first (highest checkpoint id); parents are written before their children.
    const checkpoints = [...(yield* readThread(source, threadId))].reverse()
    const before = yield* readThread(target, threadId)
    const existing = byKey(before)
    const valuesBefore = valueKeys(before)
    let written = 0
    let writes = 0
    let writesAlreadyThere = 0
    for (const stored of checkpoints) {
      const there = existing.get(checkpointKey(stored))
      if (there !== undefined && sameCheckpoint(stored, there, false)) {
        // Nothing to write.
      } else {
        yield* target.put({
          threadId: stored.threadId,
          checkpointNs: stored.checkpointNs,
          checkpointId: stored.checkpointId,
          parentCheckpointId: stored.parentCheckpointId ?? undefined,
          checkpoint: stored.checkpoint,
          metadata: stored.metadata,
          channelValues: stored.channelValues.map(({ channel, type, value, version }) => ({
            channel,
            version,
            value: { type, value }
          })),
          createdAt: stored.createdAt
        })
        written++
      }
      const present = new Set((there?.pendingWrites ?? []).map(writeKey))
      for (const task of missingWritesByTask(stored, present)) {
        yield* target.putWrites({
          threadId: stored.threadId,
          checkpointNs: stored.checkpointNs,
          checkpointId: stored.checkpointId,
          taskId: task.taskId,
          taskPath: task.taskPath,
          writes: task.writes,
          // A write the target already holds at that index stays as it is.
          replace: false
        })
        writes += task.writes.length
      }
      writesAlreadyThere += stored.pendingWrites.filter((write) => present.has(writeKey(write))).length
    }
    const after = byKey(yield* readThread(target, threadId))
    const verified = checkpoints.every((stored) => {
      const copy = after.get(checkpointKey(stored))
      return copy !== undefined && sameCheckpoint(stored, copy, true)
    })
    return {
      threadId,
      checkpoints: written,
      checkpointsAlreadyThere: checkpoints.length - written,
      writes,
      writesAlreadyThere,
      channelValues: [...valueKeys(checkpoints)].filter((key) => !valuesBefore.has(key)).length,
      verified
    } satisfies ThreadReport
  })

const copy = (from: DatabaseUrl, to: DatabaseUrl, threadId: Option.Option<string>) =>
  Effect.scoped(Effect.gen(function*() {
    const source = yield* openLangGraph(yield* requireExisting(from))
    const target = yield* openLangGraph(to)
    const reports = yield* threadIds(source, threadId).pipe(
      Stream.mapEffect((id) => copyThread(source, target, id)),
      Stream.runCollect
    )
    return Chunk.toReadonlyArray(reports)
  }))

const total = (reports: ReadonlyArray<ThreadReport>, field: keyof Omit<ThreadReport, "threadId" | "verified">) =>
  reports.reduce((sum, report) => sum + report[field], 0)

const summary = (reports: ReadonlyArray<ThreadReport>) => ({
  threads: reports.length,
  checkpoints: total(reports, "checkpoints"),
  checkpointsAlreadyThere: total(reports, "checkpointsAlreadyThere"),
  writes: total(reports, "writes"),
  writesAlreadyThere: total(reports, "writesAlreadyThere"),
  channelValues: total(reports, "channelValues"),
  verified: reports.every((report) => report.verified)
})

/**
 * The `langgraph copy` command.
 */
export const langGraphCopyCommand = Command.make(
  "copy",
  {
    threadId: threadIdArg.pipe(Args.optional),
    from: Options.text("from").pipe(Options.withDescription("The database to copy from (it is not changed)")),
    to: Options.text("to").pipe(
      Options.withDescription("The database to copy into (its LangGraph tables are created if missing)")
    ),
    json: jsonOption,
    verbose: verboseOption
  },
  (args) =>
    Effect.gen(function*() {
      const from = yield* parseDatabaseUrl(args.from)
      const to = yield* parseDatabaseUrl(args.to)
      if (from.identity === to.identity) {
        return yield* new UsageError({ reason: "--from and --to name the same database" })
      }
      const reports = yield* copy(from, to, args.threadId)
      if (Option.isSome(args.threadId) && reports.every((r) => r.checkpoints + r.checkpointsAlreadyThere === 0)) {
        return yield* new CommandFailedError({ reason: `There is no thread ${args.threadId.value} in ${from.display}` })
      }
      const totals = summary(reports)
      if (args.json) {
        yield* printJson({ from: from.display, to: to.display, ...totals, perThread: reports })
      } else {
        yield* Console.log([
          `Copied LangGraph threads from ${from.display} to ${to.display}:`,
          `  threads: ${totals.threads}`,
          `  checkpoints: ${totals.checkpoints} copied, ${totals.checkpointsAlreadyThere} already there`,
          `  pending writes: ${totals.writes} copied, ${totals.writesAlreadyThere} already there`,
          `  channel values: ${totals.channelValues} new`,
          `Verification (every checkpoint read back from the target, values and writes included): ${
            totals.verified ? "equal" : "DIFFERENT"
          }`
        ].join("\n"))
      }
      const different = reports.filter((report) => !report.verified)
      if (different.length > 0) {
        return yield* new CommandFailedError({
          reason: `The copy does not verify: thread ${different.map((r) => r.threadId).join(", ")} differs between ` +
            `${from.display} and ${to.display}`
        })
      }
    }).pipe(reportFailure(args.verbose))
).pipe(Command.withDescription(commandHelp(
  "Copy LangGraph threads (every one, or one) to another database, oldest checkpoint first, with channel values " +
    "and pending writes. Run again, it writes nothing new. Verified at the end.",
  "ecs langgraph copy --from sqlite:./graph.db --to postgres://me:secret@db.internal/agents"
)))
