import { checkpointStorageSuite } from "./CheckpointStorageSuite.js"
import { postgres } from "./support/targets.js"

checkpointStorageSuite(postgres)
