/**
 * The demo behind `npm start`: a small simulated agent checkpoints each step into an embedded SQLite file,
 * "crashes", and a new run resumes from the newest checkpoint. It prints what it stored and what it read back.
 *
 * Usage: node dist/cli/demo.js [databasePath]   (default ./agent_state.db)
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { layerFromConfig } from "../layers/FromConfig.js"
import { CheckpointStorage } from "../services/CheckpointStorage.js"

interface AgentState {
  readonly step: number
  readonly messages: ReadonlyArray<{ readonly role: "user" | "assistant"; readonly content: string }>
  readonly toolCalls: number
}

const databasePath = process.argv[2] ?? "./agent_state.db"
const sessionId = `demo-${new Date().toISOString()}`

const runAgent = (from: AgentState, steps: number) =>
  Effect.gen(function*() {
    const storage = yield* CheckpointStorage
    let state = from
    for (let i = 0; i < steps; i++) {
      state = {
        step: state.step + 1,
        messages: [...state.messages, { role: "assistant", content: `finished step ${state.step + 1}` }],
        toolCalls: state.toolCalls + (state.step % 2)
      }
      const id = yield* storage.storeAgentCheckpoint({
        agentId: "demo-agent",
        sessionId,
        agentType: "coder",
        name: `step-${state.step}`,
        state: { ...state },
        createdAt: Date.now()
      })
      yield* Console.log(`  stored checkpoint ${id}: step ${state.step}, ${state.messages.length} messages`)
    }
    return state
  })

const resume = Effect.gen(function*() {
  const storage = yield* CheckpointStorage
  const newest = (yield* storage.listAgentCheckpoints()).find((item) => item.sessionId === sessionId)
  if (newest === undefined) return yield* Effect.dieMessage("no checkpoint to resume from")
  const checkpoint = yield* storage.retrieveAgentCheckpoint(newest.id)
  if (Option.isNone(checkpoint)) return yield* Effect.dieMessage(`checkpoint ${newest.id} vanished`)
  yield* Console.log(`  read back checkpoint ${checkpoint.value.id} (${checkpoint.value.name}):`)
  yield* Console.log(`  ${JSON.stringify(checkpoint.value.state)}`)
  return checkpoint.value.state as unknown as AgentState
})

// Each run builds its own storage (its own connection, its own migration check), as a restarted process would.
const storageLayer = layerFromConfig({ type: "sqlite", databasePath })

const firstRun = Effect.gen(function*() {
  yield* Console.log("Run 1: the agent works three steps, then crashes.")
  yield* runAgent({ step: 0, messages: [{ role: "user", content: "Fix the failing test" }], toolCalls: 0 }, 3)
  yield* Console.log("  💥 crash\n")
}).pipe(Effect.provide(storageLayer))

const secondRun = Effect.gen(function*() {
  yield* Console.log("Run 2: a new run resumes from the newest checkpoint.")
  const resumed = yield* resume
  const finished = yield* runAgent(resumed, 2)
  yield* Console.log(`  done at step ${finished.step}\n`)

  const storage = yield* CheckpointStorage
  const appId = yield* storage.storeAppCheckpoint({
    sessionId,
    hostname: "localhost",
    projectDirectory: process.cwd(),
    state: { openFiles: ["src/index.ts"], lastStep: finished.step },
    createdAt: Date.now()
  })
  const latestApp = yield* storage.retrieveLatestAppCheckpoint()
  yield* Console.log(`App checkpoint ${appId} stored; the latest app checkpoint read back:`)
  yield* Console.log(`  ${JSON.stringify(Option.getOrNull(latestApp))}`)
  const count = (yield* storage.listAgentCheckpoints()).length
  yield* Console.log(`\n${count} agent checkpoints in ${databasePath} in all.`)
}).pipe(Effect.provide(storageLayer))

const program = Console.log(`Checkpoints go to the SQLite file ${databasePath}, session ${sessionId}\n`).pipe(
  Effect.zipRight(firstRun),
  Effect.zipRight(secondRun)
)

Effect.runPromiseExit(program).then((exit) => {
  if (exit._tag === "Failure") {
    console.error(String(exit.cause))
    process.exitCode = 1
  }
})
