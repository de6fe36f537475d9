import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as JSONSchema from "effect/JSONSchema"
import { NamedAgentCheckpoint } from "../src/schema/AgentCheckpoint.js"
import { AppSessionCheckpoint } from "../src/schema/AppCheckpoint.js"
import { decodeInputEither } from "../src/internal/decodeInput.js"

const validate = decodeInputEither(NamedAgentCheckpoint, "NamedAgentCheckpoint")
const checkpoint = { agentId: "agent", sessionId: "session", agentType: "coder", name: "step", state: {}, createdAt: 1 }
const issuesOf = (input: unknown) =>
  Either.match(validate(input), { onLeft: (error) => error.issues, onRight: () => [] })

describe("the fields of a checkpoint", () => {
  it("accept a checkpoint within every bound (255 characters, createdAt up to the largest safe integer)", () => {
    const input = { ...checkpoint, agentId: "a".repeat(255), name: "", createdAt: Number.MAX_SAFE_INTEGER, parentId: "12" }
    expect(validate(input)).toEqual(Either.right(input))
  })

  const refusals: ReadonlyArray<readonly [string, Record<string, unknown>, string, string]> = [
    ["text over 255 characters", { agentType: "x".repeat(256) }, "agentType", "must be at most 255 characters long"],
    ["an empty identifier", { sessionId: "" }, "sessionId", "must not be empty"],
    ["a NUL character", { name: "a\u0000b" }, "name", "must not contain the NUL character (U+0000)"],
    ["a lone surrogate", { agentId: "agent-\ud800" }, "agentId", "must be well-formed Unicode (it contains a lone surrogate)"],
    ["a fractional createdAt", { createdAt: 1.5 }, "createdAt", "must be a whole number of milliseconds (a safe integer)"],
    ["a negative createdAt", { createdAt: -1 }, "createdAt", "must not be negative"],
    ["an array as state", { state: [] }, "state", "must be an object (a JSON object: not an array, not null)"],
    ["a parentId that is no id", { parentId: "01" }, "parentId", "must be the id of a stored checkpoint"]
  ]
  for (const [label, change, path, message] of refusals) {
    it(`refuse ${label}, naming the field and the rule`, () => {
      expect(issuesOf({ ...checkpoint, ...change })).toEqual([{ path, message }])
    })
  }

  it("name the first rule a text breaks, once (an overlong text with a NUL in it is overlong)", () => {
    expect(issuesOf({ ...checkpoint, agentId: "\u0000".repeat(300) })).toEqual([
      { path: "agentId", message: "must be at most 255 characters long" }
    ])
  })

  it("describe themselves as JSON Schema, with their bounds (for tool definitions and forms)", () => {
    const schema = JSONSchema.make(NamedAgentCheckpoint) as unknown as { $defs: Record<string, unknown> }
    expect(schema.$defs.Identifier).toEqual({ type: "string", maxLength: 255, minLength: 1 })
    expect(schema.$defs.CheckpointName).toEqual({ type: "string", maxLength: 255 })
    expect(schema.$defs.CreatedAt).toEqual({ type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
    expect(schema.$defs.CheckpointState).toMatchObject({ type: "object" })
    expect(schema.$defs.ParentId).toEqual({ type: "string", pattern: "^[1-9][0-9]{0,15}$" })
    const app = JSONSchema.make(AppSessionCheckpoint) as unknown as { $defs: Record<string, unknown> }
    expect(app.$defs.WorkspaceDirectory).toEqual({ type: "string", maxLength: 4096 })
  })
})
