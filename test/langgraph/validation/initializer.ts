/**
 * LangGraph's CheckpointSaverTestInitializer for our saver on one test target: every checkpointer the validation suite
 * creates gets a database of its own (created for it, dropped after it), reached through `fromConnString`.
 */
import type { CheckpointSaverTestInitializer } from "@langchain/langgraph-checkpoint-validation"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { SqlCheckpointSaver } from "../../../src/langgraph/SqlCheckpointSaver.js"
import { TestDatabase, type TestTarget } from "../../support/TestDatabase.js"
import { connectionStringOf } from "../../support/tokenRingApp.js"

export const initializerFor = (target: TestTarget): CheckpointSaverTestInitializer<SqlCheckpointSaver> => {
  const databases = new Map<SqlCheckpointSaver, Scope.CloseableScope>()
  return {
    checkpointerName: `effect-checkpoint-storage (${target.name})`,
    createCheckpointer: async () => {
      const scope = Effect.runSync(Scope.make())
      const context = await Effect.runPromise(Layer.buildWithScope(target.freshDatabase, scope))
      const { config } = Context.get(context, TestDatabase)
      const saver = SqlCheckpointSaver.fromConnString(connectionStringOf(config))
      databases.set(saver, scope)
      return saver
    },
    destroyCheckpointer: async (saver) => {
      await saver.end()
      const scope = databases.get(saver)
      databases.delete(saver)
      if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }
}
