import { expect, Page } from "@playwright/test";

/** A username unique to this run (the server's data dir may be reused locally). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

/** Waits until the wasm app has hydrated and handlers are live. */
export async function hydrated(page: Page) {
  await page.locator("body[data-hydrated=true]").waitFor();
}

export async function register(page: Page, username: string, nickname: string, password = "tea-leaves-42") {
  await page.goto("/register");
  await hydrated(page);
  await page.locator("#username").fill(username);
  await page.locator("#nickname").fill(nickname);
  await page.locator("#password").fill(password);
  await page.locator("form.auth-form button[type=submit]").click();
  // Signing up loads the chat page afresh: wait for it to come alive too.
  await expect(page.getByTestId("me")).toHaveText(nickname);
  await hydrated(page);
}
