/**
 * `import`: checkpoints from a JSON Lines export (a file or stdin) into a database, in batches. A file written by
 * `export` carries an exportId, recorded in the target's copy ledger: importing it again (after an interruption,
 * or by mistake) adds only what is missing. ParentIds are mapped to the new ids.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Chunk from "effect/Chunk"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Crypto from "node:crypto"
import { refailSqlError } from "../internal/refailSqlError.js"
import { NamedAgentCheckpoint } from "../schema/AgentCheckpoint.js"
import { AppSessionCheckpoint } from "../schema/AppCheckpoint.js"
import { CliDatabase } from "./CliDatabase.js"
import { CommandFailedError, UsageError } from "./CliError.js"
import { databaseOptions, jsonOption } from "./CommonOptions.js"
import { DEFAULT_BATCH_SIZE } from "./CopyCommand.js"
import { ensureLedger, sourceKey, writeBatch } from "./CopyLedger.js"
import { ExportHeader, ExportLine } from "./ExportFormat.js"
import { countLines, readLines } from "./LineFiles.js"
import { printJson } from "./Output.js"
import { makeProgress } from "./Progress.js"
import { withStorage } from "./RunCommand.js"
import { agentTable, appTable, type TransferRow } from "./TransferTables.js"
import { commandHelp } from "./CommandHelp.js"

const decodeHeader = Schema.decodeUnknownEither(Schema.parseJson(ExportHeader))
const decodeLine = Schema.decodeUnknownEither(Schema.parseJson(ExportLine))
// The checks a store makes (lengths, NUL characters, createdAt range), since the import writes rows directly.
const validateAgent = Schema.decodeUnknownEither(NamedAgentCheckpoint)
const validateApp = Schema.decodeUnknownEither(AppSessionCheckpoint)

// The innermost line of the parse error says what is wrong ("Expected string, actual undefined").
const invalidLine = (lineNumber: number, error: ParseResult.ParseError) => {
  const detail = ParseResult.TreeFormatter.formatErrorSync(error).split("\n").at(-1)?.trim() ?? ""
  return new CommandFailedError({ reason: `Line ${lineNumber} is not a checkpoint: ${detail}` })
}

const toRow = (lineNumber: number, text: string) =>
  Effect.gen(function*() {
    const decoded = decodeLine(text)
    if (Either.isLeft(decoded)) return yield* invalidLine(lineNumber, decoded.left)
    const line = decoded.right
    const { id: _, parentId: __, table: ___, ...checkpoint } = line
    const valid = line.table === "agent"
      ? Either.map(validateAgent(checkpoint), () => undefined)
      : Either.map(validateApp(checkpoint), () => undefined)
    if (Either.isLeft(valid)) return yield* invalidLine(lineNumber, valid.left)
    const columns: Record<string, string | number> = line.table === "agent"
      ? {
        sessionId: line.sessionId,
        agentId: line.agentId,
        agentType: line.agentType,
        name: line.name,
        createdAt: line.createdAt
      }
      : {
        sessionId: line.sessionId,
        hostname: line.hostname,
        projectDirectory: line.projectDirectory,
        createdAt: line.createdAt
      }
    const row: TransferRow = {
      sourceId: Number(line.id),
      parentSourceId: line.parentId === undefined || line.parentId === null ? null : Number(line.parentId),
      columns,
      state: JSON.stringify(line.state)
    }
    return [line.table, row] as const
  })

/**
 * The `import` command.
 */
export const importCommand = Command.make(
  "import",
  {
    file: Args.file({ name: "FILE", exists: "yes" }).pipe(
      Args.withDescription("The export file (default: stdin)"),
      Args.optional
    ),
    batchSize: Options.integer("batch-size").pipe(
      Options.withDescription("Checkpoints per transaction"),
      Options.withDefault(DEFAULT_BATCH_SIZE)
    ),
    json: jsonOption,
    ...databaseOptions
  },
  (args) =>
    Effect.gen(function*() {
      if (args.batchSize < 1 || args.batchSize > 10_000) {
        return yield* new UsageError({ reason: "--batch-size must be from 1 to 10000" })
      }
      const { sql, url } = yield* CliDatabase
      const ledger = { sql, dialect: url.dialect }
      const onTarget = Effect.mapError(refailSqlError(url.dialect, "import"))
      yield* onTarget(ensureLedger(ledger))
      const lines = Option.isSome(args.file) ? yield* countLines(args.file.value) : undefined
      const progress = yield* makeProgress(
        "import",
        lines === undefined ? Option.none() : Option.some(Math.max(0, lines - 1))
      )
      // Without a header (a file not written by `export`) the import is not resumable: a fresh key per run.
      const key = yield* Ref.make(sourceKey(`import:${Crypto.randomUUID()}`))
      const totals = yield* Ref.make({ written: 0, skipped: 0, orphans: 0 })
      yield* readLines(args.file).pipe(
        Stream.zipWithIndex,
        Stream.filter(([text]) => text.trim() !== ""),
        Stream.grouped(args.batchSize),
        Stream.runForEach((chunk) =>
          Effect.gen(function*() {
            const agents: Array<TransferRow> = []
            const apps: Array<TransferRow> = []
            for (const [text, index] of Chunk.toReadonlyArray(chunk)) {
              if (index === 0) {
                const header = decodeHeader(text)
                if (Either.isRight(header)) {
                  yield* Ref.set(key, sourceKey(`export:${header.right.exportId}`))
                  continue
                }
              }
              const [table, row] = yield* toRow(index + 1, text)
              ;(table === "agent" ? agents : apps).push(row)
            }
            const currentKey = yield* Ref.get(key)
            for (const [table, rows] of [[agentTable, agents], [appTable, apps]] as const) {
              const result = yield* onTarget(writeBatch(ledger, currentKey, table, rows))
              yield* Ref.update(totals, (t) => ({
                written: t.written + result.written,
                skipped: t.skipped + result.skipped,
                orphans: t.orphans + result.orphans
              }))
              yield* progress.advance(rows.length)
            }
          })
        )
      )
      yield* progress.finish
      const { orphans, skipped, written } = yield* Ref.get(totals)
      yield* args.json
        ? printJson({ database: url.display, imported: written, alreadyThere: skipped, orphans })
        : Console.log(
          `Imported ${written} checkpoints into ${url.display}` +
            (skipped > 0 ? `; ${skipped} were already there from an earlier import of this export` : "") +
            (orphans > 0 ? `; ${orphans} named a parent that is not in the file (imported without parentId)` : "")
        )
    }).pipe(withStorage(args, "write"))
).pipe(Command.withDescription(commandHelp(
  "Import checkpoints from a JSON Lines export (file or stdin). Importing the same export again adds only what is " +
    "missing, so an interrupted import is resumed by running it again.",
  "ecs import checkpoints.jsonl --db postgres://me@localhost/agents"
)))
