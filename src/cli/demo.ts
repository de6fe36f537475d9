/**
 * `demo`: a small simulated agent checkpoints each step, "crashes", and a new run resumes from the newest
 * checkpoint. It prints what it stored and what it read back. `npm start` runs it on the embedded default database.
 */
import * as Command from "@effect/cli/Command"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { CheckpointStorage } from "../services/CheckpointStorage.js"
import { layerStorage } from "./CliDatabase.js"
import { CommandFailedError } from "./CliError.js"
import { commandHelp } from "./CommandHelp.js"
import { databaseOptions } from "./CommonOptions.js"
import { type DatabaseUrl, parseDatabaseUrl } from "./DatabaseUrl.js"
import { reportFailure } from "./RunCommand.js"

interface AgentState {
  readonly step: number
  readonly messages: ReadonlyArray<{ readonly role: "user" | "assistant"; readonly content: string }>
  readonly toolCalls: number
}

const runAgent = (sessionId: string, from: AgentState, steps: number) =>
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

const resume = (sessionId: string) => Effect.gen(function*() {
  const storage = yield* CheckpointStorage
  const checkpoint = yield* storage.retrieveLatestAgentCheckpoint({ sessionId })
  if (Option.isNone(checkpoint)) {
    return yield* new CommandFailedError({ reason: `No checkpoint of session ${sessionId} to resume from` })
  }
  yield* Console.log(`  read back checkpoint ${checkpoint.value.id} (${checkpoint.value.name}):`)
  yield* Console.log(`  ${JSON.stringify(checkpoint.value.state)}`)
  return checkpoint.value.state as unknown as AgentState
})

// Each run builds its own storage (its own connection, its own migration check), as a restarted process would.
const demo = (url: DatabaseUrl) =>
  Effect.gen(function*() {
    const sessionId = `demo-${new Date().toISOString()}`
    const where = url.dialect === "sqlite" ? `the SQLite file ${url.display}` : url.display
    yield* Console.log(`Checkpoints go to ${where}, session ${sessionId}\n`)

    yield* Effect.gen(function*() {
      yield* Console.log("Run 1: the agent works three steps, then crashes.")
      yield* runAgent(sessionId, { step: 0, messages: [{ role: "user", content: "Fix the failing test" }], toolCalls: 0 }, 3)
      yield* Console.log("  💥 crash\n")
    }).pipe(Effect.provide(layerStorage(url)))

    yield* Effect.gen(function*() {
      yield* Console.log("Run 2: a new run resumes from the newest checkpoint.")
      const resumed = yield* resume(sessionId)
      const finished = yield* runAgent(sessionId, resumed, 2)
      yield* Console.log(`  done at step ${finished.step}\n`)

      const storage = yield* CheckpointStorage
      const appId = yield* storage.storeAppCheckpoint({
        sessionId,
        hostname: "localhost",
        workspaceDirectory: process.cwd(),
        state: { openFiles: ["src/index.ts"], lastStep: finished.step },
        createdAt: Date.now()
      })
      const latestApp = yield* storage.retrieveLatestAppCheckpoint()
      yield* Console.log(`App checkpoint ${appId} stored; the latest app checkpoint read back:`)
      yield* Console.log(`  ${JSON.stringify(Option.getOrNull(latestApp))}`)
      const count = (yield* storage.statistics()).agentCheckpoints.count
      yield* Console.log(`\n${count} agent checkpoints in ${url.display} in all.`)
    }).pipe(Effect.provide(layerStorage(url)))
  })

/**
 * The `demo` command.
 */
export const demoCommand = Command.make("demo", databaseOptions, (args) =>
  Effect.flatMap(parseDatabaseUrl(args.db), demo).pipe(reportFailure(args.verbose))).pipe(
    Command.withDescription(commandHelp(
      "Run a small simulated agent that checkpoints each step, crashes, and resumes from its latest checkpoint.",
      "ecs demo",
      "ecs demo --db postgres://me@localhost/agents"
    ))
  )
