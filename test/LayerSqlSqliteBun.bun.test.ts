import { checkpointQuerySuite } from "./CheckpointQuerySuite.js"
import { checkpointStorageSuite } from "./CheckpointStorageSuite.js"
import { sqliteBunLayerSql } from "./support/targets.js"

// layerSqliteBun has its own client; this keeps the official one proven, and with it the npm overrides that map
// @effect/sql-sqlite-bun's peers to ours (see package.json).
checkpointStorageSuite(sqliteBunLayerSql)
checkpointQuerySuite(sqliteBunLayerSql)
