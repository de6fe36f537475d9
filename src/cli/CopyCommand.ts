/**
 * `copy --from URL --to URL`: moves every checkpoint from one database to another (SQLite → PostgreSQL is the usual
 * case), through the storage of each: the source is streamed a batch at a time, each batch written by the target's
 * `importAgentCheckpoints` / `importAppCheckpoints` (one transaction) under the source's name. The target records
 * what it imported from that source, so a copy run again after an interruption skips what is there and writes only
 * the rest, and the import reports, for every checkpoint of the source, the id it has in the target: the copy is
 * verified with them at the end (see CopyVerification).
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Chunk from "effect/Chunk"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { StoredAgentCheckpoint } from "../schema/AgentCheckpoint.js"
import type { StoredAppCheckpoint } from "../schema/AppCheckpoint.js"
import type { ImportResult } from "../schema/CheckpointImport.js"
import {
  CheckpointStorage,
  type CheckpointStorageService,
  type QueryError,
  type RetrieveError,
  type StoreError
} from "../services/CheckpointStorage.js"
import { layerStorage } from "./CliDatabase.js"
import { CommandFailedError, UsageError } from "./CliError.js"
import { commandHelp } from "./CommandHelp.js"
import { jsonOption, verboseOption } from "./CommonOptions.js"
import { checkpointDigest, makeTableDigest, type TableDigest, targetDigest } from "./CopyVerification.js"
import { type DatabaseUrl, parseDatabaseUrl, requireExisting } from "./DatabaseUrl.js"
import { printJson } from "./Output.js"
import { makeProgress } from "./Progress.js"
import { reportFailure } from "./RunCommand.js"

/**
 * The size of a batch (one transaction on the target) when none is given.
 */
export const DEFAULT_BATCH_SIZE = 500

// How many checkpoints the verification reads from the target per round trip.
const VERIFY_PAGE_SIZE = 1000

const openStorage = (url: DatabaseUrl) =>
  Effect.map(Layer.build(layerStorage(url)), (context) => Context.get(context, CheckpointStorage))

/**
 * A checkpoint to import: its fields without its ids, and the ids it has in the source.
 */
interface Imported<C> {
  readonly sourceId: string
  readonly sourceParentId?: string
  readonly checkpoint: C
}

/**
 * One table as the copy moves it: how to stream it (full checkpoints, in id order), how to import into it, and
 * the fields the verification compares.
 */
interface CopiedTable<A extends StoredAgentCheckpoint | StoredAppCheckpoint> {
  readonly name: "AgentCheckpoints" | "AppCheckpoints"
  readonly statistics: "agentCheckpoints" | "appCheckpoints"
  readonly stream: (
    storage: CheckpointStorageService,
    pageSize: number
  ) => Stream.Stream<A, RetrieveError | QueryError>
  readonly importInto: (
    storage: CheckpointStorageService,
    source: string,
    checkpoints: ReadonlyArray<Imported<Omit<A, "id" | "parentId">>>
  ) => Effect.Effect<ImportResult, StoreError>
  readonly fields: (checkpoint: Omit<A, "id" | "parentId">) => ReadonlyArray<unknown>
}

const inIdOrder = (pageSize: number) => ({ includeState: true, orderBy: "id", orderDir: "ASC", pageSize }) as const

const agentTable: CopiedTable<StoredAgentCheckpoint> = {
  name: "AgentCheckpoints",
  statistics: "agentCheckpoints",
  stream: (storage, pageSize) => storage.streamAgentCheckpoints(inIdOrder(pageSize)),
  importInto: (storage, source, checkpoints) => storage.importAgentCheckpoints(source, checkpoints),
  fields: (c) => [c.sessionId, c.agentId, c.agentType, c.name, c.createdAt]
}

const appTable: CopiedTable<StoredAppCheckpoint> = {
  name: "AppCheckpoints",
  statistics: "appCheckpoints",
  stream: (storage, pageSize) => storage.streamAppCheckpoints(inIdOrder(pageSize)),
  importInto: (storage, source, checkpoints) => storage.importAppCheckpoints(source, checkpoints),
  fields: (c) => [c.sessionId, c.hostname, c.workspaceDirectory, c.createdAt]
}

interface TableReport {
  readonly table: string
  readonly copied: number
  readonly alreadyThere: number
  readonly orphans: number
  readonly source: TableDigest
  readonly target: TableDigest
  readonly verified: boolean
}

/**
 * Copies one table. Every run reads the whole source: what an earlier run copied is skipped by the target's import
 * (which still reports the id each checkpoint has there), and the verification needs every checkpoint of both
 * sides anyway. A parent is named only when the copy has already read it (parents come before their children in
 * id order): a parentId left dangling by a deleted checkpoint cannot be mapped to anything in another database.
 */
