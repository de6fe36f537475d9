/**
 * The CLI as users run it: the compiled binary in a child process. Each test file compiles the sources into a
 * private folder (never dist/, which another test packs), and removes it afterwards.
 */
import { execFile, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { promisify } from "node:util"
import { randomSuffix } from "../../support/TestDatabase.js"

export const projectRoot = Path.resolve(import.meta.dirname, "../../..")

export interface CliBuild {
  readonly main: string
  readonly remove: () => void
}

/** Compiles src/ (tsconfig.build.json) into .vitest-tmp/cli-dist-<random> and returns the path of cli/main.js. */
export const buildCli = async (): Promise<CliBuild> => {
  const outDir = Path.join(projectRoot, ".vitest-tmp", `cli-dist-${randomSuffix()}`)
  await promisify(execFile)(
    process.execPath,
    [Path.join(projectRoot, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", outDir],
    { cwd: projectRoot }
  )
  return { main: Path.join(outDir, "cli/main.js"), remove: () => Fs.rmSync(outDir, { recursive: true, force: true }) }
}

export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunOptions {
  readonly cwd?: string
  readonly env?: Readonly<Record<string, string>>
  readonly input?: string
}

/** The environment of a run: without CHECKPOINT_DB unless the test sets it, so a developer's own never leaks in. */
const environment = (extra: Readonly<Record<string, string>> | undefined): NodeJS.ProcessEnv => {
  const { CHECKPOINT_DB: _, ...rest } = process.env
  return { ...rest, NO_COLOR: "1", ...extra }
}

/** Starts the binary; `done` resolves when it exits. */
export const startCli = (main: string, args: ReadonlyArray<string>, options: RunOptions = {}) => {
  const child = spawn(process.execPath, [main, ...args], {
    cwd: options.cwd ?? projectRoot,
    env: environment(options.env),
    stdio: ["pipe", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
  if (options.input !== undefined) child.stdin.end(options.input)
  else child.stdin.end()
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject)
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  return { child, done, output: () => ({ stdout, stderr }) }
}

/** Runs the binary to its end. */
export const runCli = (main: string, args: ReadonlyArray<string>, options: RunOptions = {}): Promise<CliResult> =>
  startCli(main, args, options).done

/** Without ANSI styles (the help of @effect/cli is styled). */
export const plain = (text: string): string => text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "")

/** A temporary directory, removed by the returned function. */
export const temporaryDirectory = (): { readonly path: string; readonly remove: () => void } => {
  const path = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ecs-cli-test-"))
  return { path, remove: () => Fs.rmSync(path, { recursive: true, force: true }) }
}

/**
 * An export file of `count` checkpoints: every 20th an app checkpoint, the others agent checkpoints in chains of 10
 * (each continues the previous one), in 37 sessions and 7 agents, with states of varied size and characters.
 */
export const exportFile = (path: string, count: number, exportId = `test-${randomSuffix()}`): void => {
  const lines = [JSON.stringify({ format: "effect-checkpoint-storage/jsonl", version: 1, exportId })]
  for (let i = 1; i <= count; i++) {
    const createdAt = 1_700_000_000_000 + i * 1000
    lines.push(JSON.stringify(
      i % 20 === 0
        ? {
          table: "app",
          id: String(i),
          parentId: null,
          sessionId: `session-${i % 37}`,
          hostname: `host-${i % 3}`,
          workspaceDirectory: `/work/project-${i % 5}`,
          createdAt,
          state: { openFiles: [`file-${i}.ts`], note: "é😀\u0000".repeat(i % 4) }
        }
        : {
          table: "agent",
          id: String(i),
          parentId: i % 10 === 1 ? null : String(i - 1),
          sessionId: `session-${i % 37}`,
          agentId: `agent-${i % 7}`,
          agentType: i % 2 === 0 ? "coder" : "reviewer",
          name: `step-${i}`,
          createdAt,
          state: { step: i, messages: ["x".repeat(i % 300)], nested: { unicode: "日本語", n: i / 7 } }
        }
    ))
  }
  Fs.writeFileSync(path, `${lines.join("\n")}\n`)
}
