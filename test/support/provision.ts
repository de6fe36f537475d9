/**
 * Test databases for Promise-style tests (the Token Ring examples): provision one, use its config, release it.
 */
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { mysql, postgres, sqliteBun, sqliteNode } from "./targets.js"
import { TestDatabase, type TestDatabaseService, type TestTarget } from "./TestDatabase.js"

const isBun = typeof process.versions.bun === "string"

/** The targets of this runtime: both servers, and SQLite through the runtime's own driver. */
export const runtimeTargets: ReadonlyArray<TestTarget> = [postgres, mysql, isBun ? sqliteBun : sqliteNode]

export const provision = async (
  target: TestTarget
): Promise<{ readonly db: TestDatabaseService; readonly release: () => Promise<void> }> => {
  const scope = Effect.runSync(Scope.make())
  const context = await Effect.runPromise(Layer.buildWithScope(target.freshDatabase, scope))
  return {
    db: Context.get(context, TestDatabase),
    release: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}
