import { runtimeTargets } from "../support/provision.js"
import { backingPersistenceSuite } from "./BackingPersistenceSuite.js"

for (const target of runtimeTargets) backingPersistenceSuite(target)
