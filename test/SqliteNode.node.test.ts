import { checkpointQuerySuite } from "./CheckpointQuerySuite.js"
import { checkpointStorageSuite } from "./CheckpointStorageSuite.js"
import { sqliteNode } from "./support/targets.js"

checkpointStorageSuite(sqliteNode)
checkpointQuerySuite(sqliteNode)
