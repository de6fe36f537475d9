/**
 * The README's LangGraph example, as written there: only the import names this repository's source instead of
 * "effect-checkpoint-storage/langgraph", and the connection string is the test database's instead of the literal
 * `"mysql://app:secret@localhost:3306/agents"`. StateGraph.test.ts runs it once on MariaDB and checks what it prints.
 */
// README snippet: from the next line to the end of the function body (one indentation level removed).
import { Annotation, Command, END, interrupt, START, StateGraph } from "@langchain/langgraph"
import { SqlCheckpointSaver } from "../../src/langgraph/SqlCheckpointSaver.js"

export const readmeExample = async (connectionString: string): Promise<void> => {
  const State = Annotation.Root({
    steps: Annotation<Array<string>>({ reducer: (done, step) => done.concat(step), default: () => [] }),
    answer: Annotation<string>
  })

  const checkpointer = SqlCheckpointSaver.fromConnString(connectionString)
  const graph = new StateGraph(State)
    .addNode("draft", () => ({ steps: ["draft"], answer: "Your refund was sent." }))
    .addNode("review", (state) => {
      const verdict = interrupt({ question: `Send "${state.answer}"?` })
      return { steps: [`review: ${verdict}`] }
    })
    .addNode("send", () => ({ steps: ["send"] }))
    .addEdge(START, "draft")
    .addEdge("draft", "review")
    .addEdge("review", "send")
    .addEdge("send", END)
    .compile({ checkpointer })

  const config = { configurable: { thread_id: "ticket-42" } }
  await graph.invoke({ steps: [] }, config) // runs "draft", then stops in "review" at interrupt()
  // Later, in this process or another one after a restart:
  const paused = await graph.getState(config)
  console.log(paused.next, paused.values.steps) // [ 'review' ] [ 'draft' ]
  const done = await graph.invoke(new Command({ resume: "yes" }), config)
  console.log(done.steps) // [ 'draft', 'review: yes', 'send' ]
  await checkpointer.end()
}
