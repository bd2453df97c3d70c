import { APIRequestContext, BrowserContext, expect, Page, test } from "@playwright/test";
import { hydrated, register, uniqueName } from "./helpers";

// A messenger's memory (issue 15): read state on every tab, recall, replies,
// mentions, typing and the offline outbox, in real Chromium against the
// real server.

type Person = { context: BrowserContext; page: Page; id: number; nick: string };

async function person(browser: import("@playwright/test").Browser, prefix: string, nick: string, locale = "en-US"): Promise<Person> {
  const context = await browser.newContext({ locale });
  const page = await context.newPage();
  await register(page, uniqueName(prefix), nick);
  const me = await (await page.request.post("/api/me")).json();
  return { context, page, id: me.id, nick };
}

async function api(request: APIRequestContext, name: string, form: Record<string, string | number>) {
  const res = await request.post(`/api/${name}`, { form: Object.fromEntries(Object.entries(form).map(([k, v]) => [k, String(v)])) });
  expect(res.ok(), `${name}: ${res.status()} ${await res.text()}`).toBeTruthy();
  return res.json();
}

/** A room of `owner` that `others` joined; its id. */
async function room(owner: Person, others: Person[], name = `茶室 ${Date.now() % 100000}`): Promise<number> {
  const created = await api(owner.page.request, "create_room", { name, description: "" });
  for (const p of others) await api(p.page.request, "join_room", { room_id: created.id });
  return created.id;
}

async function open(p: Person, roomId: number) {
  await p.page.goto(`/?room=${roomId}`);
  await hydrated(p.page);
}

function input(page: Page) {
  return page.locator("textarea.composer-input");
}

async function say(page: Page, text: string) {
  await input(page).fill(text);
  await input(page).press("Enter");
}

test("reading in one tab clears the badge in the user's other tab", async ({ browser }) => {
  test.setTimeout(60_000);
  const alice = await person(browser, "alice", "Alice");
  const bob = await person(browser, "bob", "Bob");
  const id = await room(alice, [bob]);
  // Bob has two tabs on the lobby.
  await open(bob, 1);
  const tab2 = await bob.context.newPage();
  await tab2.goto("/?room=1");
  await hydrated(tab2);
  for (const t of ["one", "two"]) await api(alice.page.request, "send_message", { room_id: id, client_id: `m-${t}-${Date.now()}`, text: t });
  const badge = (page: Page) => page.locator(`.conversation[data-room-id="${id}"] .conv-badge`);
  await expect(badge(bob.page)).toHaveText("2");
  await expect(badge(tab2)).toHaveText("2");
  await expect(tab2).toHaveTitle(/^\(2\)/);
  // Bob reads in the first tab: the second's badge and title clear by themselves.
  await bob.page.locator(`.conversation[data-room-id="${id}"]`).click();
  await expect(bob.page.locator(".msg .bubble", { hasText: "two" })).toBeVisible();
  await expect(badge(tab2)).toHaveCount(0, { timeout: 3_000 });
  await expect(tab2).toHaveTitle(/^茶馆/);
  // And it stays read after a reload (the server keeps the position).
  await tab2.reload();
  await hydrated(tab2);
  await expect(tab2.locator(`.conversation[data-room-id="${id}"]`)).toBeVisible();
  await expect(badge(tab2)).toHaveCount(0);
});

test("a recall is seen on the other side, live", async ({ browser }) => {
  test.setTimeout(60_000);
  const alice = await person(browser, "alice", "Alice");
  const bob = await person(browser, "bob", "Bob", "zh-CN");
  const id = await room(alice, [bob]);
  await open(alice, id);
  await open(bob, id);
  const secret = `说错了 ${Date.now()}`;
  await say(bob.page, secret);
  const aliceSees = alice.page.locator(".msg .bubble", { hasText: secret });
  await expect(aliceSees).toBeVisible();
  await bob.page.locator(".msg.mine", { hasText: secret }).getByRole("button", { name: "撤回" }).click();
  await expect(aliceSees).toHaveCount(0);
  await expect(alice.page.locator(".sys-line", { hasText: "Bob recalled a message" })).toBeVisible();
  await expect(bob.page.locator(".sys-line", { hasText: "Bob 撤回了一条消息" })).toBeVisible();
  // The list's preview says so too, not the text.
  await expect(alice.page.locator(`.conversation[data-room-id="${id}"] .conv-preview`)).toContainText("recalled a message");
});

test("a reply quotes its original and clicking the quote scrolls to it, loading it if needed", async ({ browser }) => {
  test.setTimeout(90_000);
  const alice = await person(browser, "alice", "Alice");
  const bob = await person(browser, "bob", "Bob");
  const id = await room(alice, [bob]);
  const original = await api(bob.page.request, "send_message", { room_id: id, client_id: `orig-${Date.now()}`, text: "the original question" });
  for (let i = 0; i < 60; i++) {
    await api(bob.page.request, "send_message", { room_id: id, client_id: `fill-${i}-${Date.now()}`, text: `filler ${i}` });
  }
  await api(bob.page.request, "send_message", { room_id: id, client_id: `rep-${Date.now()}`, text: "see above", reply_to: original.seq });
  await open(alice, id);
  // The original is older than the first page: not loaded yet.
  await expect(alice.page.locator(`.msg[data-seq="${original.seq}"]`)).toHaveCount(0);
  const quote = alice.page.locator(".msg", { hasText: "see above" }).locator(".quote");
  await expect(quote).toContainText("Bob");
  await expect(quote).toContainText("the original question");
  await quote.click();
  const target = alice.page.locator(`.msg[data-seq="${original.seq}"]`);
  await expect(target).toBeInViewport();
  await expect(target.locator(".bubble")).toHaveText("the original question");

  // Replying from the UI: the reply bar, then the quote in the new bubble.
  await target.getByRole("button", { name: "Reply" }).click();
  await expect(alice.page.getByTestId("reply-bar")).toContainText("the original question");
  await say(alice.page, "answering it");
  const mine = alice.page.locator(".msg.mine", { hasText: "answering it" });
  await expect(mine.locator(".quote")).toContainText("the original question");
  await expect(alice.page.getByTestId("reply-bar")).toHaveCount(0);
});

