// Opens a wavegap HTML report in headless Chromium and checks it works offline:
//   node check-report.mjs REPORT.html SCREENSHOT.png
// Fails (exit 1, reasons on stderr) on any console error, page error or network request,
// when a sortable table does not sort, or when a filter does not filter. Prints a JSON
// summary on stdout.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [report, screenshot] = process.argv.slice(2);
if (!report || !screenshot) {
  console.error("usage: node check-report.mjs REPORT.html SCREENSHOT.png");
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const url = pathToFileURL(resolve(report)).href;
const problems = [];
const profile = mkdtempSync(join(tmpdir(), "wavegap-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
  ],
  viewport: { width: 1280, height: 900 },
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  const requests = [];
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("request", (r) => { if (r.url() !== url) requests.push(r.url()); });
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

  // Filtering: a query matching one row's first cell hides the rows without it.
  let filtered = 0;
  for (const input of await page.$$("input.filter")) {
    const target = await input.getAttribute("data-filter");
    const rows = await page.$$eval(`#${target} tbody tr`, (rs) => rs.map((r) => r.textContent.toLowerCase()));
    if (rows.length === 0) continue;
    const needle = (await page.$eval(`#${target} tbody tr td`, (td) => td.textContent.trim())).toLowerCase();
    await input.fill(needle);
    const visible = await page.$$eval(`#${target} tbody tr`, (rs) => rs.filter((r) => !r.hidden).length);
    const expected = rows.filter((r) => r.includes(needle)).length;
    if (visible !== expected || visible === 0) problems.push(`filter for #${target} shows ${visible} rows, expected ${expected}`);
    await input.fill("zzz-no-such-row-zzz");
    const none = await page.$$eval(`#${target} tbody tr`, (rs) => rs.filter((r) => !r.hidden).length);
    if (none !== 0) problems.push(`filter for #${target} left ${none} rows visible for a query matching nothing`);
    await input.fill("");
    filtered++;
  }

  const svgs = await page.$$eval("svg.diagram", (s) => s.length);
  const scripts = await page.$$eval("script", (s) => s.length);
  if (scripts !== 1) problems.push(`expected exactly one (inline) script element, found ${scripts}`);
  await page.screenshot({ path: screenshot, fullPage: true });
  // Narrow screen: nothing may overflow the page horizontally (tables scroll in their box).
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 1) problems.push(`page is ${overflow}px wider than a phone screen`);
  for (const r of requests) problems.push(`network request: ${r}`);
  console.log(JSON.stringify({ url, tables: tables.length, sortedColumns, filtered, svgs, requests: requests.length, problems }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(problems.length === 0 ? 0 : 1);
