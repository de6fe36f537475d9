/**
 * Deterministic agent states: conversations with roles, tool calls and counters, grown to a target JSON size from a
 * seed, so that every run (and every side of a comparison) stores the very same bytes.
 */

/** mulberry32: a small, fast, seedable PRNG (public domain). */
export const prng = (seed: number) => {
  let a = seed >>> 0
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const WORDS = [
  "the", "agent", "reads", "file", "patch", "test", "fails", "because", "index", "query", "returns", "rows", "state",
  "tool", "call", "retry", "model", "token", "budget", "plan", "step", "résumé", "naïve", "🙂", "λ", "build", "ok"
]

const sentence = (random: () => number, words: number): string =>
  Array.from({ length: words }, () => WORDS[Math.floor(random() * WORDS.length)]!).join(" ")

/** An agent state whose JSON is at least `targetBytes` long (and a little more, by at most one message). */
export const agentState = (targetBytes: number, seed: number): Record<string, unknown> => {
  const random = prng(seed)
  const messages: Array<Record<string, unknown>> = [{ role: "system", content: sentence(random, 40) }]
  const counters = { steps: 0, toolCalls: 0, tokensIn: 0, tokensOut: 0 }
  const state: Record<string, unknown> = {
    agent: { id: `agent-${seed % 97}`, model: "gpt-bench", temperature: 0.2 },
    messages,
    counters,
    memory: { facts: [] as Array<string>, lastFile: null as string | null },
    toolsEnabled: ["read_file", "write_file", "run_tests", "search"],
    flags: { dryRun: false, verbose: random() < 0.5 }
  }
  let size = JSON.stringify(state).length
  while (size < targetBytes) {
    counters.steps++
    const step = counters.steps
    let message: Record<string, unknown>
    const kind = random()
    if (kind < 0.35) {
      message = { role: "user", content: sentence(random, 10 + Math.floor(random() * 60)) }
    } else if (kind < 0.7) {
      const calls = Array.from({ length: 1 + Math.floor(random() * 2) }, (_, index) => ({
        id: `call_${step}_${index}`,
        type: "function",
        function: {
          name: ["read_file", "write_file", "run_tests", "search"][Math.floor(random() * 4)]!,
          arguments: JSON.stringify({ path: `src/module${Math.floor(random() * 50)}.ts`, line: Math.floor(random() * 900) })
        }
      }))
      counters.toolCalls += calls.length
      message = { role: "assistant", content: sentence(random, 5 + Math.floor(random() * 30)), tool_calls: calls }
    } else {
      message = {
        role: "tool",
        tool_call_id: `call_${step}_0`,
        content: sentence(random, 20 + Math.floor(random() * 120)),
        exitCode: random() < 0.8 ? 0 : 1
      }
    }
    counters.tokensIn += Math.floor(random() * 800)
    counters.tokensOut += Math.floor(random() * 300)
    messages.push(message)
    size += JSON.stringify(message).length + 1
  }
  return state
}

/** The sizes of the workloads. */
export const SIZES = { "1KiB": 1024, "64KiB": 64 * 1024, "1MiB": 1024 * 1024 } as const
export type SizeName = keyof typeof SIZES

export interface BenchCheckpoint {
  readonly agentId: string
  readonly sessionId: string
  readonly agentType: string
  readonly name: string
  readonly state: Record<string, unknown>
  readonly createdAt: number
}

/** `count` distinct checkpoints of one size (distinct states, so no side benefits from a repeated value). */
export const checkpoints = (size: SizeName, count: number, seed = 42): ReadonlyArray<BenchCheckpoint> =>
  Array.from({ length: count }, (_, index) => ({
    agentId: `agent-${index % 8}`,
    sessionId: `bench-${size}`,
    agentType: "coder",
    name: `step-${index}`,
    state: agentState(SIZES[size], seed * 1000 + index),
    createdAt: 1_763_900_000_000 + index
  }))

// A checkpoint is stamped when it is taken: every store gets a createdAt later than the one before (the clock, or one
// millisecond more when the clock has not moved), as in an agent that checkpoints after each step. Storing the
// workload's own few timestamps again and again would put every new row at a scattered place in the indexes that
// lead with createdAt or end with it, a cost that no agent's workload has, and SQLite's then dominates everything else.
let lastStamp = 0

/** The checkpoint as taken now: the same agent, session and state, with the next createdAt. */
export const takenNow = (checkpoint: BenchCheckpoint): BenchCheckpoint => {
  lastStamp = Math.max(Date.now(), lastStamp + 1)
  return { ...checkpoint, createdAt: lastStamp }
}
