import { checkpointStorageSuite } from "./CheckpointStorageSuite.js"
import { sqliteNode } from "./support/targets.js"

checkpointStorageSuite(sqliteNode)
