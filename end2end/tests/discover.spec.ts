import { expect, Page, test } from "@playwright/test";
import { register, uniqueName } from "./helpers";

async function createRoom(page: Page, name: string) {
  await page.getByRole("button", { name: /新建群聊|New room/ }).click();
  await page.locator("#room-name").fill(name);
  await page.getByRole("button", { name: /^(创建|Create)$/ }).click();
  await expect(page.locator(".chat-title")).toContainText(name);
}

test("searching the room directory in Chinese and English finds a room to join", async ({ browser }) => {
  const stamp = `${Date.now() % 1000000}`;
  const oolong = `乌龙茶馆 Oolong ${stamp}`;
  const green = `绿茶 Green ${stamp}`;
  const alice = await (await browser.newContext({ locale: "zh-CN" })).newPage();
  await register(alice, uniqueName("alice"), "爱丽丝");
  await createRoom(alice, oolong);
  await createRoom(alice, green);

  const bob = await (await browser.newContext({ locale: "en-US" })).newPage();
  await register(bob, uniqueName("bob"), "Bob");
  await bob.getByRole("button", { name: /Discover rooms/ }).click();
  const search = bob.getByRole("searchbox", { name: "Search rooms by name" });
  const rows = bob.locator(".directory-row");

  // English, in another case: only the matching room is listed, and the list says it is complete.
  await search.fill(`OOLONG ${stamp}`);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(oolong);
  await expect(bob.locator(".directory-end")).toHaveText("That is every room");

  // A Chinese fragment finds the other one.
  await search.fill(`绿茶 green ${stamp}`);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(green);

  // `%` is a plain character, not a wildcard: nothing is named like that.
  await search.fill(`%${stamp}`);
  await expect(bob.locator(".directory-end")).toHaveText("No rooms found");
  await expect(rows).toHaveCount(0);

  // Back to the first search; join the room found and land in it.
  await search.fill(`oolong ${stamp}`);
  await expect(rows).toHaveCount(1);
  await rows.first().getByRole("button", { name: new RegExp(`^Join ${oolong}`) }).click();
  await expect(bob).toHaveURL(/\?room=\d+/);
  await expect(bob.locator(".chat-title")).toContainText(oolong);
  await alice.locator(".conversation", { hasText: oolong }).click();
  await expect(alice.locator(".sys-line", { hasText: "Bob" })).toBeVisible();
});

test("the directory is not searched in the middle of an IME composition", async ({ browser }) => {
  const stamp = `${Date.now() % 1000000}`;
  const name = `乌龙${stamp}`;
  const alice = await (await browser.newContext({ locale: "zh-CN" })).newPage();
  await register(alice, uniqueName("alice"), "爱丽丝");
  await createRoom(alice, name);
  await alice.getByRole("button", { name: /发现群聊/ }).click();
  const queries: string[] = [];
  alice.on("request", (r) => {
    if (r.url().endsWith("/api/public_rooms")) queries.push(new URLSearchParams(r.postData() ?? "").get("query") ?? "");
  });
  // The page's timers are ours to run: the debounce fires only when we say so.
  await alice.clock.install();
  const search = alice.getByRole("searchbox", { name: "搜索群聊名称" });
  await search.dispatchEvent("compositionstart");
  await search.fill("wulong"); // the pinyin being composed
  await alice.clock.runFor(2000); // long past the debounce
  await search.evaluate((el: HTMLInputElement, text) => {
    el.value = text;
    el.dispatchEvent(new CompositionEvent("compositionend", { data: text, bubbles: true }));
  }, name);
  await alice.clock.runFor(2000);
  const rows = alice.locator(".directory-row");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(name);
  expect(queries).not.toContain("wulong");
  expect(queries).toContain(name);
});
