import { expect, test } from "@playwright/test";
import { register, uniqueName } from "./helpers";

test("a new nickname shows at once on the other side; a new password signs out my other device", async ({ browser }) => {
  const aliceName = uniqueName("alice");
  const alice = await (await browser.newContext({ locale: "en-US" })).newPage();
  await register(alice, aliceName, "Alice");
  const bob = await (await browser.newContext({ locale: "zh-CN" })).newPage();
  await register(bob, uniqueName("bob"), "鲍勃");

  await alice.locator(".conversation", { hasText: "Lobby" }).click();
  await alice.locator(".composer textarea").fill("hello from alice");
  await alice.locator(".composer textarea").press("Enter");
  await bob.locator(".conversation", { hasText: "大厅" }).click();
  const bubble = bob.locator(".msg", { hasText: "hello from alice" });
  await expect(bubble.locator(".msg-name")).toHaveText("Alice");

  // Alice renames herself in "Me"; Bob's open pane redraws her message live.
  await alice.getByRole("button", { name: "Me", exact: true }).click();
  await alice.getByLabel("Nickname").fill("爱丽丝 Alice");
  await alice.getByRole("button", { name: "Save" }).click();
  await expect(alice.getByRole("status")).toHaveText("Saved");
  await expect(alice.getByTestId("me")).toHaveText("爱丽丝 Alice");
  await expect(bubble.locator(".msg-name")).toHaveText("爱丽丝 Alice");

  // Her second device is signed out by a password change made on the first.
  const phone = await (await browser.newContext({ locale: "en-US", viewport: { width: 390, height: 844 }, hasTouch: true })).newPage();
  await phone.goto("/login");
  await phone.locator("#username").fill(aliceName);
  await phone.locator("#password").fill("tea-leaves-42");
  await phone.locator("form.auth-form button[type=submit]").click();
  await expect(phone.getByTestId("me")).toHaveText("爱丽丝 Alice");
  // On a phone the panels are WeChat's bottom tab bar.
  const tabs = phone.locator(".sidebar .tabs");
  const box = await tabs.boundingBox();
  expect(box!.y + box!.height).toBeGreaterThan(800);

  await alice.getByLabel("Current password").fill("wrong-password-1");
  await alice.getByLabel("New password").fill("oolong-and-pu-erh");
  await alice.getByRole("button", { name: "Change password" }).click();
  await expect(alice.locator(".me-form .error-notice, .me-form .field-error").filter({ hasText: "The current password is wrong" })).toBeVisible();
  await alice.getByLabel("Current password").fill("tea-leaves-42");
  await alice.getByRole("button", { name: "Change password" }).click();
  await expect(alice.getByRole("status").filter({ hasText: "Password changed" })).toBeVisible();

  await phone.reload();
  await expect(phone).toHaveURL(/\/login$/);
  // The device that changed it stays signed in.
  await alice.reload();
  await expect(alice.getByTestId("me")).toHaveText("爱丽丝 Alice");
});
