import { expect, Page, test } from "@playwright/test";
import { hydrated, register, uniqueName } from "./helpers";

test.use({ locale: "en-US" });

/** Collects CSP violations seen by the page: its `securitypolicyviolation`
 * events (recorded by a script Playwright injects, which the CSP does not
 * govern) and console messages that report a refusal. */
function watchViolations(page: Page): () => Promise<string[]> {
  const consoleMessages: string[] = [];
  page.on("console", (msg) => {
    const text = msg.text();
    if (/Content Security Policy|Refused to|Permissions-Policy|Permissions policy/i.test(text)) {
      consoleMessages.push(`${msg.type()}: ${text}`);
    }
  });
  page.on("pageerror", (err) => consoleMessages.push(`pageerror: ${err.message}`));
  void page.addInitScript(() => {
    const w = window as unknown as { cspViolations: string[] };
    w.cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  return async () => {
    const events = await page.evaluate(() => (window as unknown as { cspViolations?: string[] }).cspViolations ?? []);
    return [...consoleMessages, ...events];
  };
}

function expectSecurityHeaders(headers: Record<string, string>, path: string) {
  const csp = headers["content-security-policy"] ?? "";
  for (const part of [
    "script-src 'self' 'wasm-unsafe-eval' 'nonce-",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
  ]) {
    expect(csp, `${path}: ${part}`).toContain(part);
  }
  expect(csp, `${path}: no unsafe-inline scripts`).not.toContain("unsafe-inline");
  expect(headers["x-content-type-options"], path).toBe("nosniff");
  expect(headers["referrer-policy"], path).toBe("same-origin");
  expect(headers["permissions-policy"], path).toContain("microphone=(self)");
  expect(headers["permissions-policy"], path).toContain("camera=(self)");
  expect(headers["permissions-policy"], path).toContain("geolocation=()");
}

test("pages carry the security headers, and the chat hydrates and sends under them without a CSP violation", async ({ page }) => {
  const violations = watchViolations(page);

  const login = await page.goto("/login");
  expectSecurityHeaders(login!.headers(), "/login");
  await hydrated(page);

  await register(page, uniqueName("csp"), "Csp");
  const chat = await page.goto("/");
  expect(new URL(chat!.url()).pathname).toBe("/");
  expectSecurityHeaders(chat!.headers(), "/");
  // A fresh nonce per response: the one in the header differs between loads.
  const nonceOf = (h: Record<string, string>) => /'nonce-([^']+)'/.exec(h["content-security-policy"] ?? "")?.[1];
  expect(nonceOf(chat!.headers())).toBeTruthy();
  expect(nonceOf(chat!.headers())).not.toBe(nonceOf(login!.headers()));
  await hydrated(page);

  // The live socket connects and a message goes out and comes back.
  await page.locator(".conversation", { hasText: "Lobby" }).click();
  const text = `under the CSP ${Date.now()}`;
  const input = page.getByRole("textbox", { name: /Type a message/ });
  await input.fill(text);
  await input.press("Enter");
  await expect(page.locator(".msg.mine .bubble", { hasText: text })).toBeVisible();
  // Avatars keep their colour (a class: no inline styles are allowed).
  const bg = await page.locator(".msg.mine .avatar, .avatar").first().evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(bg).not.toBe("rgba(0, 0, 0, 0)");

  // Static files say nosniff too.
  const css = await page.request.get("/pkg/teahouse.css");
  expect(css.headers()["x-content-type-options"]).toBe("nosniff");

  expect(await violations()).toEqual([]);
});
