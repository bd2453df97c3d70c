import { expect, test } from "@playwright/test";
import { hydrated, register, uniqueName } from "./helpers";

test.use({ locale: "zh-CN" });

test("two people create, join and chat in a room in real time; reload keeps the history", async ({ browser }) => {
  // Two browsers, two sign-ups, a reload and a dozen live round trips: on a
  // loaded 2-core machine the default 30 s is not always enough.
  test.setTimeout(60_000);
  const alice = await (await browser.newContext({ locale: "zh-CN" })).newPage();
  const bob = await (await browser.newContext({ locale: "en-US" })).newPage();
  await register(alice, uniqueName("alice"), "爱丽丝");
  await register(bob, uniqueName("bob"), "Bob");

  // Alice creates a room and lands in it.
  const roomName = `茶话会 ${Date.now() % 100000}`;
  await alice.getByRole("button", { name: /新建群聊/ }).click();
  await alice.locator("#room-name").fill(roomName);
  await alice.locator("#room-description").fill("喝茶聊天");
  await alice.getByRole("button", { name: "创建" }).click();
  await expect(alice).toHaveURL(/\?room=\d+/);
  await expect(alice.locator(".chat-title")).toContainText(roomName);

  // Bob finds it in the directory and joins; Alice sees him arrive live.
  await bob.getByRole("button", { name: /Discover rooms/ }).click();
  const row = bob.locator(".directory-row", { hasText: roomName });
  await row.getByRole("button", { name: new RegExp(`^Join ${roomName}`) }).click();
  await expect(bob).toHaveURL(/\?room=\d+/);
  await expect(bob.locator(".chat-title")).toContainText(roomName);
  await expect(alice.locator(".sys-line", { hasText: "Bob" })).toBeVisible();

  // Alice sends with Enter; Bob receives it without reloading.
  const hello = `你好 Bob <b>${Date.now()}</b>`;
  const aliceInput = alice.getByRole("textbox", { name: /输入消息/ });
  await aliceInput.fill(hello);
  await aliceInput.press("Enter");
  await expect(alice.locator(".msg.mine .bubble", { hasText: hello })).toBeVisible();
  const received = bob.locator(".msg:not(.mine)", { hasText: hello });
  await expect(received).toBeVisible();
  // User text is shown as text, never as markup; Alice's bubble carries the owner mark.
  await expect(received.locator(".bubble b")).toHaveCount(0);
  await expect(received.locator(".owner-mark")).toBeVisible();
  await expect(received.locator(".msg-name")).toHaveText("爱丽丝");

  // Bob answers with the Send button.
  const reply = `Hi Alice ${Date.now()}`;
  await bob.getByRole("textbox", { name: /Type a message/ }).fill(reply);
  await bob.getByRole("button", { name: "Send" }).click();
  await expect(alice.locator(".msg:not(.mine) .bubble", { hasText: reply })).toBeVisible();

  // The conversation list previews the last message.
  await expect(alice.locator(".conversation.selected .conv-preview")).toContainText(reply);

  // Reload: the same history, in order, server-rendered.
  await bob.reload();
  await hydrated(bob);
  const bubbles = bob.locator(".msg .bubble");
  await expect(bubbles.filter({ hasText: hello })).toBeVisible();
  await expect(bubbles.filter({ hasText: reply })).toBeVisible();
  const texts = await bubbles.allTextContents();
  expect(texts.indexOf(hello)).toBeLessThan(texts.indexOf(reply));

  // Unread badge: Alice looks at the lobby while Bob writes in the room.
  await alice.locator(".conversation", { hasText: "Lobby" }).click();
  await expect(alice).toHaveURL(/\?room=1$/);
  await bob.getByRole("textbox", { name: /Type a message/ }).fill("ping");
  await bob.getByRole("textbox", { name: /Type a message/ }).press("Enter");
  await expect(alice.locator(".conversation", { hasText: roomName }).locator(".conv-badge")).toHaveText("1");
});

