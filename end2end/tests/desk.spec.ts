import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, Page, test } from "@playwright/test";
import { hydrated, register, uniqueName } from "./helpers";
import { makePng } from "./media-helpers";

/** `teahouse grant-role`, the operator's way to make the first admin. */
function grantRole(username: string, role: string) {
  const bin = process.env.TEAHOUSE_BIN;
  const data = process.env.TEAHOUSE_DATA_DIR;
  if (!bin || !data) throw new Error("run through scripts/e2e.sh (TEAHOUSE_BIN, TEAHOUSE_DATA_DIR)");
  execFileSync(bin, ["grant-role", "--data-dir", data, "--role", role, username]);
}

async function makeAgent(admin: Page, username: string) {
  await admin.getByRole("searchbox").fill(username);
  await admin.getByRole("button", { name: "Search" }).click();
  const row = admin.locator(`tr[data-username="${username}"]`);
  await row.getByRole("button", { name: "Agent" }).click();
  await expect(row.locator(".role")).toHaveText("Agent");
}

test("a guest and an agent exchange text and pictures; when the agent's tab closes a second agent takes over", async ({ browser }) => {
  test.setTimeout(120_000);
  const suffix = Date.now() % 100000;
  const admin = await (await browser.newContext({ locale: "en-US" })).newPage();
  const bossName = uniqueName("boss");
  await register(admin, bossName, `Boss${suffix}`);
  grantRole(bossName, "admin");
  const a1Context = await browser.newContext({ locale: "zh-CN" });
  const a1 = await a1Context.newPage();
  const a1Name = uniqueName("agent1");
  const a1Nick = `客服一号${suffix}`;
  await register(a1, a1Name, a1Nick);
  const a2 = await (await browser.newContext({ locale: "zh-CN" })).newPage();
  const a2Name = uniqueName("agent2");
  const a2Nick = `客服二号${suffix}`;
  await register(a2, a2Name, a2Nick);

  // The admin makes both agents on the admin page.
  await admin.goto("/admin");
  await hydrated(admin);
  await makeAgent(admin, a1Name);
  await makeAgent(admin, a2Name);

  // Agent 1 opens the console: the only agent online.
  await a1.goto("/desk");
  await hydrated(a1);
  await expect(a1.getByRole("heading", { name: "客服工作台" })).toBeVisible();

  // A guest with no account opens /support and is given to agent 1.
  const guest = await (await browser.newContext({ locale: "zh-CN" })).newPage();
  await guest.goto("/support");
  await hydrated(guest);
  await expect(guest.getByTestId("support-status")).toContainText(a1Nick);
  const question = `你好，我的订单 ${suffix} 还没到`;
  const guestInput = guest.getByRole("textbox", { name: /输入消息/ });
  await guestInput.fill(question);
  await guestInput.press("Enter");
  await expect(guest.locator(".desk-log .msg.mine .bubble", { hasText: question })).toBeVisible();

  // Agent 1 sees the conversation, its guest and the message; answers.
  const mine = a1.getByTestId("desk-mine").locator("button.desk-item");
  await expect(mine).toHaveCount(1);
  await mine.first().click();
  await expect(a1.getByTestId("guest-card")).toContainText("访客");
  await expect(a1.locator(".desk-log .bubble", { hasText: question })).toBeVisible();
  const answer = "您好，我帮您查一下";
  const agentInput = a1.getByRole("textbox", { name: /输入消息/ });
  await agentInput.fill(answer);
  await agentInput.press("Enter");
  await expect(guest.locator(".desk-log .msg:not(.mine) .bubble", { hasText: answer })).toBeVisible();

  // Pictures both ways.
  await guest.getByTestId("desk-picture").setInputFiles({ name: "order.png", mimeType: "image/png", buffer: makePng(64, 48) });
  await expect(a1.locator(".desk-log .msg:not(.mine) .bubble-image img")).toBeVisible();
  await a1.getByTestId("desk-picture").setInputFiles({ name: "reply.png", mimeType: "image/png", buffer: makePng(40, 40) });
  await expect(guest.locator(".desk-log .msg:not(.mine) .bubble-image img")).toBeVisible();

  // Agent 2 comes online; agent 1 closes the tab: after the grace period
  // the conversation moves to agent 2, and the guest is told.
  await a2.goto("/desk");
  await hydrated(a2);
  await a1Context.close();
  await expect(guest.getByTestId("support-status")).toContainText(a2Nick, { timeout: 20_000 });
  await expect(guest.locator(".desk-log .sys-line", { hasText: "正在为您转接" })).toBeVisible();
  const mine2 = a2.getByTestId("desk-mine").locator("button.desk-item");
  await expect(mine2).toHaveCount(1);
  await mine2.first().click();
  // Nothing was lost: agent 2 reads everything agent 1 and the guest wrote.
  await expect(a2.locator(".desk-log .bubble", { hasText: question })).toBeVisible();
  await expect(a2.locator(".desk-log .bubble", { hasText: answer })).toBeVisible();
  await expect(a2.locator(".desk-log .bubble-image img")).toHaveCount(2);
  const later = "还在吗？";
  await guestInput.fill(later);
  await guestInput.press("Enter");
  await expect(a2.locator(".desk-log .bubble", { hasText: later })).toBeVisible();

  const screens = process.env.SCREENS_DIR;
  if (screens) {
    for (const [name, page] of [["support", guest], ["desk", a2], ["admin", admin]] as const) {
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.screenshot({ path: `${screens}/${name}-desktop.png` });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: `${screens}/${name}-phone.png` });
    }
  }
});

