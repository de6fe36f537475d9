import { checkpointStorageSuite } from "./CheckpointStorageSuite.js"
import { mysql } from "./support/targets.js"

checkpointStorageSuite(mysql)
