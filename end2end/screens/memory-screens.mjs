// Screenshots of issue 15's UI at 1280×800 and 390×844: unread badges and
// [Mentioned] in the list, a reply quote, a recalled message, the typing
// indicator, the mention picker and the search panel.
//
//   node memory-screens.mjs URL OUT_DIR     (scripts/memory-screens.sh)
import { chromium } from "@playwright/test";
import { mkdirSync } from "fs";

const [, , base, outDir] = process.argv;
mkdirSync(outDir, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
});
const stamp = Date.now().toString(36);

async function signUp(locale, username, nickname, viewport) {
  const context = await browser.newContext({ locale, viewport });
  const page = await context.newPage();
  await page.goto(`${base}/register`);
  await page.locator("body[data-hydrated=true]").waitFor();
  await page.locator("#username").fill(username);
  await page.locator("#nickname").fill(nickname);
  await page.locator("#password").fill("tea-leaves-42");
  await page.locator("form.auth-form button[type=submit]").click();
  await page.getByTestId("me").waitFor();
  await page.locator("body[data-hydrated=true]").waitFor();
  const me = await (await page.request.post(`${base}/api/me`)).json();
  return { page, id: me.id };
}
async function api(page, name, form) {
  const res = await page.request.post(`${base}/api/${name}`, { form });
  if (!res.ok()) throw new Error(`${name}: ${res.status()} ${await res.text()}`);
  return res.json();
}

const alice = await signUp("zh-CN", `alice_${stamp}`, "爱丽丝", { width: 1280, height: 800 });
const bob = await signUp("zh-CN", `bob_${stamp}`, "鲍勃", { width: 1280, height: 800 });
const room = await api(alice.page, "create_room", { name: "周末喝茶 · Tea", description: "" });
const other = await api(alice.page, "create_room", { name: "项目进度", description: "" });
for (const r of [room, other]) await api(bob.page, "join_room", { room_id: String(r.id) });
let n = 0;
const send = (who, r, text, extra = {}) => api(who.page, "send_message", { room_id: String(r.id), client_id: `s-${stamp}-${n++}`, text, ...extra });
const q = await send(bob, room, "周六下午去哪家茶馆？");
await send(alice, room, "老地方吧，普洱不错", { reply_to: String(q.seq) });
const oops = await send(bob, room, "发错群了");
await api(bob.page, "recall_message", { room_id: String(room.id), seq: String(oops.seq) });
await send(bob, room, `@爱丽丝 记得带茶饼`, { mentions: String(alice.id) });
for (const t of ["周报已更新", "明天上线", "测试通过了"]) await send(bob, other, t);

for (const [name, viewport] of [["desktop", { width: 1280, height: 800 }], ["mobile", { width: 390, height: 844 }]]) {
  const page = alice.page;
  await page.setViewportSize(viewport);
  // The list: unread badges and [有人@我].
  await page.goto(`${base}/?room=1`);
  await page.locator("body[data-hydrated=true]").waitFor();
  await page.waitForTimeout(500);
  if (name === "mobile") await page.goto(`${base}/`);
  await page.locator("body[data-hydrated=true]").waitFor();
  await page.screenshot({ path: `${outDir}/memory-list-${name}.png` });
  // The conversation: quote, recalled line, typing, mention picker.
  await page.goto(`${base}/?room=${room.id}`);
  await page.locator("body[data-hydrated=true]").waitFor();
  await bob.page.goto(`${base}/?room=${room.id}`);
  await bob.page.locator("body[data-hydrated=true]").waitFor();
  await bob.page.locator("textarea.composer-input").pressSequentially("好");
  await page.getByTestId("typing").filter({ hasText: "正在输入" }).waitFor();
  await page.locator("textarea.composer-input").fill("@鲍");
  await page.getByRole("listbox").waitFor();
  await page.screenshot({ path: `${outDir}/memory-conversation-${name}.png` });
  await page.locator("textarea.composer-input").fill("");
  // Search.
  await page.getByRole("button", { name: "搜索" }).click();
  await page.locator(".search-input").fill("普洱");
  await page.locator(".search-input").press("Enter");
  await page.locator(".search-hit").first().waitFor();
  await page.screenshot({ path: `${outDir}/memory-search-${name}.png` });
  await page.getByRole("button", { name: "搜索" }).click();
}
await browser.close();
