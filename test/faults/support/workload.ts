/**
 * Deterministic checkpoints for the fault and load tests: the checkpoint a writer stores at a step can be rebuilt
 * anywhere, so what is on disk can be compared with what was acknowledged, field by field.
 */
import type { NamedAgentCheckpoint } from "../../../src/index.js"

export const workloadCheckpoint = (writer: string, step: number): NamedAgentCheckpoint => ({
  agentId: `agent-${writer}`,
  sessionId: `session-${writer}-${step % 7}`,
  agentType: "coder",
  name: `step-${step}`,
  state: {
    writer,
    step,
    messages: Array.from({ length: 1 + (step % 5) }, (_, index) => ({
      role: index % 2 === 0 ? "user" : "assistant",
      content: `message ${index} of step ${step} — ünïcödé ✓ 🦊 ${"x".repeat((step * 7 + index) % 200)}`
    })),
    counters: { tokens: step * 31, toolCalls: step % 3 }
  },
  createdAt: 1_700_000_000_000 + step
})
