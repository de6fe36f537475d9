/**
 * The LangGraph workload: one agent thread as LangGraph's loop checkpoints it, generated once and replayed on every
 * saver, so that each side writes and reads the very same checkpoints.
 *
 * The thread is a tool-calling agent (the shape of `createReactAgent`): an input checkpoint (step -1), then steps that
 * alternate between the model (an AIMessage with a tool call) and the tool (a ToolMessage with its output). Its
 * channels are `messages` (LangChain messages, a list that grows by one message a step), two small scalars
 * (`llm_calls`, a counter bumped by the model; `route`, the next node) and the `__start__` input channel. As in
 * LangGraph's `createCheckpoint`, ids are `uuid6(step)` and `newVersions` names only the channels the step changed;
 * each step's task writes (`putWrites`) go to the checkpoint before it, as the loop writes them.
 */
import { AIMessage, type BaseMessage, HumanMessage, ToolMessage } from "@langchain/core/messages"
import {
  type ChannelVersions,
  type Checkpoint,
  type CheckpointMetadata,
  emptyCheckpoint,
  type PendingWrite,
  uuid6
} from "@langchain/langgraph-checkpoint"
import { prng } from "./workload.js"

/** One step of the thread: what `put` is given, and the writes of the task that ran from its parent. */
export interface AgentStep {
  readonly checkpoint: Checkpoint
  readonly metadata: CheckpointMetadata
  readonly newVersions: ChannelVersions
  /** The checkpoint this one follows (undefined for the input checkpoint). */
  readonly parentId: string | undefined
  /** The writes that produced this step, put on the parent checkpoint (none for the input checkpoint). */
  readonly writes: ReadonlyArray<PendingWrite>
  readonly taskId: string
}

const WORDS = [
  "the", "agent", "reads", "file", "patch", "test", "fails", "because", "index", "query", "returns", "rows", "state",
  "tool", "call", "retry", "model", "token", "budget", "plan", "step", "résumé", "naïve", "λ", "build", "ok"
]

const TOOLS = ["read_file", "run_tests", "search_code", "write_file"]

/**
 * A thread of `steps` loop steps after the input checkpoint (so `steps + 1` checkpoints, the last holding
 * `steps + 1` messages). Deterministic from `seed` except for the ids and timestamps, which LangGraph makes from the
 * clock.
 */
export const agentThread = (steps: number, seed = 1): ReadonlyArray<AgentStep> => {
  const random = prng(seed)
  const words = (n: number) => Array.from({ length: n }, () => WORDS[Math.floor(random() * WORDS.length)]!).join(" ")
  const thread: Array<AgentStep> = []
  const versions: Record<string, number> = {}
  const versionsSeen: Record<string, Record<string, number>> = { __input__: {} }
  const values: Record<string, unknown> = {}
  let messages: ReadonlyArray<BaseMessage> = []
  let llmCalls = 0
  let previous = emptyCheckpoint()
  const bump = (channel: string, changed: ChannelVersions) => {
    versions[channel] = (versions[channel] ?? 0) + 1
    changed[channel] = versions[channel]!
  }
  for (let step = -1; step < steps; step++) {
    const changed: ChannelVersions = {}
    let writes: Array<PendingWrite> = []
    let node = "__input__"
    if (step === -1) {
      // The input: the user's message waits in __start__ for step 0.
      values.__start__ = { messages: [new HumanMessage(`Fix the failing test: ${words(30)}`)] }
      bump("__start__", changed)
    } else if (step === 0) {
      node = "__start__"
      delete values.__start__
      messages = [new HumanMessage(`Fix the failing test: ${words(30)}`)]
      writes = [["messages", messages], ["route", "agent"]]
    } else if (step % 2 === 1) {
      node = "agent"
      llmCalls += 1
      const message = new AIMessage({
        content: words(25 + Math.floor(random() * 30)),
        tool_calls: [{
          id: `call_${step}`,
          name: TOOLS[step % TOOLS.length]!,
          args: { path: `src/module${step}.ts`, query: words(4) },
          type: "tool_call"
        }],
        response_metadata: { model_name: "gpt-bench", finish_reason: "tool_calls" }
      })
      messages = [...messages, message]
      writes = [["messages", [message]], ["llm_calls", llmCalls], ["route", "tools"]]
    } else {
      node = "tools"
      // A tool's output is the large part of a conversation: a file, a test log.
      const message = new ToolMessage({
        content: words(60 + Math.floor(random() * 120)),
        tool_call_id: `call_${step - 1}`,
        name: TOOLS[(step - 1) % TOOLS.length]!
      })
      messages = [...messages, message]
      writes = [["messages", [message]], ["route", "agent"]]
    }
    for (const [channel] of writes) if (!(channel in changed)) bump(channel, changed)
    if (step >= 0) {
      values.messages = messages
      values.route = writes.find(([channel]) => channel === "route")?.[1]
      if (llmCalls > 0) values.llm_calls = llmCalls
      versionsSeen[node] = { ...versions }
    }
    const checkpoint: Checkpoint = {
      v: 4,
      id: uuid6(step),
      ts: new Date().toISOString(),
      channel_values: { ...values },
      channel_versions: { ...versions },
      versions_seen: structuredClone(versionsSeen)
    }
    thread.push({
      checkpoint,
      metadata: { source: step === -1 ? "input" : "loop", step, parents: {} },
      newVersions: changed,
      parentId: step === -1 ? undefined : previous.id,
      writes,
      taskId: uuid6(-1)
    })
    previous = checkpoint
  }
  return thread
}