test("an @mention is picked from the member list and stored by id", async ({ browser }) => {
  test.setTimeout(60_000);
  const suffix = Date.now() % 100000;
  const alice = await person(browser, "alice", `Alice${suffix}`);
  const bob = await person(browser, "bob", `Bobby${suffix}`);
  const id = await room(alice, [bob]);
  await open(alice, id);
  await open(bob, 1);
  // Typing "@Bob" offers Bob; the arrow keys and Enter pick him.
  await input(alice.page).fill("hello @Bob");
  const picker = alice.page.getByRole("listbox");
  await expect(picker.getByRole("option", { name: bob.nick })).toBeVisible();
  await input(alice.page).press("ArrowDown");
  await input(alice.page).press("Enter");
  await expect(input(alice.page)).toHaveValue(`hello @${bob.nick} `);
  await expect(picker).toHaveCount(0);
  await input(alice.page).press("End");
  await input(alice.page).pressSequentially("tea?");
  await input(alice.page).press("Enter");
  await expect(alice.page.locator(".msg.mine .bubble", { hasText: "tea?" })).toBeVisible();
  // Bob's list marks the conversation until he reads it; the bubble is highlighted for him.
  const row = bob.page.locator(`.conversation[data-room-id="${id}"]`);
  await expect(row.locator(".conv-mention")).toHaveText("[Mentioned]");
  await row.click();
  await expect(bob.page.locator(".msg.mentions-me", { hasText: "tea?" })).toBeVisible();
  await expect(row.locator(".conv-mention")).toHaveCount(0);
  // Stored as Bob's id, not as text.
  const history = await api(bob.page.request, "history", { room_id: id, after: 0 });
  const sent = history.find((e: any) => e.body.text === `hello @${bob.nick} tea?`);
  expect(sent.body.mentions).toEqual([bob.id]);
});

test("the typing indicator shows in a private chat and goes away by itself", async ({ browser }) => {
  test.setTimeout(60_000);
  const alice = await person(browser, "alice", "Alice");
  const bob = await person(browser, "bob", "Bob", "zh-CN");
  const dm = await api(alice.page.request, "open_direct", { user_id: bob.id });
  await open(alice, dm.id);
  await open(bob, dm.id);
  // Bob sees Alice online and, once she types, "对方正在输入…".
  await expect(bob.page.locator(".chat-title .presence.online")).toBeVisible();
  await input(alice.page).pressSequentially("hel");
  await expect(bob.page.getByTestId("typing")).toHaveText("对方正在输入…");
  await expect(alice.page.getByTestId("typing")).toHaveText("");
  await expect(bob.page.getByTestId("typing")).toHaveText("", { timeout: 10_000 });
});

test("messages written offline wait in order, survive in storage and are delivered once when back online", async ({ browser }) => {
  test.setTimeout(90_000);
  const alice = await person(browser, "alice", "Alice");
  const bob = await person(browser, "bob", "Bob");
  const id = await room(alice, [bob]);
  await open(alice, id);
  await open(bob, id);
  const tag = Date.now();
  await alice.context.setOffline(true);
  for (const n of [1, 2, 3]) await say(alice.page, `offline ${n} ${tag}`);
  await expect(alice.page.locator(".msg.pending")).toHaveCount(3);
  const stored = await alice.page.evaluate(() => localStorage.getItem("teahouse.outbox.v1"));
  expect(JSON.parse(stored ?? "[]").map((s: any) => s.text)).toEqual([1, 2, 3].map((n) => `offline ${n} ${tag}`));
  await expect(bob.page.locator(".msg .bubble", { hasText: `${tag}` })).toHaveCount(0);

  await alice.context.setOffline(false);
  const bobSees = bob.page.locator(".msg .bubble", { hasText: `${tag}` });
  await expect(bobSees).toHaveCount(3, { timeout: 20_000 });
  expect(await bobSees.allTextContents()).toEqual([1, 2, 3].map((n) => `offline ${n} ${tag}`));
  await expect(alice.page.locator(".msg.pending")).toHaveCount(0);
  await expect(alice.page.locator(".msg.mine .bubble", { hasText: `${tag}` })).toHaveCount(3);
  expect(await alice.page.evaluate(() => localStorage.getItem("teahouse.outbox.v1"))).toBeNull();
  // Exactly once each on the server too.
  const history = await api(bob.page.request, "history", { room_id: id, after: 0 });
  const texts = history.map((e: any) => e.body.text).filter((t: string) => t && t.includes(`${tag}`));
  expect(texts).toEqual([1, 2, 3].map((n) => `offline ${n} ${tag}`));
});
