import { expect, test } from "@playwright/test";
import { hydrated, register, uniqueName } from "./helpers";

test("a private chat started from the member list delivers messages live both ways", async ({ browser }) => {
  // Two browsers, two sign-ups and a few live round trips (like chat.spec.ts).
  test.setTimeout(60_000);
  const suffix = Date.now() % 100000;
  const aliceNick = `爱丽丝${suffix}`;
  const bobNick = `Bob${suffix}`;
  const alice = await (await browser.newContext({ locale: "zh-CN" })).newPage();
  const bob = await (await browser.newContext({ locale: "en-US" })).newPage();
  await register(alice, uniqueName("alice"), aliceNick);
  await register(bob, uniqueName("bob"), bobNick);

  // Alice opens the lobby's member panel and messages Bob from there.
  await alice.locator(".conversation", { hasText: "Lobby" }).click();
  await alice.getByRole("button", { name: "群成员" }).click();
  // The system account that owns the lobby is nobody to message.
  await expect(alice.locator(".member", { hasText: "茶馆" }).getByRole("button")).toHaveCount(0);
  await alice.getByRole("button", { name: `发消息 ${bobNick}` }).click();
  await expect(alice).toHaveURL(/\?room=\d+/);
  await expect(alice.locator(".chat-title")).toHaveText(bobNick);
  // A private chat: no member count, no member panel, no "created the room".
  await expect(alice.getByRole("button", { name: "群成员" })).toHaveCount(0);
  await expect(alice.locator(".sys-line")).toHaveText(`${aliceNick} 发起了私聊`);
  const dmRow = alice.locator(".conversation.selected");
  await expect(dmRow.locator(".conv-name")).toHaveText(bobNick);

  // Bob's list gets the chat live, named after Alice.
  const bobRow = bob.locator(".conversation").filter({ has: bob.locator(".conv-name", { hasText: aliceNick }) });
  await expect(bobRow.locator(".conv-preview")).toHaveText(`${aliceNick} started this chat`);

  // Alice writes; Bob sees the preview and the unread badge live, opens it.
  const hello = `你好 ${bobNick}`;
  const aliceInput = alice.getByRole("textbox", { name: /输入消息/ });
  await aliceInput.fill(hello);
  await aliceInput.press("Enter");
  await expect(bobRow.locator(".conv-preview")).toHaveText(`${aliceNick}: ${hello}`);
  await expect(bobRow.locator(".conv-badge")).toHaveText("1");
  await bobRow.click();
  await expect(bob.locator(".chat-title")).toHaveText(aliceNick);
  await expect(bob.locator(".msg:not(.mine) .bubble", { hasText: hello })).toBeVisible();
  // Not "owner": the opener of a private chat owns nothing.
  await expect(bob.locator(".owner-mark")).toHaveCount(0);

  // Bob answers; Alice sees it live.
  const reply = `Hi ${aliceNick}`;
  await bob.getByRole("textbox", { name: /Type a message/ }).fill(reply);
  await bob.getByRole("button", { name: "Send" }).click();
  await expect(alice.locator(".msg:not(.mine) .bubble", { hasText: reply })).toBeVisible();

  // Opening it again (here from Bob's avatar in the chat) finds the same chat.
  const dmUrl = alice.url();
  await alice.getByRole("button", { name: `发消息 ${bobNick}` }).click();
  await expect(alice).toHaveURL(dmUrl);
  await expect(alice.locator(".conversation .conv-name", { hasText: bobNick })).toHaveCount(1);

  const screens = process.env.SCREENS_DIR;
  if (screens) {
    await alice.setViewportSize({ width: 1280, height: 800 });
    await alice.screenshot({ path: `${screens}/dm-desktop-zh.png` });
    await bob.setViewportSize({ width: 1280, height: 800 });
    await bob.screenshot({ path: `${screens}/dm-desktop-en.png` });
    await bob.setViewportSize({ width: 390, height: 844 });
    await bob.screenshot({ path: `${screens}/dm-phone-pane.png` });
    await bob.goto("/");
    await hydrated(bob);
    await expect(bobRow).toBeVisible();
    await bob.screenshot({ path: `${screens}/dm-phone-list.png` });
    await bob.getByRole("button", { name: "Contacts" }).click();
    await expect(bob.locator(".contacts .directory-row").first()).toBeVisible();
    await bob.screenshot({ path: `${screens}/dm-phone-contacts.png` });
    await alice.locator(".conversation", { hasText: "Lobby" }).click();
    await alice.getByRole("button", { name: "群成员" }).click();
    await expect(alice.getByRole("button", { name: `发消息 ${bobNick}` })).toBeVisible();
    await alice.screenshot({ path: `${screens}/dm-desktop-member-panel.png` });
  }
});
