import { expect, Frame, Page, test } from "@playwright/test";
import { callApi, HostPage, registerByApi, Teahouse } from "./embed-helpers";
import { hydrated, register, uniqueName } from "./helpers";

test.use({ locale: "en-US" });

/** The host page's chat frame, once it has loaded something. */
async function chatFrame(page: Page): Promise<Frame> {
  const handle = await page.locator("#chat").elementHandle();
  const frame = await handle!.contentFrame();
  return frame!;
}

test("a page of another origin cannot frame the chat unless --frame-ancestors lists it", async ({ page }) => {
  const host = await HostPage.start();
  const allowing = await Teahouse.start(["--frame-ancestors", `'self' ${host.origin}`]);
  try {
    // The default ('self'): Chromium refuses to show the chat in the frame.
    const refusals: string[] = [];
    page.on("console", (m) => {
      if (/frame-ancestors/.test(m.text())) refusals.push(m.text());
    });
    const defaultServer = new URL(process.env.BASE_URL ?? "http://127.0.0.1:3000").origin;
    await page.goto(host.url(`${defaultServer}/login`));
    await expect.poll(() => refusals.length).toBeGreaterThan(0);
    expect(refusals[0]).toContain("frame-ancestors 'self'");
    const blocked = await chatFrame(page);
    await expect(blocked.locator("body[data-hydrated=true]")).toHaveCount(0);
    await expect(blocked.locator("form.auth-form")).toHaveCount(0);

    // Listed: the same page frames it, and it comes alive.
    await page.goto(host.url(`${allowing.url}/login`));
    const framed = await chatFrame(page);
    await framed.locator("body[data-hydrated=true]").waitFor();
    await expect(framed.locator("form.auth-form")).toBeVisible();
  } finally {
    await allowing.stop();
    await host.stop();
  }
});

/** Signs `page`'s browser in on `base` as a new user. */
async function signIn(page: Page, base: string, nickname: string) {
  const cookie = await registerByApi(base, uniqueName("emb"), nickname);
  const [name, value] = cookie.split("=");
  await page.context().addCookies([{ name, value, url: base }]);
}

/** Someone else writes in the lobby of `base`. */
async function someoneWrites(base: string, text: string) {
  const other = await registerByApi(base, uniqueName("writer"), "Writer");
  const rooms = (await callApi(base, other, "my_rooms", {})) as { id: number }[];
  await callApi(base, other, "send_message", {
    room_id: String(rooms[0].id),
    client_id: `embed-${Date.now()}`,
    text,
  });
}

function receivedBy(page: Page) {
  return () =>
    page.evaluate(() => (window as unknown as { received: { origin: string; data: unknown }[] }).received);
}

test("the framed chat tells its host's origin, and only it, that it is ready and how much is unread", async ({ page }) => {
  const host = await HostPage.start();
  // Another listed origin that is not the parent: nothing may be aimed at it
  // (Chromium reports a postMessage whose target is not the recipient's origin).
  const decoy = "http://127.0.0.1:9";
  const chat = await Teahouse.start(["--frame-ancestors", `'self' ${host.origin} ${decoy}`]);
  const misaimed: string[] = [];
  page.on("console", (m) => {
    if (/postMessage/.test(m.text())) misaimed.push(m.text());
  });
  try {
    // Same site as the host (127.0.0.1), so the chat's cookie goes to the frame.
    await signIn(page, chat.url, "Embedded");
    await page.goto(host.url(`${chat.url}/`));
    const frame = await chatFrame(page);
    await expect(frame.getByTestId("me")).toHaveText("Embedded");
    const received = receivedBy(page);
    await expect.poll(received).toEqual([{ origin: chat.url, data: { source: "teahouse", type: "ready", unread: 0 } }]);

    await someoneWrites(chat.url, "hello host");
    await expect.poll(received).toEqual([
      { origin: chat.url, data: { source: "teahouse", type: "ready", unread: 0 } },
      { origin: chat.url, data: { source: "teahouse", type: "unread", unread: 1 } },
    ]);
    expect(misaimed).toEqual([]);
  } finally {
    await chat.stop();
    await host.stop();
  }
});

