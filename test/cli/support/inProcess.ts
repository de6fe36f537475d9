/**
 * A command of the CLI run inside the test process: the same command value and the same layers as the binary,
 * without starting a process per run (for property tests, which run a command many times). Its stdout (what it
 * logs through Console) and stderr (Console errors and the progress lines it writes to process.stderr) are
 * captured; the exit code is computed as main.ts computes it.
 */
import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Console, Effect } from "effect"
import type { CliResult } from "./cli.js"

/**
 * Runs `command` with `args` (what follows the command's name on the command line). Not reentrant: it captures
 * process.stderr while it runs, so runs must not overlap.
 */
export const runInProcess = async <Name extends string, R, E, A>(
  command: Command.Command<Name, R, E, A>,
  args: ReadonlyArray<string>
): Promise<CliResult> => {
  const stdout: Array<string> = []
  const stderr: Array<string> = []
  const format = (parts: ReadonlyArray<unknown>) => `${parts.map(String).join(" ")}\n`
  const capture = Console.consoleWith((console) =>
    Effect.succeed<Console.Console>({
      ...console,
      log: (...parts) => Effect.sync(() => void stdout.push(format(parts))),
      error: (...parts) => Effect.sync(() => void stderr.push(format(parts)))
    })
  )
  const run = Command.run(command, { name: "ecs", version: "0.0.0" })(["node", "ecs", ...args]).pipe(
    Effect.as(0),
    Effect.catchAll((error: unknown) =>
      Effect.succeed(
        ValidationError.isValidationError(error)
          ? 2
          : typeof error === "object" && error !== null && "_tag" in error && error._tag === "ExitCode" &&
              "code" in error && typeof error.code === "number"
          ? error.code
          : 1
      )
    ),
    Effect.provide(NodeContext.layer)
  ) as Effect.Effect<number>
  const write = process.stderr.write
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"))
    return true
  }) as typeof process.stderr.write
  try {
    const code = await Effect.runPromise(Effect.flatMap(capture, (console) => Console.withConsole(run, console)))
    return { code, signal: null, stdout: stdout.join(""), stderr: stderr.join("") }
  } finally {
    process.stderr.write = write
  }
}
