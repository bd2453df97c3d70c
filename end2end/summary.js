// Prints Playwright's JSON report as one plain "e2e: N passed, N failed" line.
const fs = require("fs");
const file = process.argv[2];
const report = JSON.parse(fs.readFileSync(file, "utf8"));
const s = report.stats || {};
const passed = (s.expected || 0) + (s.flaky || 0);
const failed = s.unexpected || 0;
const skipped = s.skipped || 0;
console.log(`e2e: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
