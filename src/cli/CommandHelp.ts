/**
 * The help of a command: a one-line summary (also shown in the list of commands) and an example.
 */
import * as HelpDoc from "@effect/cli/HelpDoc"

/**
 * A description with its summary first and an EXAMPLE section.
 */
export const commandHelp = (summary: string, ...examples: ReadonlyArray<string>): HelpDoc.HelpDoc =>
  HelpDoc.blocks([
    ...(summary === "" ? [] : [HelpDoc.p(summary)]),
    HelpDoc.h1(examples.length === 1 ? "EXAMPLE" : "EXAMPLES"),
    ...examples.map((example) => HelpDoc.p(`$ ${example}`))
  ])
