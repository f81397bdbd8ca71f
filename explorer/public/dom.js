/**
 * Building the page with DOM APIs only. Every string is added as a text node (`createTextNode`) or an
 * attribute value (`setAttribute`), never parsed as HTML: that is how chain data (URIs, metadata, token
 * symbols) is escaped. Nothing in this page uses innerHTML, outerHTML, insertAdjacentHTML or
 * document.write. Links are only ever built by the page itself from validated ids (`link`).
 */

/** Attributes `h` refuses to set from a value: they run code or navigate. */
const FORBIDDEN_ATTRIBUTE = /^(on|href$|src$|srcdoc$|action$|formaction$|style$)/i;

/**
 * An element: `h("td", { class: "mono", title: id }, "text", child, [more])`. Strings become text nodes;
 * null, undefined and false are skipped; arrays are flattened. Attributes that could run code or load
 * something (`on*`, `href`, `src`, `style`, ...) are refused: use `link` for the page's own links.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  setAttributes(element, attributes);
  append(element, children);
  return element;
}

/** An SVG element (attributes as for `h`). */
export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  setAttributes(element, attributes);
  append(element, children);
  return element;
}

function setAttributes(element, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (FORBIDDEN_ATTRIBUTE.test(name)) throw new Error(`h: refusing to set the ${name} attribute`);
    element.setAttribute(name, value === true ? "" : String(value));
  }
}

/** Appends children as `h` does. */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces an element's children. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/**
 * A link to one of the page's own routes: `#/<kind>/<id>`, built only from a kind this page knows and
 * a 32-byte hex id (anything else is shown as plain text).
 */
export function link(kind, id, text = shortHex(id)) {
  if (!["commitment", "dispute", "model"].includes(kind) || !/^0x[0-9a-fA-F]{64}$/.test(String(id))) {
    return document.createTextNode(String(text));
  }
  const a = document.createElement("a");
  a.setAttribute("href", `#/${kind}/${String(id).toLowerCase()}`);
  a.setAttribute("title", String(id));
  a.setAttribute("data-id", String(id).toLowerCase());
  a.appendChild(document.createTextNode(String(text)));
  return a;
}

/** `0x1234…abcd` for a long hex string (its full value in the element's title when shown with `hex`). */
export function shortHex(value) {
  const s = String(value);
  return s.length > 14 ? `${s.slice(0, 8)}…${s.slice(-6)}` : s;
}

/** A monospace span with a shortened hex value and the full value as its title. */
export function hex(value) {
  return h("span", { class: "mono", title: String(value) }, shortHex(value));
}

/** A table: `headers` strings, `rows` arrays of cells (strings or nodes); `empty` shown when no rows. */
export function table(headers, rows, empty = "none", attributes = {}) {
  if (rows.length === 0) return h("p", { class: "empty" }, empty);
  return h(
    "table",
    attributes,
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        headers.map((title) => h("th", {}, title)),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((row) =>
        Array.isArray(row)
          ? h(
              "tr",
              {},
              row.map((cell) => h("td", {}, cell)),
            )
          : h(
              "tr",
              row.attributes,
              row.cells.map((cell) => h("td", {}, cell)),
            ),
      ),
    ),
  );
}

/** A definition list of `[label, value]` pairs (pairs with an undefined value are left out). */
export function fields(pairs) {
  return h(
    "dl",
    { class: "fields" },
    pairs.filter(([, value]) => value !== undefined).map(([label, value]) => [h("dt", {}, label), h("dd", {}, value)]),
  );
}

/** A UTC date and time, e.g. "2026-12-01 17:36:05 UTC", from unix seconds. */
export function formatTime(seconds) {
  const n = Number(seconds);
  if (!Number.isFinite(n) || n <= 0) return "never";
  return `${new Date(n * 1000).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** A status badge: its class is derived from a fixed set of names, its text given. */
export function badge(text, kind) {
  const known = [
    "Pending",
    "Final",
    "Disputed",
    "Overturned",
    "None",
    "live",
    "ChallengerWon",
    "ProviderWon",
    "Refunded",
  ];
  return h("span", { class: `badge badge-${known.includes(kind) ? kind : "other"}` }, text);
}
