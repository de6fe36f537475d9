import { checkpointQuerySuite } from "./CheckpointQuerySuite.js"
import { checkpointStorageSuite } from "./CheckpointStorageSuite.js"
import { postgresLayerSql } from "./support/targets.js"

// layerPostgres builds its own pool; this keeps `layerSql` over the official PgClient, which its users bring, proven.
checkpointStorageSuite(postgresLayerSql)
checkpointQuerySuite(postgresLayerSql)