test("a host allowed to frame only by a wildcard hears nothing: messages go to exact origins, never \"*\"", async ({ page }) => {
  const host = await HostPage.start();
  const chat = await Teahouse.start(["--frame-ancestors", "'self' http://127.0.0.1:*"]);
  try {
    await signIn(page, chat.url, "Wild");
    await page.goto(host.url(`${chat.url}/`));
    const frame = await chatFrame(page);
    await expect(frame.getByTestId("me")).toHaveText("Wild");
    await frame.locator("body[data-live=open]").waitFor();
    await someoneWrites(chat.url, "hello anyone");
    // The frame has seen the message (its title counts it): had it posted
    // to "*", the host would have heard "ready" and "unread" by now.
    await expect.poll(() => frame.title()).toBe("(1) 茶馆 · Teahouse");
    expect(await receivedBy(page)()).toEqual([]);
  } finally {
    await chat.stop();
    await host.stop();
  }
});

test("in a phone webview the chat fits 320-390 px without sideways scrolling and the input stays above the keyboard", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  const page = await context.newPage();
  try {
    await register(page, uniqueName("web"), "Webview");
    await page.locator(".conversation", { hasText: "Lobby" }).click();
    await expect(page.locator(".chat-title")).toContainText("Lobby");
    const input = page.locator(".composer textarea");
    await input.fill("a long line ".repeat(30));
    await page.locator(".composer").evaluate((f) => (f as HTMLFormElement).requestSubmit());
    await expect(page.locator(".msg.mine .bubble").last()).toContainText("a long line");
    const screens = process.env.SCREENS_DIR;
    if (screens) await page.screenshot({ path: `${screens}/webview-390x844.png` });
    for (const width of [320, 360, 390]) {
      await page.setViewportSize({ width, height: 844 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${width} px`).toBeLessThanOrEqual(0);
      const box = (await input.boundingBox())!;
      expect(box.x + box.width, `${width} px`).toBeLessThanOrEqual(width);
    }
    // A soft keyboard leaves 390x480 visible: the layout follows the
    // visual viewport and the input is still on screen.
    await page.setViewportSize({ width: 390, height: 480 });
    await expect
      .poll(() => page.evaluate(() => document.documentElement.style.getPropertyValue("--app-height")))
      .toBe("480px");
    await expect.poll(async () => (await input.boundingBox())!.y + (await input.boundingBox())!.height).toBeLessThanOrEqual(480);
    await expect(input).toBeInViewport();
    await hydrated(page);
  } finally {
    await context.close();
  }
});

test("a hand-off lands a phone-sized webview in its conversation, and an API send appears there live", async ({ browser }) => {
  const chat = await Teahouse.start([]);
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  const page = await context.newPage();
  try {
    // The operator's admin makes a key for the host backend.
    const adminName = uniqueName("boss");
    const admin = await registerByApi(chat.url, adminName, "Boss");
    chat.grantAdmin(adminName);
    const made = (await callApi(chat.url, admin, "admin_create_api_key", {
      name: "app",
      scope: "full",
      rooms: "",
      bot_nickname: "小助手",
      bot_avatar_url: "",
    })) as { secret: string };
    const key = made.secret;
    // The host backend: its user, a room, and a hand-off to that room.
    await chat.v1(key, "PUT", "/api/v1/users/u-1001", { nickname: "小明" });
    const rooms = (await callApi(chat.url, admin, "create_room", { name: "客户群", description: "" })) as { id: number };
    await chat.v1(key, "PUT", `/api/v1/rooms/${rooms.id}/members/u-1001`);
    const handoff = (await chat.v1(key, "POST", "/api/v1/users/u-1001/handoff", { next: `/?room=${rooms.id}` })) as {
      url: string;
    };

    // The app opens it in its webview.
    await page.goto(`${chat.url}${handoff.url}`);
    await expect(page).toHaveURL(new RegExp(`/\\?room=${rooms.id}$`));
    await expect(page.locator(".chat-title")).toContainText("客户群");
    await expect(page.getByTestId("me")).toHaveText("小明");
    await page.locator("body[data-live=open]").waitFor();
    await expect(page.locator(".composer textarea")).toBeInViewport();

    // The backend sends to the room: it shows at once, from the bot.
    await chat.v1(key, "POST", `/api/v1/rooms/${rooms.id}/messages`, { client_id: "order-1", text: "您的订单已发货" });
    const bubble = page.locator(".msg:not(.mine)", { hasText: "您的订单已发货" });
    await expect(bubble).toBeVisible();
    await expect(bubble.locator(".msg-name")).toContainText("小助手");
    const screens = process.env.SCREENS_DIR;
    if (screens) await page.screenshot({ path: `${screens}/handoff-390x844.png` });
  } finally {
    await context.close();
    await chat.stop();
  }
});
