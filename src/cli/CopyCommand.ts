/**
 * `copy --from URL --to URL`: moves every checkpoint from one database to another (SQLite → PostgreSQL is the usual
 * case), in batches, resumable after an interruption without duplicates (see CopyLedger), and verified at the end.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type { SqlError } from "@effect/sql/SqlError"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { refailSqlError } from "../internal/refailSqlError.js"
import { CliDatabase, layerStorage } from "./CliDatabase.js"
import { CommandFailedError, UsageError } from "./CliError.js"
import { jsonOption, verboseOption } from "./CommonOptions.js"
import { ensureLedger, ledgerPosition, sourceKey, writeBatch } from "./CopyLedger.js"
import { sourceDigest, type TableDigest, targetDigest } from "./CopyVerification.js"
import { type DatabaseUrl, parseDatabaseUrl, requireExisting } from "./DatabaseUrl.js"
import { printJson } from "./Output.js"
import { makeProgress } from "./Progress.js"
import { reportFailure } from "./RunCommand.js"
import { countRows, readRows, transferTables } from "./TransferTables.js"
import { commandHelp } from "./CommandHelp.js"

/**
 * The size of a batch (one transaction on the target) when none is given.
 */
export const DEFAULT_BATCH_SIZE = 500

const openDatabase = (url: DatabaseUrl) =>
  Effect.map(Layer.build(layerStorage(url)), (context) => Context.get(context, CliDatabase))

interface TableReport {
  readonly table: string
  readonly copied: number
  readonly alreadyThere: number
  readonly orphans: number
  readonly source: TableDigest
  readonly target: TableDigest
  readonly verified: boolean
}

const copy = (from: DatabaseUrl, to: DatabaseUrl, batchSize: number) =>
  Effect.scoped(Effect.gen(function*() {
    const source = yield* openDatabase(yield* requireExisting(from))
    const target = yield* openDatabase(to)
    const onSource = <A>(effect: Effect.Effect<A, SqlError>) =>
      Effect.mapError(effect, refailSqlError(from.dialect, "copy (reading the source)"))
    const onTarget = <A>(effect: Effect.Effect<A, SqlError>) =>
      Effect.mapError(effect, refailSqlError(to.dialect, "copy (writing the target)"))
    const ledger = { sql: target.sql, dialect: to.dialect }
    const key = sourceKey(from.identity)
    yield* onTarget(ensureLedger(ledger))

    const reports: Array<TableReport> = []
    for (const table of transferTables) {
      const total = yield* onSource(countRows(source.sql, table))
      const position = yield* onTarget(ledgerPosition(ledger, key, table))
      const progress = yield* makeProgress(`copy ${table.name}`, Option.some(total))
      yield* progress.advance(position.copied)
      let after = position.lastSourceId
      let copied = 0
      let orphans = 0
      while (true) {
        const rows = yield* onSource(readRows(source.sql, table, after, batchSize))
        const last = rows.at(-1)
        if (last === undefined) break
        const result = yield* onTarget(writeBatch(ledger, key, table, rows))
        copied += result.written
        orphans += result.orphans
        yield* progress.advance(result.written + result.skipped)
        after = last.sourceId
      }
      yield* progress.finish
      const sourceSide = yield* onSource(sourceDigest(source.sql, table))
      const targetSide = yield* onTarget(targetDigest(target.sql, key, table))
      reports.push({
        table: table.name,
        copied,
        alreadyThere: position.copied,
        orphans,
        source: sourceSide,
        target: targetSide,
        verified: sourceSide.count === targetSide.count && sourceSide.sha256 === targetSide.sha256
      })
    }
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
