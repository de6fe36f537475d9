/**
 * The README's persisted chat beside the agent's checkpoints: shown there as it is run here, and run on a SQLite
 * file (layerSqliteNode, so under Node.js only).
 */
import { readFileSync } from "node:fs"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { describe, expect, it, vi } from "vitest"
import { cannedLanguageModel } from "./PersistenceIntegrationSuite.js"
import { readmeExample } from "./readmeExample.js"

const lines = (text: string) => text.split("\n").map((line) => line.trim()).filter((line) => line !== "")

describe("the README's persisted chat", () => {
  it("is shown in the README as it is run here", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8")
    const shown = readme.split("```ts\n").map((block) => block.split("```")[0]!)
      .find((block) => block.includes("Chat.layerPersisted({ storeId: \"support-chats\" })"))
    const run = readFileSync(new URL("./readmeExample.ts", import.meta.url), "utf8")
      .split("// README snippet: from the next line to the end of the function body (one indentation level removed).\n")[1]!
      .replace("../../src/index.js", "effect-checkpoint-storage")
      .replace("layerSqliteNode({ databasePath })", "layerSqliteNode({ databasePath: \"./agent_state.db\" })")
    const body = lines(run).filter((line, i, all) =>
      !(line.startsWith("export const readmeExample") || line === "databasePath: string," ||
        line === "Model: LayerType.Layer<LanguageModel.LanguageModel>" || line === "): Promise<void> => {" ||
        (line === "}" && i === all.length - 1))
    )
    expect(lines(shown ?? "")).toEqual(body)
  })

  it("keeps the chat and the checkpoints in one file, and a new run reads the chat back", async () => {
    const directory = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ecs-readme-chat-"))
    const printed = vi.spyOn(console, "log").mockImplementation(() => {})
    try {
      await readmeExample(Path.join(directory, "agent_state.db"), cannedLanguageModel)
      // The second run's model was sent the first run's question and answer with the new question.
      expect(printed.mock.calls).toEqual([
        ["I was sent 1 messages"],
        ["I was sent 3 messages"],
        [{ messages: 4, checkpoints: 2 }]
      ])
    } finally {
      printed.mockRestore()
      Fs.rmSync(directory, { recursive: true, force: true })
    }
  })
})
