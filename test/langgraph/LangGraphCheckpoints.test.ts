import { runtimeTargets } from "../support/provision.js"
import { langGraphCheckpointsSuite } from "./LangGraphCheckpointsSuite.js"

for (const target of runtimeTargets) langGraphCheckpointsSuite(target)
