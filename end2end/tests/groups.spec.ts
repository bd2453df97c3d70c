import { expect, test } from "@playwright/test";
import { register, uniqueName } from "./helpers";

test("a private group is created by picking people; members see it and its announcement live", async ({ browser }) => {
  test.setTimeout(90_000);
  const suffix = Date.now() % 100000;
  const aliceNick = `爱丽丝${suffix}`;
  const bobNick = `Bob${suffix}`;
  const carolNick = `Carol${suffix}`;
  const alice = await (await browser.newContext({ locale: "zh-CN" })).newPage();
  const bob = await (await browser.newContext({ locale: "en-US" })).newPage();
  const carol = await (await browser.newContext({ locale: "en-US" })).newPage();
  await register(alice, uniqueName("alice"), aliceNick);
  await register(bob, uniqueName("bob"), bobNick);
  await register(carol, uniqueName("carol"), carolNick);

  // Alice picks Bob (people she shares the lobby with), not Carol.
  await alice.getByRole("button", { name: /发起群聊/ }).click();
  const form = alice.getByTestId("new-group");
  const groupName = `周末爬山 ${suffix}`;
  await form.locator("input[name=group-name]").fill(groupName);
  await form.getByRole("searchbox").fill(bobNick);
  await form.getByRole("checkbox", { name: bobNick }).check();
  await form.getByRole("button", { name: /创建群聊/ }).click();
  await expect(alice).toHaveURL(/\?room=\d+/);
  await expect(alice.locator(".chat-title")).toContainText(groupName);
  await expect(alice.locator(".sys-line", { hasText: `邀请 ${bobNick} 加入了群聊` })).toBeVisible();

  // Bob's list gets it live; Carol's does not.
  const bobRow = bob.locator(".conversation").filter({ has: bob.locator(".conv-name", { hasText: groupName }) });
  await expect(bobRow).toBeVisible();
  await bobRow.click();
  await expect(bob.locator(".sys-line", { hasText: `created the group` })).toBeVisible();

  // The owner posts an announcement: it shows at the top, for Bob too.
  await alice.getByRole("button", { name: "群设置" }).click();
  const settings = alice.getByTestId("group-settings");
  await settings.locator("textarea").fill("周六早上八点集合");
  await settings.getByRole("button", { name: "发布" }).click();
  await expect(alice.getByTestId("announcement")).toContainText("周六早上八点集合");
  await expect(bob.getByTestId("announcement")).toContainText("周六早上八点集合");
  await expect(bob.locator(".sys-line", { hasText: "posted an announcement" })).toBeVisible();

  // Messages flow inside the group.
  const hello = `大家好 ${suffix}`;
  const input = alice.getByRole("textbox", { name: /输入消息/ });
  await input.fill(hello);
  await input.press("Enter");
  await expect(bob.locator(".msg:not(.mine) .bubble", { hasText: hello })).toBeVisible();
  await expect(carol.locator(".conversation .conv-name", { hasText: groupName })).toHaveCount(0);

  // The owner removes Bob's message (the recall of a room's owner): it
  // reads the same way on both sides, live, and its text is gone.
  const oops = `说错了 ${suffix}`;
  const bobInput = bob.getByRole("textbox", { name: /Type a message/ });
  await bobInput.fill(oops);
  await bobInput.press("Enter");
  const aliceSees = alice.locator(".msg:not(.mine)", { hasText: oops });
  await expect(aliceSees).toBeVisible();
  await aliceSees.getByRole("button", { name: "撤回" }).click();
  await expect(alice.locator(".msg .bubble", { hasText: oops })).toHaveCount(0);
  await expect(bob.locator(".msg .bubble", { hasText: oops })).toHaveCount(0);
  await expect(bob.locator(".sys-line", { hasText: `${bobNick} had a message removed by the owner` })).toBeVisible();
  await expect(alice.locator(".sys-line", { hasText: `${bobNick} 的一条消息已被群主撤回` })).toBeVisible();

  const screens = process.env.SCREENS_DIR;
  if (screens) {
    await alice.setViewportSize({ width: 1280, height: 800 });
    await alice.screenshot({ path: `${screens}/group-desktop.png` });
    await alice.setViewportSize({ width: 390, height: 844 });
    await alice.screenshot({ path: `${screens}/group-phone.png` });
  }
});
