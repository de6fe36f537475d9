/**
 * Starting storage workers as separate processes of the runtime the tests run under.
 */
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import type { StorageConfig } from "../../../src/index.js"

const projectRoot = Path.resolve(import.meta.dirname, "../../..")
const workerScript = Path.join(projectRoot, "test/faults/support/storageWorker.ts")
const isBun = typeof process.versions.bun === "string"

export interface WorkerResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly lines: ReadonlyArray<string>
  readonly stderr: string
}

export interface Worker {
  readonly child: ChildProcess.ChildProcess
  readonly lines: Array<string>
  readonly exited: Promise<WorkerResult>
}

/** Starts a worker: Bun runs the TypeScript itself; Node.js runs it through vite-node. */
export const startWorker = (
  config: StorageConfig,
  task: "store-one" | "write-loop" | "load",
  env: Record<string, string> = {}
): Worker => {
  const [command, args] = isBun
    ? [process.execPath, [workerScript]]
    : [Path.join(projectRoot, "node_modules/.bin/vite-node"), [workerScript]]
  const child = ChildProcess.spawn(command, args, {
    cwd: projectRoot,
    env: { ...process.env, CHECKPOINT_CONFIG: JSON.stringify(config), TASK: task, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const lines: Array<string> = []
  let partial = ""
  let stderr = ""
  child.stdout!.on("data", (chunk: Buffer) => {
    const text = partial + chunk.toString()
    const parts = text.split("\n")
    partial = parts.pop() ?? ""
    lines.push(...parts)
  })
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<WorkerResult>((resolve) =>
    child.on("exit", (code, signal) => {
      if (partial !== "" && signal === null) lines.push(partial)
      resolve({ code, signal, lines, stderr })
    })
  )
  return { child, lines, exited }
}

/** Resolves once the worker has printed `count` lines starting with `prefix` (or exited). */
export const waitForLines = (worker: Worker, prefix: string, count: number, timeoutMillis: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const started = Date.now()
    const check = () => {
      if (worker.lines.filter((line) => line.startsWith(prefix)).length >= count) return resolve()
      if (worker.child.exitCode !== null) return reject(new Error(`worker exited early: ${worker.lines.slice(-3).join(" | ")}`))
      if (Date.now() - started > timeoutMillis) return reject(new Error(`no ${count} "${prefix}" lines in ${timeoutMillis} ms`))
      setTimeout(check, 20)
    }
    check()
  })

/** The JSON of a worker's DONE line. */
export const doneSummary = (result: WorkerResult): Record<string, unknown> => {
  const line = result.lines.find((candidate) => candidate.startsWith("DONE "))
  if (line === undefined) {
    throw new Error(`worker did not finish (exit ${result.code} ${result.signal}): ${result.lines.slice(-3).join(" | ")} ${result.stderr.slice(-2000)}`)
  }
  return JSON.parse(line.slice(5)) as Record<string, unknown>
}
