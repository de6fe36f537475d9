// LangGraph's own checkpointer validation suite, every part of it, against our saver on this target.
import { deltaChannelHistoryTests, validate } from "@langchain/langgraph-checkpoint-validation"
import { postgres } from "../../support/targets.js"
import { initializerFor } from "./initializer.js"

const initializer = initializerFor(postgres)
validate(initializer)
deltaChannelHistoryTests(initializer)
