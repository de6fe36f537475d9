/**
 * `import`: checkpoints from a JSON Lines export (a file or stdin) into a database, in batches, through the storage's
 * `importAgentCheckpoints` / `importAppCheckpoints` (one transaction per batch and table). A file written by
 * `export` carries an exportId, which names the import's source: importing it again (after an interruption, or by
 * mistake) adds only what is missing. ParentIds are mapped to the new ids.
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
import { ImportedAgentCheckpoint, ImportedAppCheckpoint, type ImportResult } from "../schema/CheckpointImport.js"
import { CheckpointStorage } from "../services/CheckpointStorage.js"
import { CliDatabase } from "./CliDatabase.js"
import { CommandFailedError, UsageError } from "./CliError.js"
import { commandHelp } from "./CommandHelp.js"
import { databaseOptions, jsonOption } from "./CommonOptions.js"
import { DEFAULT_BATCH_SIZE } from "./CopyCommand.js"
import { ExportHeader, ExportLine } from "./ExportFormat.js"
import { countLines, readLines } from "./LineFiles.js"
import { printJson } from "./Output.js"
import { makeProgress } from "./Progress.js"
import { withStorage } from "./RunCommand.js"

const decodeHeader = Schema.decodeUnknownEither(Schema.parseJson(ExportHeader))
const decodeLine = Schema.decodeUnknownEither(Schema.parseJson(ExportLine))
// The storage checks every checkpoint as a store does; checked here first too, so that a bad line is named by its
// number rather than by its place in a batch.
const checkAgent = Schema.decodeUnknownEither(ImportedAgentCheckpoint)
const checkApp = Schema.decodeUnknownEither(ImportedAppCheckpoint)

/**
 * The import's source for a file written by `export`: the same name the copy ledger has always recorded it under,
 * so that a file imported by an earlier version is not imported twice.
 */
const exportSource = (exportId: string) => `export:${exportId}`

// The innermost line of the parse error says what is wrong ("Expected string, actual undefined").
const invalidLine = (lineNumber: number, error: ParseResult.ParseError) => {
  const detail = ParseResult.TreeFormatter.formatErrorSync(error).split("\n").at(-1)?.trim() ?? ""
  return new CommandFailedError({ reason: `Line ${lineNumber} is not a checkpoint: ${detail}` })
}

type Imported =
  | { readonly table: "agent"; readonly checkpoint: ImportedAgentCheckpoint }
  | { readonly table: "app"; readonly checkpoint: ImportedAppCheckpoint }

const toImported = (lineNumber: number, text: string): Effect.Effect<Imported, CommandFailedError> => {
  const decoded = decodeLine(text)
  if (Either.isLeft(decoded)) return Effect.fail(invalidLine(lineNumber, decoded.left))
  const { id, parentId, table, ...checkpoint } = decoded.right
  const ids = {
    sourceId: String(id),
    ...(parentId === undefined || parentId === null ? {} : { sourceParentId: String(parentId) })
  }
  if (table === "agent") {
    const checked = checkAgent({ ...ids, checkpoint })
    return Either.isLeft(checked)
      ? Effect.fail(invalidLine(lineNumber, checked.left))
      : Effect.succeed({ table, checkpoint: checked.right })
  }
  const checked = checkApp({ ...ids, checkpoint })
  return Either.isLeft(checked)
    ? Effect.fail(invalidLine(lineNumber, checked.left))
    : Effect.succeed({ table, checkpoint: checked.right })
}

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
      const storage = yield* CheckpointStorage
      const { url } = yield* CliDatabase
      const lines = Option.isSome(args.file) ? yield* countLines(args.file.value) : undefined
      const progress = yield* makeProgress(
        "import",
        lines === undefined ? Option.none() : Option.some(Math.max(0, lines - 1))
      )
      // Without a header (a file not written by `export`) the import is not resumable: a fresh source per run.
      const source = yield* Ref.make(`import:${Crypto.randomUUID()}`)
      const totals = yield* Ref.make({ written: 0, skipped: 0, orphans: 0 })
      const record = (result: ImportResult) =>
        Ref.update(totals, (t) => ({
          written: t.written + result.written,
          skipped: t.skipped + result.skipped,
          orphans: t.orphans + result.orphans
        }))
      yield* readLines(args.file).pipe(
        Stream.zipWithIndex,
        Stream.filter(([text]) => text.trim() !== ""),
        Stream.grouped(args.batchSize),
        Stream.runForEach((chunk) =>
          Effect.gen(function*() {
            const agents: Array<ImportedAgentCheckpoint> = []
            const apps: Array<ImportedAppCheckpoint> = []
            for (const [text, index] of Chunk.toReadonlyArray(chunk)) {
              if (index === 0) {
                const header = decodeHeader(text)
                if (Either.isRight(header)) {
                  yield* Ref.set(source, exportSource(header.right.exportId))
                  continue
                }
              }
              const imported = yield* toImported(index + 1, text)
              if (imported.table === "agent") agents.push(imported.checkpoint)
              else apps.push(imported.checkpoint)
            }
            const from = yield* Ref.get(source)
            if (agents.length > 0) {
              yield* record(yield* storage.importAgentCheckpoints(from, agents))
              yield* progress.advance(agents.length)
            }
            if (apps.length > 0) {
              yield* record(yield* storage.importAppCheckpoints(from, apps))
              yield* progress.advance(apps.length)
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
