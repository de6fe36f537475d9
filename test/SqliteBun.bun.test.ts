import { checkpointQuerySuite } from "./CheckpointQuerySuite.js"
import { checkpointStorageSuite } from "./CheckpointStorageSuite.js"
import { sqliteBun } from "./support/targets.js"

checkpointStorageSuite(sqliteBun)
checkpointQuerySuite(sqliteBun)
