/**
 * `doctor`: compares the live schema with the one the migrations create, column by column and index by index, and
 * says what differs and how to fix it. Exit code 0 when everything matches, 1 otherwise. It changes nothing.
 */
import * as Command from "@effect/cli/Command"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { refailSqlError } from "../internal/refailSqlError.js"
import type { Dialect } from "../services/CheckpointStorageError.js"
import { CliDatabase } from "./CliDatabase.js"
import { CommandFailedError } from "./CliError.js"
import { databaseOptions, jsonOption } from "./CommonOptions.js"
import { type ExpectedColumn, expectedTables, MYSQL_COLLATION } from "./ExpectedSchema.js"
import { liveColumns, liveIndexes } from "./LiveSchema.js"
import { printJson } from "./Output.js"
import { withDatabase } from "./RunCommand.js"
import { appliedMigrations, expectedMigrations, expectedVersion } from "./SchemaVersion.js"
import { commandHelp } from "./CommandHelp.js"

/**
 * One thing checked: what was expected, what is there, and when they differ, how to fix it.
 */
export interface Finding {
  readonly status: "ok" | "missing" | "different" | "extra"
  readonly subject: string
  readonly expected: string
  readonly actual: string
  readonly fix?: string | undefined
}

const quote = (dialect: Dialect, name: string) => (dialect === "mysql" ? `\`${name}\`` : `"${name}"`)

const describeColumn = (column: { readonly type: string; readonly nullable: boolean }) =>
  `${column.type} ${column.nullable ? "NULL" : "NOT NULL"}`

const columnFix = (dialect: Dialect, table: string, column: ExpectedColumn, exists: boolean): string => {
  const t = quote(dialect, table)
  const c = quote(dialect, column.name)
  const nullability = column.nullable ? "NULL" : "NOT NULL"
  switch (dialect) {
    case "pg":
      return exists
        ? `ALTER TABLE ${t} ALTER COLUMN ${c} TYPE ${column.type}, ALTER COLUMN ${c} ${column.nullable ? "DROP" : "SET"} NOT NULL`
        : `ALTER TABLE ${t} ADD COLUMN ${c} ${column.type} ${nullability}`
    case "mysql": {
      const collate = /text|char/.test(column.type) ? ` COLLATE ${MYSQL_COLLATION}` : ""
      return `ALTER TABLE ${t} ${exists ? "MODIFY" : "ADD COLUMN"} ${c} ${column.type.toUpperCase()}${collate} ${nullability}`
    }
    case "sqlite":
      return exists
        ? "SQLite cannot change a column in place: copy the checkpoints into a new file (ecs copy --from … --to sqlite:new.db)"
        : `ALTER TABLE ${t} ADD COLUMN ${c} ${column.type.toUpperCase()} ${nullability}`
  }
}

const inspect = Effect.gen(function*() {
  const { url } = yield* CliDatabase
  const dialect = url.dialect
  const findings: Array<Finding> = []
  const applied = yield* appliedMigrations
  const appliedIds = new Set(applied.map(([id]) => id))
  for (const [id, name] of expectedMigrations) {
    findings.push(
      appliedIds.has(id)
        ? { status: "ok", subject: `migration ${id} ${name}`, expected: "applied", actual: "applied" }
        : {
          status: "missing",
          subject: `migration ${id} ${name}`,
          expected: "applied",
          actual: "not applied",
          fix: "ecs migrate"
        }
    )
  }
  for (const table of expectedTables(dialect)) {
    const columns = yield* liveColumns(table.name)
    if (columns.length === 0) {
      findings.push({
        status: "missing",
        subject: `table ${table.name}`,
        expected: "present",
        actual: "absent",
        fix: "ecs migrate"
      })
      continue
    }
    for (const expected of table.columns) {
      const subject = `column ${table.name}.${expected.name}`
      const actual = columns.find((column) => column.name === expected.name)
      if (actual === undefined) {
        findings.push({
          status: "missing",
          subject,
          expected: describeColumn(expected),
          actual: "absent",
          fix: appliedIds.size < expectedMigrations.length ? "ecs migrate" : columnFix(dialect, table.name, expected, false)
        })
        continue
      }
      const collationWrong = dialect === "mysql" && /text|char/.test(expected.type) && actual.collation !== MYSQL_COLLATION
      const same = actual.type === expected.type && actual.nullable === expected.nullable && !collationWrong
      const describe = (column: { readonly type: string; readonly nullable: boolean }, collation: string | null) =>
        `${describeColumn(column)}${dialect === "mysql" && collation !== null ? ` ${collation}` : ""}`
      findings.push({
        status: same ? "ok" : "different",
        subject,
        expected: describe(expected, /text|char/.test(expected.type) ? MYSQL_COLLATION : null),
        actual: describe(actual, actual.collation),
        ...(same ? {} : { fix: columnFix(dialect, table.name, expected, true) })
      })
    }
    for (const extra of columns.filter((column) => !table.columns.some((expected) => expected.name === column.name))) {
      findings.push({
        status: "extra",
        subject: `column ${table.name}.${extra.name}`,
        expected: "absent",
        actual: describeColumn(extra)
      })
    }
    const indexes = yield* liveIndexes(table.name)
    for (const expected of table.indexes) {
      const columnsText = `(${expected.columns.join(", ")})`
      const subject = `index ${table.name} ${columnsText}`
      const actual = indexes.find((index) => index.columns.join(",") === expected.columns.join(","))
      findings.push(
        actual === undefined
          ? {
            status: "missing",
            subject,
            expected: expected.name,
            actual: "absent",
            fix: `CREATE INDEX ${quote(dialect, expected.name)} ON ${quote(dialect, table.name)} (${
              expected.columns.map((column) => quote(dialect, column)).join(", ")
            })`
          }
          : { status: "ok", subject, expected: expected.name, actual: actual.name }
      )
    }
  }
  return { version: applied.at(-1)?.[0] ?? 0, findings }
}).pipe(
  Effect.catchTag("SqlError", (error) =>
    Effect.flatMap(CliDatabase, ({ url }) => Effect.fail(refailSqlError(url.dialect, "doctor")(error))))
)

const label: Record<Finding["status"], string> = { ok: "ok", missing: "MISSING", different: "DIFFERS", extra: "extra" }

/**
 * The `doctor` command.
 */
export const doctorCommand = Command.make("doctor", { json: jsonOption, ...databaseOptions }, (args) =>
  Effect.gen(function*() {
    const { url } = yield* CliDatabase
    const { findings, version } = yield* inspect
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
