// Opens a wavegap HTML report in headless Chromium and checks it works offline:
//   node check-report.mjs REPORT.html SCREENSHOT.png [REPORT.md]
// Fails (exit 1, reasons on stderr and in the summary) on any console error, page error or
// network request, when a sortable table does not sort, when the page filter does not filter,
// when a table scrolls sideways at 1400 or 800 px or the page is wider than the window at
// 1400, 800 or 390 px, and, given REPORT.md, when one of its ```mermaid blocks does not
// parse (or render) with the real Mermaid. Prints a JSON summary on stdout. Writes a
// full-page screenshot at 1400 px to SCREENSHOT.png and one at 800 px to SCREENSHOT-800.png.
import { chromium } from "playwright-core";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const [report, screenshot, markdown] = process.argv.slice(2);
if (!report || !screenshot) {
  console.error("usage: node check-report.mjs REPORT.html SCREENSHOT.png [REPORT.md]");
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const url = pathToFileURL(resolve(report)).href;
// Mermaid's browser bundle, injected from disk (page.addScriptTag reads the file itself, so
// loading it is not a network request).
const mermaidJs = join(dirname(fileURLToPath(import.meta.url)), "node_modules/mermaid/dist/mermaid.min.js");
const screenshot800 = /\.png$/i.test(screenshot) ? screenshot.replace(/\.png$/i, "-800.png") : `${screenshot}-800.png`;
const problems = [];
const profile = mkdtempSync(join(tmpdir(), "wavegap-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
  ],
  viewport: { width: 1400, height: 900 },
});
try {
  // Every request of every page in the context counts, except loading the report itself.
  const requests = [];
  context.on("request", (r) => { if (r.url() !== url) requests.push(r.url()); });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("dialog", (d) => { problems.push(`dialog opened: ${d.message()}`); d.dismiss(); });
  await page.goto(url, { waitUntil: "load" });
  await page.waitForTimeout(200);

  // Sorting: every sortable table with at least two rows, every column, both directions.
  const tables = await page.$$eval("table.sortable", (ts) => ts.map((t) => ({ id: t.id, rows: t.tBodies[0] ? t.tBodies[0].rows.length : 0, cols: t.querySelectorAll("thead th").length })));
  let sortedColumns = 0;
  for (const t of tables.filter((t) => t.rows >= 2 && t.id)) {
    for (let col = 0; col < t.cols; col++) {
      const th = page.locator(`#${t.id} thead th`).nth(col);
      for (const dir of [1, -1]) {
        await th.click();
        const ok = await page.$eval(`#${t.id}`, (table, [col, dir]) => {
          const key = (cell) => {
            let v = cell.getAttribute("data-sort");
            if (v === null) v = cell.textContent.trim();
            const n = Number(v.replace(/,/g, ""));
            return v !== "" && !isNaN(n) ? { n, s: v } : { n: null, s: v.toLowerCase() };
          };
          const keys = Array.from(table.tBodies[0].rows, (r) => key(r.cells[col]));
          for (let i = 1; i < keys.length; i++) {
            const a = keys[i - 1], b = keys[i];
            const c = a.n !== null && b.n !== null ? a.n - b.n : a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
            if (dir * c > 0) return false;
          }
          const th = table.querySelectorAll("thead th")[col];
          return th.getAttribute("aria-sort") === (dir === 1 ? "ascending" : "descending");
        }, [col, dir]);
        if (!ok) problems.push(`table #${t.id} column ${col} did not sort ${dir === 1 ? "ascending" : "descending"}`);
      }
      sortedColumns++;
    }
  }

  // Filtering: one input (#filter, in the sticky #filterbar) for the whole page. Typing hides
  // the rows of every table.filterable whose text lacks the query (case-insensitive), and every
  // section.action (one proposed change) with no visible row whose heading and commands lack it.
  let filtered = 0, filterQuery = null;
  const filter = page.locator("#filter");
  if ((await filter.count()) !== 1) {
    problems.push(`expected one #filter input, found ${await filter.count()}`);
  } else {
    const sticky = await page.$eval("#filterbar", (b) => getComputedStyle(b).position).catch(() => "missing");
    if (sticky !== "sticky") problems.push(`#filterbar is ${sticky}, not sticky`);
    // The state of the page, read back after each query: per filterable table the text and
    // `hidden` of each body row; per change its own text and `hidden`.
    const state = () => page.evaluate(() => ({
      tables: Array.from(document.querySelectorAll("table.filterable"), (t, i) => ({
        name: t.id ? `#${t.id}` : `table.filterable[${i}]`,
        rows: t.tBodies[0] ? Array.from(t.tBodies[0].rows, (r) => ({ text: r.textContent.toLowerCase(), hidden: r.hidden })) : [],
      })),
      actions: Array.from(document.querySelectorAll("section.action"), (a) => ({
        name: `#${a.id}`,
        text: `${a.querySelector("h4")?.textContent ?? ""} ${a.querySelector(".fixcmds")?.textContent ?? ""}`.toLowerCase(),
        rows: Array.from(a.querySelectorAll("tbody tr"), (r) => r.textContent.toLowerCase()),
        hidden: a.hidden,
      })),
    }));
    // Checks one query against the state it left: a row is visible iff its text contains the
    // query, a change iff one of its rows or its own text does. Returns the visible row count.
    const expectShown = (s, query, label) => {
      const q = query.trim().toLowerCase();
      let visible = 0;
      for (const t of s.tables) {
        const wrong = t.rows.filter((r) => r.hidden === (q === "" || r.text.includes(q)));
        if (wrong.length) problems.push(`filter "${query}" (${label}): ${wrong.length} of ${t.rows.length} rows of ${t.name} wrongly ${wrong[0].hidden ? "hidden" : "shown"}`);
        visible += t.rows.filter((r) => !r.hidden).length;
      }
      for (const a of s.actions) {
        const shown = q === "" || a.text.includes(q) || a.rows.some((r) => r.includes(q));
        if (a.hidden === shown) problems.push(`filter "${query}" (${label}): change ${a.name} wrongly ${a.hidden ? "hidden" : "shown"}`);
      }
      return visible;
    };
    const before = await state();
    const checked = before.tables.filter((t) => t.rows.length > 0);
    const total = checked.reduce((n, t) => n + t.rows.length, 0);
    // The needle: the first line of a row's first cell, preferring one that hides some rows
    // (so the check proves something) over one that matches every row.
    const candidates = await page.$$eval("table.filterable tbody tr > :first-child", (cs) => cs.map((c) => c.innerText.split("\n")[0].trim().toLowerCase()).filter((s) => s !== ""));
    const matches = (q) => checked.reduce((n, t) => n + t.rows.filter((r) => r.text.includes(q)).length, 0);
    const needle = candidates.find((q) => matches(q) < total) ?? candidates[0];
    if (checked.length === 0 || needle === undefined) {
      problems.push("no filterable table has a row to filter");
    } else {
      await filter.fill(needle);
      const visible = expectShown(await state(), needle, "a row's first cell");
      if (visible === 0) problems.push(`filter "${needle}" left no row visible`);
      await filter.fill("zzz-no-such-row-zzz");
      const none = expectShown(await state(), "zzz-no-such-row-zzz", "matches nothing");
      if (none !== 0) problems.push(`filter left ${none} rows visible for a query matching nothing`);
      await filter.fill("");
      const all = expectShown(await state(), "", "cleared");
      if (all !== total) problems.push(`clearing the filter shows ${all} of ${total} rows`);
      filtered = checked.length;
      filterQuery = needle;
    }
  }

  const svgs = await page.$$eval("svg.diagram", (s) => s.length);
  const actions = await page.$$eval("section.action", (s) => s.length);
  const scripts = await page.$$eval("script", (s) => s.length);
  if (scripts !== 1) problems.push(`expected exactly one (inline) script element, found ${scripts}`);

  // Widths: on a desktop (1400 px) and a narrow laptop or tablet (800 px) window no table may
  // scroll sideways in its div.scroll box, and nothing, the change cards with their commands
  // included, may make the page wider than the window. On a phone (390 px) tables may scroll
  // in their box but the page still must not.
  const widths = (strict) => page.evaluate((strict) => {
    const found = [];
    const width = innerWidth;
    const page = document.documentElement.scrollWidth;
    if (page > width + 1) found.push(`page is ${page}px wide, ${page - width}px wider than the window`);
    if (!strict) return found;
    const name = (el, i, kind) => el.id ? `${kind} #${el.id}` : `${kind}[${i}] (no id, in #${el.closest("[id]")?.id ?? "?"})`;
    document.querySelectorAll("table").forEach((t, i) => {
      const box = t.parentElement.clientWidth;
      if (t.scrollWidth <= box + 1) return;
      // Name the columns with their widths, to show what to wrap.
      const cols = Array.from(t.rows[0]?.cells ?? [], (c) => `${c.textContent.trim().slice(0, 20) || "?"} ${Math.round(c.getBoundingClientRect().width)}px`);
      found.push(`${name(t, i, "table")} is ${t.scrollWidth}px wide in a ${box}px box (${t.scrollWidth - box}px too wide; columns: ${cols.join(", ")})`);
    });
    document.querySelectorAll("section.action").forEach((a, i) => {
      const r = a.getBoundingClientRect();
      if (r.left < -1 || r.right > document.documentElement.clientWidth + 1 || a.scrollWidth > a.clientWidth + 1) {
        found.push(`${name(a, i, "change")} does not fit: spans ${Math.round(r.left)}..${Math.round(r.right)}px of ${document.documentElement.clientWidth}px, content ${a.scrollWidth}px in ${a.clientWidth}px`);
      }
      a.querySelectorAll(".cmd pre").forEach((p) => {
        if (p.scrollWidth > p.clientWidth + 1) found.push(`${name(a, i, "change")}: <pre id="${p.id}"> scrolls sideways (${p.scrollWidth}px in ${p.clientWidth}px)`);
      });
    });
    return found;
  }, strict);
  const heights = {};
  const viewports = [[1400, 900, true, screenshot], [800, 900, true, screenshot800], [390, 844, false, null]];
  for (const [width, height, strict, shot] of viewports) {
    await page.setViewportSize({ width, height });
    await page.waitForTimeout(50);
    for (const p of await widths(strict)) problems.push(`at ${width}px: ${p}`);
    const tall = await page.evaluate(() => document.documentElement.scrollHeight);
    heights[width] = tall;
    // Chromium cannot capture a page past its texture limit: that is a finding, not a crash.
    if (shot) await page.screenshot({ path: shot, fullPage: true }).catch((e) => problems.push(`at ${width}px: no screenshot of a ${tall}px tall page: ${e.message.split("\n")[0]}`));
  }

  // Mermaid: every ```mermaid block of REPORT.md must parse, and render, with the real
  // Mermaid, in a blank page of the same offline browser.
  let mermaidBlocks = 0, mermaidRendered = 0;
  if (markdown) {
    const blocks = mermaidBlocksOf(readFileSync(markdown, "utf8"));
    if (!existsSync(mermaidJs)) problems.push(`${mermaidJs} is missing: run scripts/setup-browser.sh`);
    else if (blocks.length > 0) {
      const mpage = await context.newPage();
      mpage.on("console", (m) => { if (m.type() === "error") problems.push(`mermaid console error: ${m.text()}`); });
      mpage.on("pageerror", (e) => problems.push(`mermaid page error: ${e.message}`));
      await mpage.setContent("<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body></body></html>");
      await mpage.addScriptTag({ path: mermaidJs });
      await mpage.evaluate(() => window.mermaid.initialize({ startOnLoad: false }));
      for (const [i, b] of blocks.entries()) {
        const where = `${markdown}: mermaid block ${i + 1} (line ${b.line})`;
        if (!b.closed) { problems.push(`${where} has no closing fence`); continue; }
        const result = await mpage.evaluate(async ([text, id]) => {
          try {
            await window.mermaid.parse(text);
          } catch (e) {
            return { parsed: false, error: String(e?.message ?? e) };
          }
          try {
            const { svg } = await window.mermaid.render(id, text);
            const nodes = new DOMParser().parseFromString(svg, "image/svg+xml").querySelectorAll(".node").length;
            return { parsed: true, nodes };
          } catch (e) {
            return { parsed: true, error: String(e?.message ?? e) };
          }
        }, [b.text, `mermaid-check-${i + 1}`]);
        if (!result.parsed) { problems.push(`${where} does not parse: ${result.error}`); continue; }
        mermaidBlocks++;
        if (result.error) problems.push(`${where} parses but does not render: ${result.error}`);
        else if (result.nodes === 0) problems.push(`${where} renders no node`);
        else mermaidRendered++;
      }
      await mpage.close();
    }
  }

  for (const r of requests) problems.push(`network request: ${r}`);
  for (const p of problems) console.error(p);
  console.log(JSON.stringify({ url, tables: tables.length, sortedColumns, filtered, filterQuery, actions, svgs, heights, mermaidBlocks, mermaidRendered, requests: requests.length, screenshots: [screenshot, screenshot800], problems }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(problems.length === 0 ? 0 : 1);

// The ```mermaid (or ~~~mermaid) fenced blocks of a Markdown text, as CommonMark reads them: a
// fence of three or more backticks or tildes, indented at most three spaces, closed by a line
// of at least as many of the same character. Returns [{ line, text, closed }].
function mermaidBlocksOf(md) {
  const blocks = [];
  let open = null;
  md.split(/\r?\n/).forEach((line, i) => {
    if (open) {
      const close = line.match(/^ {0,3}(`{3,}|~{3,})\s*$/);
      if (close && close[1][0] === open.fence[0] && close[1].length >= open.fence.length) {
        if (open.mermaid) blocks.push({ line: open.line, text: open.lines.join("\n"), closed: true });
        open = null;
      } else open.lines.push(line);
      return;
    }
    const start = line.match(/^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/);
    if (start) open = { fence: start[1], mermaid: start[2].toLowerCase() === "mermaid", line: i + 1, lines: [] };
  });
  if (open?.mermaid) blocks.push({ line: open.line, text: open.lines.join("\n"), closed: false });
  return blocks;
}
