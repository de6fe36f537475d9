/**
 * The README's example of a persisted chat next to the agent's checkpoints, as written there: only the import names
 * this repository's source instead of "effect-checkpoint-storage", the file is the test's instead of
 * `"./agent_state.db"`, and `Model` (the README's provider layer) is a parameter. ReadmeExample.node.test.ts runs it
 * with a canned model and checks what it prints.
 */
import type { LanguageModel } from "@effect/ai"
import type { Layer as LayerType } from "effect"
// README snippet: from the next line to the end of the function body (one indentation level removed).
import { Chat } from "@effect/ai"
import { Effect, Layer, Ref } from "effect"
import { CheckpointStorage, layerBackingSql, layerSqliteNode } from "../../src/index.js"

export const readmeExample = async (
  databasePath: string,
  Model: LayerType.Layer<LanguageModel.LanguageModel>
): Promise<void> => {
  // Model: your provider's LanguageModel layer (OpenAiLanguageModel.model("gpt-4o-mini") with its client, …).
  // One SQLite file holds the agent's checkpoints and its chat history (table persistence_entries).
  const Storage = layerSqliteNode({ databasePath })
  const Chats = Chat.layerPersisted({ storeId: "support-chats" }).pipe(Layer.provide(layerBackingSql))
  const App = Layer.mergeAll(Chats, Model).pipe(Layer.provideMerge(Storage))

  const turn = (prompt: string) =>
    Effect.gen(function*() {
      const chat = yield* Effect.flatMap(Chat.Persistence, (chats) => chats.getOrCreate("ticket-42"))
      const response = yield* chat.generateText({ prompt }) // the history is saved after the answer
      const storage = yield* CheckpointStorage
      yield* storage.storeAgentCheckpoint({
        agentId: "support-agent",
        sessionId: "ticket-42",
        agentType: "support",
        name: prompt,
        state: { answer: response.text },
        createdAt: Date.now()
      })
      return response.text
    })

  // Each run builds the layer anew, as a restarted process would: the chat is read back from the file.
  console.log(await Effect.runPromise(turn("My order has not arrived.").pipe(Effect.provide(App))))
  console.log(await Effect.runPromise(turn("Can you refund it?").pipe(Effect.provide(App))))

  const summary = Effect.gen(function*() {
    const chat = yield* Effect.flatMap(Chat.Persistence, (chats) => chats.get("ticket-42"))
    const checkpoints = yield* Effect.flatMap(CheckpointStorage, (storage) => storage.listAgentCheckpoints())
    return { messages: (yield* Ref.get(chat.history)).content.length, checkpoints: checkpoints.length }
  })
  console.log(await Effect.runPromise(summary.pipe(Effect.provide(App))))
}
