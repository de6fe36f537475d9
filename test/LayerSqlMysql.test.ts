import { checkpointQuerySuite } from "./CheckpointQuerySuite.js"
import { checkpointStorageSuite } from "./CheckpointStorageSuite.js"
import { mysqlLayerSql } from "./support/targets.js"

// layerMysql configures its own MysqlClient; this keeps `layerSql` over one configured as its users do, proven.
checkpointStorageSuite(mysqlLayerSql)
checkpointQuerySuite(mysqlLayerSql)