test("the widget adds a button to a plain page and opens the support chat only when pressed", async ({ browser }) => {
  for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
    const page = await (await browser.newContext({ viewport, locale: "zh-CN" })).newPage();
    const appRequests: string[] = [];
    page.on("request", (r) => {
      if (/\/pkg\/|\/support|\/ws/.test(r.url())) appRequests.push(r.url());
    });
    await page.goto("/widget-demo.html");
    const button = page.locator("[data-teahouse-widget=button]");
    await expect(button).toHaveText("在线客服");
    // Nothing of the chat app is loaded before the button is pressed.
    expect(appRequests).toEqual([]);
    await button.click();
    const panel = page.locator("[data-teahouse-widget=panel]");
    await expect(panel).toBeVisible();
    const frame = page.frameLocator("[data-teahouse-widget=frame]");
    await expect(frame.getByTestId("support-status")).toBeVisible();
    await expect(frame.getByRole("textbox", { name: /输入消息/ })).toBeVisible();
    // On a phone the chat fills the screen.
    const box = await panel.boundingBox();
    if (viewport.width < 600) {
      expect(box?.width).toBe(viewport.width);
      expect(box?.height).toBe(viewport.height);
    } else {
      expect(box!.width).toBeLessThan(500);
    }
    const screens = process.env.SCREENS_DIR;
    if (screens) await page.screenshot({ path: `${screens}/widget-${viewport.width}.png` });
    await page.locator("[data-teahouse-widget=close]").click();
    await expect(panel).toBeHidden();
    await page.context().close();
  }
});

/** A second server on a fresh data dir with `extra` flags; its URL and a stop function. */
async function startServer(extra: string[]): Promise<{ url: string; stop: () => void }> {
  const bin = process.env.TEAHOUSE_BIN;
  if (!bin) throw new Error("run through scripts/e2e.sh (TEAHOUSE_BIN)");
  const data = mkdtempSync(join(tmpdir(), "teahouse-widget-"));
  const child = spawn(bin, ["--data-dir", data, "--addr", "127.0.0.1:0", ...extra], {
    // The repository root, as scripts/e2e.sh runs the main server: the site root is relative to it.
    cwd: join(__dirname, "..", ".."),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stop = () => {
    child.kill();
    rmSync(data, { recursive: true, force: true });
  };
  const url = await new Promise<string>((resolve, reject) => {
    let seen = "";
    const look = (chunk: Buffer) => {
      seen += chunk.toString();
      const found = seen.match(/http:\/\/127\.0\.0\.1:\d+/);
      if (found) resolve(found[0]);
    };
    child.stdout.on("data", look);
    child.stderr.on("data", look);
    child.on("exit", (code) => reject(new Error(`server exited (${code}): ${seen}`)));
  });
  return { url, stop };
}

test("the widget on another site keeps the guest's conversation across reloads (a partitioned cross-site cookie)", async ({ browser }) => {
  // The shop: a page on a site of its own (localhost; the chat is on 127.0.0.1).
  let widgetSrc = "";
  const shopServer = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><meta charset="utf-8"><h1>Shop</h1><script src="${widgetSrc}" async></script>`);
  });
  await new Promise<void>((resolve) => shopServer.listen(0, "127.0.0.1", resolve));
  const shop = `http://localhost:${(shopServer.address() as AddressInfo).port}`;
  const server = await startServer(["--frame-ancestors", `'self' ${shop}`]);
  widgetSrc = `${server.url}/widget.js`;
  try {
    const context = await browser.newContext({ locale: "zh-CN" });
    const page = await context.newPage();
    await page.goto(`${shop}/p/1`);
    await page.locator("[data-teahouse-widget=button]").click();
    const frame = page.frameLocator("[data-teahouse-widget=frame]");
    await expect(frame.getByTestId("support-status")).toBeVisible();
    const words = `请问运费多少 ${Date.now() % 100000}`;
    const input = frame.getByRole("textbox", { name: /输入消息/ });
    await input.fill(words);
    await input.press("Enter");
    await expect(frame.locator(".desk-log .msg.mine .bubble", { hasText: words })).toBeVisible();
    // A reload of the shop's page finds the same guest and conversation.
    await page.reload();
    await page.locator("[data-teahouse-widget=button]").click();
    await expect(frame.locator(".desk-log .msg.mine .bubble", { hasText: words })).toBeVisible();
    await context.close();
  } finally {
    server.stop();
    shopServer.close();
  }
});
