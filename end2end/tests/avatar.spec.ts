import { expect, Locator, test } from "@playwright/test";
import { hydrated, register, uniqueName } from "./helpers";
import { makePng } from "./media-helpers";

/** The avatar picture inside `avatar`, once it has loaded at `side` px. */
async function expectPicture(avatar: Locator, side: number) {
  const img = avatar.locator("img.avatar-img");
  await expect(img).toHaveAttribute("src", new RegExp(`^/avatar/[a-z2-7]{26}/${side}$`));
  await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBe(side);
  await expect(img).toBeVisible();
}

test("a new avatar shows at once on the other side's messages and member panel; removing it brings the initial back", async ({ browser }) => {
  const alice = await (await browser.newContext({ locale: "en-US" })).newPage();
  const aliceNick = "Alice";
  const aliceName = uniqueName("alice");
  await register(alice, aliceName, aliceNick);
  const bob = await (await browser.newContext({ locale: "zh-CN" })).newPage();
  await register(bob, uniqueName("bob"), "鲍勃");

  const hello = `avatar time ${Date.now()}`;
  await alice.locator(".conversation", { hasText: "Lobby" }).click();
  await alice.locator(".composer textarea").fill(hello);
  await alice.locator(".composer textarea").press("Enter");
  await bob.locator(".conversation", { hasText: "大厅" }).click();
  const bubble = bob.locator(".msg", { hasText: hello });
  await expect(bubble).toBeVisible();
  // The generated avatar: her initial, no picture.
  await expect(bubble.locator(".avatar")).toHaveText("A");
  await expect(bubble.locator(".avatar img")).toHaveCount(0);
  await bob.getByRole("button", { name: "群成员" }).click();
  const member = bob.locator(".member", { hasText: aliceNick });
  await expect(member.locator(".avatar img")).toHaveCount(0);

  // Alice picks a landscape photo in "Me".
  await alice.getByRole("button", { name: "Me", exact: true }).click();
  await alice.getByTestId("avatar-input").setInputFiles({ name: "me.png", mimeType: "image/png", buffer: makePng(300, 200) });
  await expectPicture(alice.getByTestId("me-avatar"), 256);
  await expectPicture(alice.locator(".sidebar-head"), 128);

  // Bob sees it live, without a reload: on her message and in the member panel.
  await expectPicture(bubble.locator(".avatar"), 128);
  const img = bubble.locator(".avatar img");
  await expect(img).toHaveAttribute("width", "36");
  await expect(img).toHaveAttribute("height", "36");
  const box = await img.boundingBox();
  expect([Math.round(box!.width), Math.round(box!.height)]).toEqual([36, 36]);
  await expectPicture(member, 128);

  // A file that is not a picture is refused with its message; the avatar stays.
  const before = await alice.getByTestId("me-avatar").locator("img").getAttribute("src");
  await alice.getByTestId("avatar-input").setInputFiles({
    name: "me.svg",
    mimeType: "image/svg+xml",
    buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>'),
  });
  const refusal = alice.locator(".me-avatar-actions .error-notice");
  await expect(refusal).toHaveAttribute("data-code", "media_type_unsupported");
  await expect(refusal).not.toBeEmpty();
  await expect(alice.getByTestId("me-avatar").locator("img")).toHaveAttribute("src", before!);

  const screens = process.env.SCREENS_DIR;
  if (screens) {
    await alice.setViewportSize({ width: 1280, height: 800 });
    await alice.screenshot({ path: `${screens}/avatar-me-desktop-en.png` });
    await bob.setViewportSize({ width: 1280, height: 800 });
    await bob.screenshot({ path: `${screens}/avatar-chat-desktop-zh.png` });
    await bob.setViewportSize({ width: 390, height: 844 });
    await bob.screenshot({ path: `${screens}/avatar-chat-phone-zh.png` });
    await bob.setViewportSize({ width: 1280, height: 800 });
  }

  // Her phone, signed in afresh: the avatar is in the page as served.
  const phone = await (await browser.newContext({ locale: "en-US", viewport: { width: 390, height: 844 }, hasTouch: true })).newPage();
  await phone.goto("/login");
  await hydrated(phone);
  await phone.locator("#username").fill(aliceName);
  await phone.locator("#password").fill("tea-leaves-42");
  await phone.locator("form.auth-form button[type=submit]").click();
  await expect(phone.getByTestId("me")).toHaveText(aliceNick);
  await phone.getByRole("button", { name: "Me", exact: true }).click();
  await expectPicture(phone.getByTestId("me-avatar"), 256);
  if (screens) await phone.screenshot({ path: `${screens}/avatar-me-phone-en.png` });

  // Removing it: the initial is back everywhere, live.
  await alice.getByRole("button", { name: "Remove avatar" }).click();
  await expect(alice.getByTestId("me-avatar").locator("img")).toHaveCount(0);
  await expect(bubble.locator(".avatar img")).toHaveCount(0);
  await expect(bubble.locator(".avatar")).toHaveText("A");
  await expect(member.locator(".avatar img")).toHaveCount(0);
  // Her other device too.
  await expect(phone.getByTestId("me-avatar").locator("img")).toHaveCount(0);
});
