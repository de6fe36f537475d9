/**
 * `doctor`: the schema report of src/layers/CheckpointSchemaReport.ts (the live schema compared with the one the
 * migrations create, column by column and index by index), printed with how to fix each difference. Exit code 0
 * when everything matches, 1 otherwise. It changes nothing: it runs on the bare client, without building a storage
 * (which would apply the migrations).
 */
import * as Command from "@effect/cli/Command"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { type SchemaFinding, type SchemaFix, schemaReport } from "../layers/CheckpointSchemaReport.js"
import { CliDatabase } from "./CliDatabase.js"
import { CommandFailedError } from "./CliError.js"
import { commandHelp } from "./CommandHelp.js"
import { databaseOptions, jsonOption } from "./CommonOptions.js"
import { printJson } from "./Output.js"
import { withDatabase } from "./RunCommand.js"

/**
 * One thing checked, as `doctor` prints it: its fix as a line a user can act on.
 */
export interface Finding {
  readonly status: SchemaFinding["status"]
  readonly subject: string
  readonly expected: string
  readonly actual: string
  readonly fix?: string | undefined
}

const fixText = (fix: SchemaFix): string => {
  switch (fix._tag) {
    case "RunMigrations":
      return "ecs migrate"
    case "Statement":
      return fix.statement
    case "CopyToNewDatabase":
      return "SQLite cannot change a column in place: copy the checkpoints into a new file (ecs copy --from … --to sqlite:new.db)"
  }
}

const toFinding = ({ fix, ...finding }: SchemaFinding): Finding =>
  fix === undefined ? finding : { ...finding, fix: fixText(fix) }

const label: Record<Finding["status"], string> = { ok: "ok", missing: "MISSING", different: "DIFFERS", extra: "extra" }

/**
 * The `doctor` command.
 */
export const doctorCommand = Command.make("doctor", { json: jsonOption, ...databaseOptions }, (args) =>
  Effect.gen(function*() {
    const { url } = yield* CliDatabase
    const report = yield* schemaReport({ dialect: url.dialect })
    const { expectedVersion, version } = report
    const findings = report.findings.map(toFinding)
    const problems = findings.filter((finding) => finding.status === "missing" || finding.status === "different")
    if (args.json) {
      yield* printJson({ database: url.display, version, expectedVersion, ok: problems.length === 0, findings })
    } else {
      yield* Console.log(`Schema of ${url.display}: version ${version}, expected ${expectedVersion}\n`)
      for (const finding of findings) {
        const detail = finding.status === "ok"
          ? finding.actual
          : `${finding.actual}; expected ${finding.expected}`
        yield* Console.log(`${label[finding.status].padEnd(8)} ${finding.subject}: ${detail}`)
        if (finding.fix !== undefined) yield* Console.log(`         fix: ${finding.fix}`)
      }
      yield* Console.log(
        problems.length === 0
          ? "\nThe schema is as expected."
          : `\n${problems.length} difference${problems.length === 1 ? "" : "s"} from the expected schema.`
      )
    }
    if (problems.length > 0) {
      return yield* new CommandFailedError({
        reason: `The schema of ${url.display} differs from the expected one in ${problems.length} ` +
          `place${problems.length === 1 ? "" : "s"}`
      })
    }
  }).pipe(withDatabase(args))).pipe(Command.withDescription(commandHelp(
  "Compare the live schema with the expected one, column by column and index by index; say what differs and how " +
    "to fix it. Changes nothing; exits with 1 when something differs.",
  "ecs doctor --db mysql://root@localhost/agents"
)))
