import AxeBuilder from "@axe-core/playwright";
import { expect, Page, test } from "@playwright/test";
import { hydrated, register, uniqueName } from "./helpers";

// Accessibility: no serious or critical WCAG 2 A/AA violation (axe-core) on any page, at the
// desktop size and on a phone.
const sizes = [
  { name: "desktop", viewport: { width: 1280, height: 800 } },
  { name: "phone", viewport: { width: 390, height: 844 } },
];

async function expectAccessible(page: Page, what: string) {
  const { violations } = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  const bad = violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => n.target.join(" ")).slice(0, 5).join("\n    ")}`);
  expect(bad, `${what}:\n${bad.join("\n")}`).toEqual([]);
}

for (const { name, viewport } of sizes) {
  for (const locale of ["zh-CN", "en-US"]) {
    test(`every page passes axe-core at ${name} size (${locale})`, async ({ browser }) => {
      // Five pages, two of them analysed twice; the suite's first test also
      // meets a cold server.
      test.setTimeout(60_000);
      const context = await browser.newContext({ viewport, locale, hasTouch: name === "phone" });
      const page = await context.newPage();

      await page.goto("/login");
      await hydrated(page);
      await expectAccessible(page, "login page");
      await page.goto("/register");
      await hydrated(page);
      await expectAccessible(page, "sign-up page");

      await register(page, uniqueName("axe"), "Axe 检查");
      await expectAccessible(page, "chat page, conversation list");
      await page.getByRole("button", { name: /^(我|Me)$/ }).click();
      await expect(page.locator(".me-panel")).toBeVisible();
      await expectAccessible(page, "profile panel");
      await page.getByRole("button", { name: /^(聊天|Chats)$/ }).click();

      // The lobby with a message in it, and its member panel.
      await page.locator(".conversation").first().click();
      await page.locator(".composer textarea").fill("你好 hello");
      await page.locator(".composer textarea").press("Enter");
      await expect(page.locator(".msg.mine .bubble", { hasText: "你好 hello" })).toBeVisible();
      await expectAccessible(page, "conversation pane");

      await page.goto("/");
      await hydrated(page);
      await page.getByRole("button", { name: /发现群聊|Discover rooms/ }).click();
      await expect(page.locator(".directory-row").first()).toBeVisible();
      await expectAccessible(page, "room directory");
      await context.close();
    });
  }
}
