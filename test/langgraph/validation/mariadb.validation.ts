// LangGraph's own checkpointer validation suite, every part of it, against our saver on this target.
import { deltaChannelHistoryTests, validate } from "@langchain/langgraph-checkpoint-validation"
import { mysql } from "../../support/targets.js"
import { initializerFor } from "./initializer.js"

const initializer = initializerFor(mysql)
validate(initializer)
deltaChannelHistoryTests(initializer)