const copyTable = <A extends StoredAgentCheckpoint | StoredAppCheckpoint>(
  table: CopiedTable<A>,
  from: { readonly storage: CheckpointStorageService; readonly total: number },
  target: CheckpointStorageService,
  source: string,
  batchSize: number
) =>
  Effect.gen(function*() {
    const progress = yield* makeProgress(`copy ${table.name}`, Option.some(from.total))
    // The source id of each copied checkpoint, by its id in the target.
    const sourceIdOf = new Map<string, string>()
    const seen = new Set<string>()
    const sourceDigest = makeTableDigest()
    let copied = 0
    let alreadyThere = 0
    let orphans = 0
    yield* Stream.runForEachChunk(table.stream(from.storage, batchSize), (chunk) =>
      Effect.gen(function*() {
        const checkpoints = Chunk.toReadonlyArray(chunk)
        const inChunk = new Set(checkpoints.map(({ id }) => id))
        const imported = checkpoints.map(({ id, parentId, ...checkpoint }): Imported<Omit<A, "id" | "parentId">> => {
          const known = parentId !== undefined &&
            (seen.has(parentId) || (inChunk.has(parentId) && Number(parentId) < Number(id)))
          sourceDigest.add(checkpointDigest(id, known ? parentId : null, table.fields(checkpoint), checkpoint.state))
          return known ? { sourceId: id, sourceParentId: parentId, checkpoint } : { sourceId: id, checkpoint }
        })
        // A checkpoint of the source that the target's storage refuses (a row an older writer stored without the
        // checks of a store, an empty agentId say) is the source's failure, not bad usage of the command.
        const result = yield* table.importInto(target, source, imported).pipe(
          Effect.catchTag("CheckpointValidationError", (error) =>
            Effect.fail(
              new CommandFailedError({
                reason: `A checkpoint of ${table.name} in the source cannot be copied: ${error.message}`,
                cause: error
              })
            ))
        )
        for (const { id, sourceId } of result.ids) {
          sourceIdOf.set(id, sourceId)
          seen.add(sourceId)
        }
        copied += result.written
        alreadyThere += result.skipped
        orphans += result.orphans
        yield* progress.advance(checkpoints.length)
      }))
    yield* progress.finish
    const sourceSide = sourceDigest.result()
    const targetSide = yield* targetDigest(table.stream(target, VERIFY_PAGE_SIZE), sourceIdOf, table.fields)
    return {
      table: table.name,
      copied,
      alreadyThere,
      orphans,
      source: sourceSide,
      target: targetSide,
      verified: sourceSide.count === targetSide.count && sourceSide.sha256 === targetSide.sha256
    } satisfies TableReport
  })

const copy = (from: DatabaseUrl, to: DatabaseUrl, batchSize: number) =>
  Effect.scoped(Effect.gen(function*() {
    const source = yield* openStorage(yield* requireExisting(from))
    const target = yield* openStorage(to)
    const totals = yield* source.statistics()
    // The name the target records the copy under: the source database's identity, as the copy ledger has always
    // recorded it (the storage keeps its SHA-256), so that a copy begun by an earlier version resumes.
    const name = from.identity
    const reports: Array<TableReport> = []
    reports.push(
      yield* copyTable(agentTable, { storage: source, total: totals.agentCheckpoints.count }, target, name, batchSize)
    )
    reports.push(
      yield* copyTable(appTable, { storage: source, total: totals.appCheckpoints.count }, target, name, batchSize)
    )
    return reports
  }))

const printReports = (from: DatabaseUrl, to: DatabaseUrl, reports: ReadonlyArray<TableReport>) =>
  Console.log([
    `Copied from ${from.display} to ${to.display}:`,
    ...reports.map((r) =>
      `  ${r.table}: ${r.copied} copied, ${r.alreadyThere} already there from an earlier run` +
      (r.orphans > 0 ? `, ${r.orphans} whose parent was missing (copied without parentId)` : "")
    ),
    "Verification (count and SHA-256 of every checkpoint, state included, on both sides):",
    ...reports.map((r) =>
      `  ${r.table}: ${r.verified ? "equal" : "DIFFERENT"}: source ${r.source.count} ${r.source.sha256.slice(0, 16)}…, ` +
      `target ${r.target.count} ${r.target.sha256.slice(0, 16)}…`
    )
  ].join("\n"))

/**
 * The `copy` command.
 */
export const copyCommand = Command.make(
  "copy",
  {
    from: Options.text("from").pipe(Options.withDescription("The database to copy from (it is not changed)")),
    to: Options.text("to").pipe(
      Options.withDescription("The database to copy into (its tables are created if missing)")
    ),
    batchSize: Options.integer("batch-size").pipe(
      Options.withDescription("Checkpoints per transaction on the target"),
      Options.withDefault(DEFAULT_BATCH_SIZE)
    ),
    json: jsonOption,
    verbose: verboseOption
  },
  (args) =>
    Effect.gen(function*() {
      if (args.batchSize < 1 || args.batchSize > 10_000) {
        return yield* new UsageError({ reason: "--batch-size must be from 1 to 10000" })
      }
      const from = yield* parseDatabaseUrl(args.from)
      const to = yield* parseDatabaseUrl(args.to)
      if (from.identity === to.identity) {
        return yield* new UsageError({ reason: "--from and --to name the same database" })
      }
      const reports = yield* copy(from, to, args.batchSize)
      yield* args.json
        ? printJson({ from: from.display, to: to.display, tables: reports })
        : printReports(from, to, reports)
      const different = reports.filter((r) => !r.verified)
      if (different.length > 0) {
        return yield* new CommandFailedError({
          reason: `The copy does not verify: ${different.map((r) => r.table).join(", ")} differ between ${from.display} ` +
            `and ${to.display}`
        })
      }
    }).pipe(reportFailure(args.verbose))
).pipe(Command.withDescription(commandHelp(
  "Copy every checkpoint from one database to another, in batches; run it again after an interruption to resume " +
    "(nothing is copied twice). Ids are new in the target; parentIds are mapped to them. Verified at the end.",
  "ecs copy --from sqlite:./agent_state.db --to postgres://me:secret@db.internal/agents"
)))