test("sign-up errors are shown next to the field they concern", async ({ page }) => {
  const taken = uniqueName("carol");
  await register(page, taken, "Carol");
  await page.context().clearCookies();

  await page.goto("/register");
  await hydrated(page);
  await page.locator("#username").fill(uniqueName("dave"));
  await page.locator("#nickname").fill("Dave");
  await page.locator("#password").fill("12345678");
  await page.locator("form.auth-form button[type=submit]").click();
  await expect(page.locator("#password-error")).toHaveText("密码太简单，请勿使用用户名或重复字符");
  await expect(page.locator("#password")).toHaveAttribute("aria-invalid", "true");

  await page.locator("#username").fill(taken);
  await page.locator("#password").fill("tea-leaves-42");
  await page.locator("form.auth-form button[type=submit]").click();
  await expect(page.locator("#username-error")).toHaveText("该用户名已被占用");
  await expect(page).toHaveURL(/\/register$/);
});

test("logging in with a wrong password fails; the right one works; logged-out visitors go to login", async ({ page }) => {
  const name = uniqueName("erin");
  await register(page, name, "Erin");
  await page.context().clearCookies();
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
  await hydrated(page);
  // The head comes from the server; switching the language keeps <html lang> in step.
  await expect(page).toHaveTitle("茶馆 · Teahouse");
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await page.locator(".lang-toggle").click();
  await expect(page.locator("h2")).toHaveText("Log in");
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await page.locator(".lang-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await page.locator("#username").fill(name);
  await page.locator("#password").fill("not-my-password");
  await page.locator("form.auth-form button[type=submit]").click();
  await expect(page.locator("#password-error")).toHaveText("用户名或密码错误");
  await page.locator("#password").fill("tea-leaves-42");
  await page.locator("form.auth-form button[type=submit]").click();
  await expect(page.getByTestId("me")).toHaveText("Erin");
});

test("on a phone-sized screen the list and the chat are separate screens", async ({ browser }) => {
  const page = await (await browser.newContext({ viewport: { width: 390, height: 780 }, hasTouch: true, locale: "en-US" })).newPage();
  await register(page, uniqueName("frank"), "Frank");
  await expect(page.locator(".sidebar")).toBeVisible();
  await expect(page.locator(".pane")).toBeHidden();
  await page.locator(".conversation", { hasText: "Lobby" }).click();
  await expect(page.locator(".chat-title")).toContainText("Lobby");
  await expect(page.locator(".sidebar")).toBeHidden();
  await page.getByRole("link", { name: "Back" }).click();
  await expect(page.locator(".sidebar")).toBeVisible();
  await expect(page.locator(".pane")).toBeHidden();
  // The browser's Back and Forward move between the room and the list in place.
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
  await page.goBack();
  await expect(page).toHaveURL(/\?room=1$/);
  await expect(page.locator(".chat-title")).toContainText("Lobby");
  await expect(page.locator(".sidebar")).toBeHidden();
  await page.goForward();
  await expect(page.locator(".sidebar")).toBeVisible();
  await expect(page.locator(".pane")).toBeHidden();
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
});

test("scrolling up loads older messages by sequence cursor", async ({ page }) => {
  await register(page, uniqueName("gina"), "Gina");
  await page.getByRole("button", { name: /新建群聊/ }).click();
  await page.locator("#room-name").fill("history");
  await page.getByRole("button", { name: "创建" }).click();
  await expect(page).toHaveURL(/\?room=\d+/);
  const roomId = new URL(page.url()).searchParams.get("room")!;
  // Seed 80 messages through the same API the UI uses (same session cookie).
  for (let i = 0; i < 80; i++) {
    const res = await page.request.post("/api/send_message", {
      form: { room_id: roomId, client_id: `seed-${i}`, text: `m-${String(i).padStart(2, "0")}` },
    });
    expect(res.ok()).toBeTruthy();
  }
  await page.reload();
  await hydrated(page);
  const bubbles = page.locator(".msg .bubble");
  await expect(bubbles.filter({ hasText: "m-79" })).toBeVisible();
  // The first page is the newest 50 events: m-30..m-79.
  await expect(bubbles.filter({ hasText: /^m-29$/ })).toHaveCount(0);
  await page.getByTestId("messages").evaluate((el) => el.scrollTo(0, 0));
  await expect(bubbles.filter({ hasText: /^m-00$/ })).toHaveCount(1);
  await expect(page.getByText("没有更早的消息了")).toBeVisible();
  const texts = await bubbles.allTextContents();
  const expected = Array.from({ length: 80 }, (_, i) => `m-${String(i).padStart(2, "0")}`);
  expect(texts).toEqual(expected);
});
