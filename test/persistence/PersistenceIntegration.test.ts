import { runtimeTargets } from "../support/provision.js"
import { persistenceIntegrationSuite } from "./PersistenceIntegrationSuite.js"

for (const target of runtimeTargets) persistenceIntegrationSuite(target)
