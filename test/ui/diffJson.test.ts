import { describe, expect, it } from "vitest"
import { childPath, diffJson } from "../../src/ui/page/diffJson.js"

describe("diffJson", () => {
  it("finds nothing between equal values", () => {
    expect(diffJson({ a: [1, { b: null }], c: "x" }, { a: [1, { b: null }], c: "x" })).toEqual([])
    expect(diffJson(3, 3)).toEqual([])
  })

  it("reports a changed leaf by its path, with both values", () => {
    expect(diffJson({ messages: [{ content: "hi" }] }, { messages: [{ content: "hello" }] })).toEqual([
      { path: "$.messages[0].content", kind: "changed", before: "hi", after: "hello" }
    ])
  })

  it("reports added and removed keys", () => {
    expect(diffJson({ a: 1, b: 2 }, { a: 1, c: 3 })).toEqual([
      { path: "$.b", kind: "removed", before: 2 },
      { path: "$.c", kind: "added", after: 3 }
    ])
  })

  it("compares arrays index by index: appended items are added, dropped ones removed", () => {
    expect(diffJson({ m: ["a", "b"] }, { m: ["a", "b", "c", { d: 1 }] })).toEqual([
      { path: "$.m[2]", kind: "added", after: "c" },
      { path: "$.m[3]", kind: "added", after: { d: 1 } }
    ])
    expect(diffJson(["a", "b", "c"], ["a"])).toEqual([
      { path: "$[1]", kind: "removed", before: "b" },
      { path: "$[2]", kind: "removed", before: "c" }
    ])
  })

  it("reports a value that changed shape as one change at its path", () => {
    expect(diffJson({ a: { x: 1 } }, { a: [1] })).toEqual([
      { path: "$.a", kind: "changed", before: { x: 1 }, after: [1] }
    ])
    expect(diffJson({ a: null }, { a: {} })).toEqual([{ path: "$.a", kind: "changed", before: null, after: {} }])
    expect(diffJson("x", 1)).toEqual([{ path: "$", kind: "changed", before: "x", after: 1 }])
  })

  it("quotes keys that are not identifiers", () => {
    expect(diffJson({ "tool call": 1, "2x": 1, "a\"b": 1 }, { "tool call": 2, "2x": 2, "a\"b": 2 }).map((d) => d.path))
      .toEqual(["$[\"tool call\"]", "$[\"2x\"]", "$[\"a\\\"b\"]"])
    expect(childPath("$", "content")).toBe("$.content")
  })

  it("treats keys such as __proto__ and constructor as plain keys", () => {
    const before: unknown = JSON.parse("{\"__proto__\": 1, \"x\": 1}")
    const after: unknown = JSON.parse("{\"__proto__\": 2, \"constructor\": 3, \"x\": 1}")
    expect(diffJson(before, after)).toEqual([
      { path: "$.__proto__", kind: "changed", before: 1, after: 2 },
      { path: "$.constructor", kind: "added", after: 3 }
    ])
  })

  it("lists differences in document order, depth first", () => {
    const a = { messages: [{ role: "user", content: "q" }], step: 1, tools: { search: { calls: 0 } } }
    const b = { messages: [{ role: "user", content: "q" }, { role: "ai", content: "a" }], step: 2, tools: { search: { calls: 1 } } }
    expect(diffJson(a, b).map((d) => `${d.kind} ${d.path}`)).toEqual([
      "added $.messages[1]",
      "changed $.step",
      "changed $.tools.search.calls"
    ])
  })
})
