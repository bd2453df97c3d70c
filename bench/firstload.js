// Scenario 5, first load: bytes on the wire (as transferred, i.e. gzip) for the
// chat page with its CSS/JS/WASM, and time until the page is interactive
// (hydrated), in headless Debian Chromium with the cache disabled.
//
// Usage: node bench/firstload.js BASE_URL [OUT_DIR]
// Needs end2end's npm packages (scripts/setup.sh) and a running release server.
const fs = require("fs");
const path = require("path");
const { chromium } = require(path.join(__dirname, "..", "end2end", "node_modules", "playwright-core"));

const RUNS = 7;

/** Bytes of the response body to a GET of `url` with `headers`, as sent (not decoded). */
function bodyBytes(url, headers) {
  const http = require("http");
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let n = 0;
        res.on("data", (chunk) => (n += chunk.length));
        res.on("end", () => resolve(n));
        res.on("error", reject);
      })
      .on("error", reject);
  });
}

(async () => {
  const base = process.argv[2];
  const outDir = process.argv[3];
  if (!base) {
    console.error("usage: node bench/firstload.js BASE_URL [OUT_DIR]");
    process.exit(2);
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
  try {
    const ctx = await browser.newContext();
    const setup = await ctx.newPage();
    await setup.goto(base + "/register");
    await setup.locator("body[data-hydrated=true]").waitFor();
    await setup.fill("#username", "firstload" + (Date.now() % 1e6));
    await setup.fill("#nickname", "First Load");
    await setup.fill("#password", "tea-leaves-42");
    await setup.click("form.auth-form button[type=submit]");
    await setup.getByTestId("me").waitFor();
    // A lobby with a full first page of history.
    for (let i = 0; i < 50; i++) {
      await setup.request.post(base + "/api/send_message", {
        form: { room_id: "1", client_id: "firstload-" + i, text: "消息 message " + i },
      });
    }
    await setup.close();

    const runs = [];
    for (let r = 0; r < RUNS; r++) {
      const page = await ctx.newPage();
      const cdp = await ctx.newCDPSession(page);
      await cdp.send("Network.enable");
      await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
      const bytes = {};
      const urls = {};
      cdp.on("Network.responseReceived", (e) => (urls[e.requestId] = e.response.url.replace(base, "")));
      cdp.on("Network.loadingFinished", (e) => (bytes[e.requestId] = e.encodedDataLength));
      // Time to interactive on the browser's own clock: the moment the app
      // marks <body data-hydrated> (set by its first effect after hydration),
      // in ms since navigation start. Seen by a MutationObserver installed
      // before any page script, so Playwright's polling adds nothing to it.
      await page.addInitScript(() => {
        const seen = () => {
          if (document.body && document.body.dataset.hydrated === "true" && !window.__hydratedAt) {
            window.__hydratedAt = performance.now();
          }
        };
        new MutationObserver(seen).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-hydrated"] });
      });
      const t0 = Date.now();
      await page.goto(base + "/?room=1");
      await page.locator("body[data-hydrated=true]").waitFor();
      const wall = Date.now() - t0;
      const tti = Math.round(await page.evaluate(() => window.__hydratedAt || NaN));
      // Where the time went, on the same clock: when the HTML, the JS glue
      // and the wasm had arrived; the rest (to TTI) is compiling the wasm,
      // instantiating it and hydrating the page.
      const phases = await page.evaluate(() => {
        const end = (suffix) => {
          const e = performance.getEntriesByType("resource").find((r) => r.name.endsWith(suffix));
          return e ? Math.round(e.responseEnd) : NaN;
        };
        const nav = performance.getEntriesByType("navigation")[0];
        return {
          html_ms: Math.round(nav.responseEnd),
          js_ms: end("/pkg/teahouse.js"),
          wasm_ms: end("/pkg/teahouse.wasm"),
          dom_content_loaded_ms: Math.round(nav.domContentLoadedEventEnd),
          // Set by the wasm's entry point: wasm_ms → here is compiling and
          // instantiating; here → TTI is hydrating the page.
          hydrate_start_ms: Math.round(
            performance.getEntriesByName("teahouse:hydrate-start")[0]?.startTime ?? NaN,
          ),
        };
      });
      await page.waitForLoadState("networkidle");
      const per = {};
      let total = 0;
      for (const id in bytes) {
        if (urls[id] && !urls[id].startsWith("ws")) {
          per[urls[id]] = (per[urls[id]] || 0) + bytes[id];
          total += bytes[id];
        }
      }
      runs.push({ tti_ms: tti, tti_wall_ms: wall, total_bytes: total, per_resource: per, phases });
      await page.close();
    }
    // The same resources for a client that accepts gzip only (Chromium
    // takes brotli from localhost and over HTTPS, but not over plain HTTP
    // to another host): body bytes as sent, headers not counted.
    const cookie = (await ctx.cookies(base)).map((c) => `${c.name}=${c.value}`).join("; ");
    const gzipBytes = {};
    for (const [url, bytes] of Object.entries(runs[RUNS - 1].per_resource)) {
      // Server-function calls (POST, small, not compressed) count as measured.
      gzipBytes[url] = url.startsWith("/api/")
        ? bytes
        : await bodyBytes(base + url, { "accept-encoding": "gzip", cookie });
    }
    const ttis = runs.map((r) => r.tti_ms).sort((a, b) => a - b);
    const walls = runs.map((r) => r.tti_wall_ms).sort((a, b) => a - b);
    const result = {
      scenario: "firstload",
      runs: RUNS,
      tti_ms_median: ttis[Math.floor(RUNS / 2)],
      tti_ms_min: ttis[0],
      tti_ms_max: ttis[RUNS - 1],
      // Navigation to "Playwright saw the attribute", including its polling.
      tti_wall_ms_median: walls[Math.floor(RUNS / 2)],
      total_kb: +(runs[RUNS - 1].total_bytes / 1024).toFixed(1),
      // Median of each phase's end over the runs (ms since navigation start).
      phases_ms_median: Object.fromEntries(
        Object.keys(runs[0].phases).map((k) => {
          const v = runs.map((r) => r.phases[k]).sort((a, b) => a - b);
          return [k, v[Math.floor(RUNS / 2)]];
        }),
      ),
      per_resource_bytes: runs[RUNS - 1].per_resource,
      total_kb_gzip_only: +(Object.values(gzipBytes).reduce((a, b) => a + b, 0) / 1024).toFixed(1),
      per_resource_bytes_gzip_only: gzipBytes,
      targets: { total_kb: 250, tti_ms: 300 },
    };
    console.log(JSON.stringify(result, null, 2));
    console.log(
      `firstload: ${result.total_kb} KB transferred (target ≤ 250; ${result.total_kb_gzip_only} KB for a gzip-only client), time to interactive median ${result.tti_ms_median} ms (target ≤ 300)`,
    );
    if (outDir) fs.writeFileSync(path.join(outDir, "firstload.json"), JSON.stringify(result, null, 2) + "\n");
  } finally {
    await browser.close();
  }
})();
