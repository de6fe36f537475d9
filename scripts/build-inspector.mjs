#!/usr/bin/env node
/**
 * Bundles the inspector page (src/ui/page) into dist/ui/inspector.js and copies its style to dist/ui/inspector.css:
 * the two files `ecs ui` serves beside its page. One self-contained file each, nothing fetched from elsewhere, since
 * the server's CSP allows only its own origin. Idempotent; prints both sizes.
 *
 * esbuild is vite's own bundler (already installed with vitest); it resolves the page's `./x.js` imports to `x.ts`.
 */
import { build } from "esbuild"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const page = Path.join(root, "src", "ui", "page")
const out = Path.join(root, "dist", "ui")

/** Builds the page; returns the sizes in bytes. */
// Written to a temporary name and renamed: a server (or a test) reading the asset meanwhile sees the old file or the
// new one, never half of one.
const writeAtomically = (path, contents) => {
  const temporary = `${path}.${process.pid}.tmp`
  Fs.writeFileSync(temporary, contents)
  Fs.renameSync(temporary, path)
}

/** Builds the page; returns the sizes in bytes. */
export const buildInspector = async () => {
  Fs.mkdirSync(out, { recursive: true })
  const result = await build({
    entryPoints: [Path.join(page, "main.ts")],
    outfile: Path.join(out, "inspector.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2020",
    minify: true,
    legalComments: "none",
    logLevel: "warning",
    write: false
  })
  const script = result.outputFiles.find((file) => file.path.endsWith("inspector.js"))
  if (script === undefined) throw new Error("esbuild produced no inspector.js")
  writeAtomically(Path.join(out, "inspector.js"), script.contents)
  writeAtomically(Path.join(out, "inspector.css"), Fs.readFileSync(Path.join(page, "inspector.css")))
  return { js: script.contents.byteLength, css: Fs.statSync(Path.join(out, "inspector.css")).size }
}

if (process.argv[1] !== undefined && Path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const sizes = await buildInspector()
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`
  console.log(`dist/ui/inspector.js   ${kb(sizes.js)}`)
  console.log(`dist/ui/inspector.css  ${kb(sizes.css)}`)
}
