import { checkpointQuerySuite } from "./CheckpointQuerySuite.js"
import { checkpointStorageSuite } from "./CheckpointStorageSuite.js"
import { sqliteNodeLayerSql } from "./support/targets.js"

// layerSqliteNode has its own client; this keeps the official one, which layerSql users bring, proven.
checkpointStorageSuite(sqliteNodeLayerSql)
checkpointQuerySuite(sqliteNodeLayerSql)
