// Screenshots of a conversation with photo, voice and video messages, at
// 1280×800 and 390×844 (scripts/media-screens.sh runs this in two steps
// around seeding the messages into the database).
//
//   node media-screens.mjs setup URL STATE.json   signs up two people, makes a room
//   node media-screens.mjs shoot URL STATE.json OUT_DIR
//
// `shoot` serves /media/* from files made here when the server has no
// media routes (a build of the UI half alone); with them it changes
// nothing but the pictures' content.
import { chromium } from "@playwright/test";
import { deflateSync } from "zlib";
import { readFileSync, writeFileSync, mkdirSync } from "fs";

const [, , step, base, statePath, outDir] = process.argv;
const launch = () =>
  chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-sync",
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
    ],
  });

async function signUp(page, username, nickname) {
  await page.goto(`${base}/register`);
  await page.locator("body[data-hydrated=true]").waitFor();
  await page.locator("#username").fill(username);
  await page.locator("#nickname").fill(nickname);
  await page.locator("#password").fill("tea-leaves-42");
  await page.locator("form.auth-form button[type=submit]").click();
  await page.getByTestId("me").waitFor();
  await page.locator("body[data-hydrated=true]").waitFor();
}

if (step === "setup") {
  const browser = await launch();
  const stamp = Date.now().toString(36);
  const alice = await (await browser.newContext({ locale: "zh-CN" })).newPage();
  const bob = await (await browser.newContext({ locale: "en-US" })).newPage();
  await signUp(alice, `alice_${stamp}`, "爱丽丝");
  await signUp(bob, `bob_${stamp}`, "Bob");
  const room = "周末爬山 · Hiking";
  await alice.getByRole("button", { name: /新建群聊/ }).click();
  await alice.locator("#room-name").fill(room);
  await alice.getByRole("button", { name: "创建" }).click();
  await alice.waitForURL(/\?room=\d+/);
  await bob.getByRole("button", { name: /Discover rooms/ }).click();
  await bob.locator(".directory-row", { hasText: room }).getByRole("button", { name: /^Join/ }).click();
  await bob.waitForURL(/\?room=\d+/);
  const input = alice.getByRole("textbox", { name: /输入消息/ });
  await input.fill("昨天山顶的照片，还有一段视频 🏔️");
  await input.press("Enter");
  await bob.locator(".msg:not(.mine)").first().waitFor();
  writeFileSync(
    statePath,
    JSON.stringify({
      room,
      path: new URL(alice.url()).search,
      alice: { username: `alice_${stamp}`, cookies: await alice.context().cookies() },
      bob: { username: `bob_${stamp}`, cookies: await bob.context().cookies() },
    }),
  );
  await browser.close();
} else if (step === "shoot") {
  const state = JSON.parse(readFileSync(statePath, "utf8"));
  mkdirSync(outDir, { recursive: true });
  const browser = await launch();
  const photo = png(1280, 960);
  const tone = wav(3);
  const serveMedia = async (context) => {
    await context.route("**/media/**", async (route) => {
      const probe = await route.fetch().catch(() => null);
      if (probe && probe.ok()) return route.fulfill({ response: probe });
      const url = route.request().url();
      if (url.endsWith("/thumb") || url.includes("/media/a")) return route.fulfill({ body: photo, contentType: "image/png" });
      if (url.includes("/media/b")) return route.fulfill({ body: tone, contentType: "audio/wav" });
      return route.fulfill({ status: 404, body: "" });
    });
  };
  const shots = [
    { who: "alice", locale: "zh-CN", name: "media-desktop-zh.png", options: { viewport: { width: 1280, height: 800 } } },
    { who: "bob", locale: "en-US", name: "media-desktop-en.png", options: { viewport: { width: 1280, height: 800 } } },
    {
      who: "bob",
      locale: "en-US",
      name: "media-phone-en.png",
      options: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
    },
    {
      who: "alice",
      locale: "zh-CN",
      name: "media-phone-zh.png",
      options: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
    },
  ];
  for (const shot of shots) {
    const context = await browser.newContext({ locale: shot.locale, ...shot.options });
    await context.addCookies(state[shot.who].cookies);
    await serveMedia(context);
    const page = await context.newPage();
    await page.goto(`${base}/${state.path}`);
    await page.locator("body[data-hydrated=true]").waitFor();
    await page.locator(".msg[data-msgtype=video]").last().waitFor();
    // Pictures loaded, then a still page.
    await page.waitForFunction(() => [...document.images].every((i) => i.complete));
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${outDir}/${shot.name}` });
    if (shot.name === "media-phone-en.png") {
      // Holding the talk button.
      await page.getByRole("button", { name: "Voice input" }).first().tap();
      const talk = page.getByRole("button", { name: "Hold to talk" });
      const box = await talk.boundingBox();
      const cdp = await context.newCDPSession(page);
      const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
      await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [at] });
      await page.locator(".voice-overlay", { hasText: "0:01" }).waitFor();
      await page.screenshot({ path: `${outDir}/media-phone-hold-en.png` });
      await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [{ x: at.x, y: at.y - 120 }] });
      await page.locator(".voice-overlay.cancel").waitFor();
      await page.screenshot({ path: `${outDir}/media-phone-cancel-en.png` });
      await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
    }
    if (shot.name === "media-desktop-en.png") {
      await page.locator(".msg:not(.mine)[data-msgtype=image] img").first().click();
      await page.getByRole("dialog").locator("img").waitFor();
      await page.waitForTimeout(200);
      await page.screenshot({ path: `${outDir}/media-lightbox-en.png` });
      await page.keyboard.press("Escape");
      await page.getByRole("button", { name: "Voice input" }).click();
      await page.locator(".recording-strip", { hasText: "0:01" }).waitFor();
      await page.screenshot({ path: `${outDir}/media-desktop-recording-en.png` });
    }
    await context.close();
  }
  await browser.close();
} else {
  console.error("usage: media-screens.mjs setup|shoot URL STATE.json [OUT_DIR]");
  process.exit(2);
}

/** A `w`×`h` PNG: a sky-to-hills picture. */
function png(w, h) {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    const row = y * (w * 3 + 1);
    const ridge = h * (0.55 + 0.12 * Math.sin((y * 0 + 1) * 0.01));
    for (let x = 0; x < w; x++) {
      const hill = h * (0.6 + 0.1 * Math.sin(x / 90) + 0.05 * Math.sin(x / 23));
      let [r, g, b] = y < hill ? [120 + (y / h) * 100, 170 + (y / h) * 60, 235] : [60, 120 - ((y - hill) / h) * 60, 70];
      if (y < ridge && Math.hypot(x - w * 0.75, y - h * 0.2) < h * 0.07) [r, g, b] = [255, 236, 170];
      raw[row + 1 + x * 3] = r;
      raw[row + 2 + x * 3] = g;
      raw[row + 3 + x * 3] = b;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", deflateSync(raw)),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

function pngChunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type), data]);
  let c = 0xffffffff;
  for (const byte of body) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** `secs` of a 440 Hz tone as 8 kHz mono WAV. */
function wav(secs) {
  const rate = 8000;
  const n = rate * secs;
  const buf = Buffer.alloc(44 + n * 2);
  buf.write("RIFF", 0);
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write("WAVEfmt ", 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write("data", 36);
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  return buf;
}
