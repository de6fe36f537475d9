import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { layerSqliteBun } from "../src/index.js"
import { checkpointQuerySuite } from "./CheckpointQuerySuite.js"
import { checkpointStorageSuite } from "./CheckpointStorageSuite.js"
import { sqliteNode } from "./support/targets.js"

checkpointStorageSuite(sqliteNode)
checkpointQuerySuite(sqliteNode)

describe("layerSqliteBun under Node.js", () => {
  it.scoped("fails with StorageConnectionError DRIVER_NOT_AVAILABLE: bun:sqlite exists only in Bun", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(layerSqliteBun({ databasePath: ":memory:" })))
      expect(error).toMatchObject({ _tag: "StorageConnectionError", dialect: "sqlite", code: "DRIVER_NOT_AVAILABLE" })
      expect(error.message).toContain("bun:sqlite")
    }))
})
