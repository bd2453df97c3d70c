import { execFileSync } from "node:child_process";
import { expect, test } from "@playwright/test";
import { hydrated, register, uniqueName } from "./helpers";

/** `teahouse grant-role`, the operator's way to make the first admin. */
function grantRole(username: string, role: string) {
  const bin = process.env.TEAHOUSE_BIN;
  const data = process.env.TEAHOUSE_DATA_DIR;
  if (!bin || !data) throw new Error("run through scripts/e2e.sh (TEAHOUSE_BIN, TEAHOUSE_DATA_DIR)");
  execFileSync(bin, ["grant-role", "--data-dir", data, "--role", role, username]);
}

test("an admin registers a webhook on the admin page, sees its secret once, and disables it", async ({ browser }) => {
  const admin = await (await browser.newContext({ locale: "en-US" })).newPage();
  const name = uniqueName("hookboss");
  await register(admin, name, `Hook boss ${Date.now() % 100000}`);
  grantRole(name, "admin");
  await admin.goto("/admin");
  await hydrated(admin);
  const section = admin.getByTestId("admin-webhooks");
  await expect(section.getByRole("heading", { name: "Webhooks" })).toBeVisible();

  // A bad URL is refused with its code, and nothing is listed.
  const url = section.getByLabel("Endpoint URL (http:// or https://)");
  await url.fill("ftp://bot.example.com/");
  await section.getByRole("button", { name: "Add webhook" }).click();
  await expect(section.locator(".error-notice[data-code=webhook_url_invalid]")).toBeVisible();

  const endpoint = `https://bot.example.com/hook/${name}`;
  await url.fill(endpoint);
  await section.getByRole("checkbox", { name: "member.joined" }).check();
  await section.getByRole("button", { name: "Add webhook" }).click();
  await expect(section.getByTestId("webhook-secret")).toContainText(/whsec_[0-9a-f]{64}/);
  const row = section.getByTestId("webhooks").locator("tr", { hasText: endpoint });
  await expect(row).toContainText("message.stored, member.joined");
  await expect(row.locator(".role")).toHaveText("Enabled");

  await row.getByRole("button", { name: "Disable" }).click();
  await expect(row.locator(".role")).toHaveText("Disabled");
  await row.getByRole("button", { name: "Recent deliveries" }).click();
  await expect(section.getByText("No deliveries yet")).toBeVisible();

  // The secret was shown once: not after a reload.
  await admin.reload();
  await hydrated(admin);
  const again = admin.getByTestId("admin-webhooks").getByTestId("webhooks").locator("tr", { hasText: endpoint });
  await expect(again.locator(".role")).toHaveText("Disabled");
  await expect(admin.getByTestId("webhook-secret")).toHaveCount(0);
});
