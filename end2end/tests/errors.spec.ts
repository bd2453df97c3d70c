import { expect, test, WebSocketRoute } from "@playwright/test";
import { hydrated, register, uniqueName } from "./helpers";

// Failed fetches are shown to the user, and a failed catch-up is retried
// until the missed events are in. Failures are made with Playwright's
// request routing (`abort` = the network failed); the server is real.

test.use({ locale: "zh-CN" });

/** Does a `history` server-function call ask for the page `before` or `after` a seq? */
function historyCursor(body: string | null): "before" | "after" | "newest" {
  const form = new URLSearchParams(body ?? "");
  if (form.get("after")) return "after";
  if (form.get("before")) return "before";
  return "newest";
}

async function createRoom(page: import("@playwright/test").Page, name: string): Promise<string> {
  await page.getByRole("button", { name: /新建群聊/ }).click();
  await page.locator("#room-name").fill(name);
  await page.getByRole("button", { name: "创建" }).click();
  await expect(page).toHaveURL(/\?room=\d+/);
  return new URL(page.url()).searchParams.get("room")!;
}

test("a failed older page is shown, and the button loads it", async ({ page }) => {
  await register(page, uniqueName("hana"), "Hana");
  const roomId = await createRoom(page, "older");
  for (let i = 0; i < 60; i++) {
    const res = await page.request.post("/api/send_message", {
      form: { room_id: roomId, client_id: `seed-${i}`, text: `o-${String(i).padStart(2, "0")}` },
    });
    expect(res.ok()).toBeTruthy();
  }
  let failOlder = true;
  await page.route("**/api/history", (route) =>
    failOlder && historyCursor(route.request().postData()) === "before" ? route.abort("failed") : route.continue(),
  );
  await page.reload();
  await hydrated(page);
  const bubbles = page.locator(".msg .bubble");
  await expect(bubbles.filter({ hasText: "o-59" })).toBeVisible();
  await page.getByTestId("messages").evaluate((el) => el.scrollTo(0, 0));
  const notice = page.locator(".history-edge .error-notice");
  await expect(notice).toHaveText("更早的消息没有加载出来 · 网络连接失败，请检查网络后重试");
  await expect(notice).toHaveAttribute("data-code", "network");
  await expect(bubbles.filter({ hasText: /^o-00$/ })).toHaveCount(0);

  failOlder = false;
  await page.getByRole("button", { name: "查看更早的消息" }).click();
  await expect(bubbles.filter({ hasText: /^o-00$/ })).toHaveCount(1);
  await expect(notice).toHaveCount(0);
});

test("a catch-up that fails after a reconnect is shown, retried, and the missed message appears", async ({ page }) => {
  await register(page, uniqueName("ivan"), "Ivan");
  const roomId = await createRoom(page, "catch-up");

  // The page's socket goes through here: hellos are counted, and while
  // `refuse` is set new connections are closed at once.
  let refuse = false;
  let hellos = 0;
  const open: { page: WebSocketRoute; server: WebSocketRoute }[] = [];
  await page.routeWebSocket(/\/ws$/, (ws) => {
    if (refuse) {
      ws.close();
      return;
    }
    const server = ws.connectToServer();
    server.onMessage((m) => {
      if (typeof m === "string" && m.includes('"type":"hello"')) hellos++;
      ws.send(m);
    });
    open.push({ page: ws, server });
  });
  let failCatchUp = false;
  await page.route("**/api/history", (route) =>
    failCatchUp && historyCursor(route.request().postData()) === "after" ? route.abort("failed") : route.continue(),
  );
  await page.reload();
  await hydrated(page);
  await expect.poll(() => hellos).toBe(1);

  // The connection drops, and a message is stored while it is down.
  refuse = true;
  failCatchUp = true;
  const first = open[0];
  await first.server.close();
  await first.page.close();
  const missed = `missed while away ${Date.now()}`;
  const res = await page.request.post("/api/send_message", {
    form: { room_id: roomId, client_id: `away-${Date.now()}`, text: missed },
  });
  expect(res.ok()).toBeTruthy();

  // It comes back; the catch-up fails: a notice, and no message yet.
  refuse = false;
  await expect.poll(() => hellos, { timeout: 20_000 }).toBe(2);
  const notice = page.locator(".messages > .error-notice");
  await expect(notice).toHaveText("新消息没有加载出来，正在重试 · 网络连接失败，请检查网络后重试");
  await expect(page.locator(".msg .bubble", { hasText: missed })).toHaveCount(0);

  // The retry gets through: the missed message appears, once, and the notice goes.
  failCatchUp = false;
  await expect(page.locator(".msg.mine .bubble", { hasText: missed })).toHaveCount(1, { timeout: 20_000 });
  await expect(notice).toHaveCount(0);
});

test("a room one cannot read shows the reason, server-rendered and live after hydration", async ({ page }) => {
  await register(page, uniqueName("jun"), "Jun");
  await page.goto("/?room=999999");
  const notice = page.locator(".pane .messages .error-notice");
  await expect(notice).toHaveText("找不到该房间或用户");
  await hydrated(page);
  await expect(notice).toHaveAttribute("data-code", "not_found");
  // The member panel's own fetch (made in the browser) fails the same way,
  // through the same boundary, and its notice follows the language switch.
  await page.getByRole("button", { name: "群成员" }).click();
  const panelNotice = page.locator(".member-panel .error-notice");
  await expect(panelNotice).toHaveText("找不到该房间或用户");
  await expect(panelNotice).toHaveAttribute("data-code", "not_found");
  await page.locator(".lang-toggle").click();
  await expect(panelNotice).toHaveText("That room or user does not exist");
});

test("a failed log-out is shown and keeps the page; the next one leaves", async ({ page }) => {
  await register(page, uniqueName("kai"), "Kai");
  await page.route("**/api/logout", (route) => route.abort("failed"), { times: 1 });
  await page.getByRole("button", { name: "退出登录" }).click();
  await expect(page.locator(".sidebar .error-notice")).toHaveText("退出登录失败 · 网络连接失败，请检查网络后重试");
  await expect(page).toHaveURL(/\/(\?.*)?$/);
  await page.getByRole("button", { name: "退出登录" }).click();
  await expect(page).toHaveURL(/\/login$/);
});
