/**
 * The inspector's script and style, built by `npm run build` (esbuild) into dist/ui/ next to the compiled server.
 */
import * as Fs from "node:fs"
import { fileURLToPath } from "node:url"

/**
 * The files the page loads.
 */
export type InspectorAsset = "inspector.js" | "inspector.css"

/**
 * Where a built asset is, or undefined when it has not been built. Compiled, this module sits in dist/ui/ beside the
 * assets; run from its source (tests, vite-node) it is src/ui/, and the build output is ../../dist/ui/.
 */
export const inspectorAssetPath = (name: InspectorAsset): string | undefined => {
  const candidates = [new URL(`./${name}`, import.meta.url), new URL(`../../dist/ui/${name}`, import.meta.url)]
  for (const candidate of candidates) {
    const path = fileURLToPath(candidate)
    if (Fs.existsSync(path)) return path
  }
  return undefined
}
