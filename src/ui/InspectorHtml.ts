/**
 * The inspector's page as the server sends it: a shell that loads the built script and style of the same origin
 * (the Content-Security-Policy allows nothing else), each with the token of the address, since every request must
 * carry it.
 */

/**
 * The text with the characters that mean something in HTML (text or a quoted attribute) escaped.
 */
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (character) =>
    character === "&" ? "&amp;" : character === "<" ? "&lt;" : character === ">" ? "&gt;" : character === "\"" ? "&quot;" : "&#39;")

/**
 * The page `/`: the stylesheet, the module script, and the element the script renders into.
 *
 * @example
 * ```ts
 * const html = inspectorHtml("k3Yx…")
 * // <link rel="stylesheet" href="/inspector.css?token=k3Yx…"> …
 * ```
 */
export const inspectorHtml = (token: string): string => {
  const query = escapeHtml(`?token=${encodeURIComponent(token)}`)
  return [
    "<!doctype html>",
    "<html lang=\"en\">",
    "<head>",
    "<meta charset=\"utf-8\">",
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
    "<title>Checkpoint inspector</title>",
    `<link rel="stylesheet" href="/inspector.css${query}">`,
    `<script type="module" src="/inspector.js${query}"></script>`,
    "</head>",
    "<body>",
    "<div id=\"app\"></div>",
    "</body>",
    "</html>",
    ""
  ].join("\n")
}
