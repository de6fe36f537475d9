/**
 * A separate process using the storage, for the tests that need several processes or kill one: run with
 * `vite-node` under Node.js or with `bun` under Bun. It reads its task from the environment:
 *   CHECKPOINT_CONFIG  the storage config as JSON ({ type: "sqlite", databasePath } or a server's connectionString)
 *   TASK               "store-one" | "write-loop" | "load"
 *   WRITER             a name for this writer (default: the pid)
 *   COUNT, CONCURRENCY for write-loop and load
 * and prints one line per acknowledged store ("ACK <id> <step>") for write-loop, and a last JSON line "DONE {…}".
 */
import { Effect, Option } from "effect"
import { CheckpointStorage, layerFromConfig, type StorageConfig } from "../../../src/index.js"
import { workloadCheckpoint } from "./workload.js"

const config = JSON.parse(process.env.CHECKPOINT_CONFIG ?? "null") as StorageConfig
const task = process.env.TASK ?? "store-one"
const writer = process.env.WRITER ?? String(process.pid)
const count = Number(process.env.COUNT ?? 1)
const concurrency = Number(process.env.CONCURRENCY ?? 1)

const storeOne = Effect.flatMap(CheckpointStorage, (storage) =>
  Effect.map(storage.storeAgentCheckpoint(workloadCheckpoint(writer, 0)), (id) => ({ id })))

// Stores steps 0, 1, 2, … and prints each acknowledgement at once (a killed writer's last ones may be lost, which
// only makes the check stricter: whatever was printed must be on disk).
const writeLoop = Effect.gen(function*() {
  const storage = yield* CheckpointStorage
  let stored = 0
  yield* Effect.forEach(Array.from({ length: count }, (_, step) => step), (step) =>
    Effect.map(storage.storeAgentCheckpoint(workloadCheckpoint(writer, step)), (id) => {
      process.stdout.write(`ACK ${id} ${step}\n`)
      stored++
    }), { concurrency, discard: true })
  return { stored }
})

// Writers and readers at once: every store is read back right away by another fiber and compared.
const load = Effect.gen(function*() {
  const storage = yield* CheckpointStorage
  let stored = 0
  let mismatches = 0
  yield* Effect.forEach(Array.from({ length: count }, (_, step) => step), (step) =>
    Effect.gen(function*() {
      const checkpoint = workloadCheckpoint(writer, step)
      const id = yield* storage.storeAgentCheckpoint(checkpoint)
      stored++
      const read = yield* storage.retrieveAgentCheckpoint(id)
      if (Option.isNone(read) || JSON.stringify(read.value.state) !== JSON.stringify(checkpoint.state)) mismatches++
      if (step % 50 === 0) yield* storage.listAgentCheckpoints({ agentId: checkpoint.agentId, limit: 20 })
    }), { concurrency, discard: true })
  return { stored, mismatches }
})

const program: Effect.Effect<Record<string, unknown>, unknown, CheckpointStorage> = task === "write-loop"
  ? writeLoop
  : task === "load"
  ? load
  : storeOne

Effect.runPromiseExit(program.pipe(Effect.provide(layerFromConfig(config)))).then((exit) => {
  if (exit._tag === "Success") {
    process.stdout.write(`DONE ${JSON.stringify({ writer, ...exit.value })}\n`)
  } else {
    process.stdout.write(`FAILED ${String(exit.cause)}\n`)
    process.exitCode = 1
  }
})
