// Screenshots of a conversation with photo, voice and video messages, at
// 1280×800 and 390×844 (scripts/media-screens.sh runs the two steps).
//
//   node media-screens.mjs setup URL STATE.json   two people, a room, and
//       real media sent through the UI: a photo picked in the file input,
//       voice clips recorded from Chromium's fake microphone, a video the
//       browser records from a canvas, all uploaded and stored by the server
//   node media-screens.mjs shoot URL STATE.json OUT_DIR
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
  await input.fill("昨天山顶的照片，还有一段视频");
  await input.press("Enter");
  await bob.locator(".msg:not(.mine)").first().waitFor();
  // A photo (4:3), picked in the attach input as the file picker would.
  await alice.getByTestId("attach-input").setInputFiles({ name: "hills.png", mimeType: "image/png", buffer: png(1280, 960) });
  await bob.locator(".msg:not(.mine)[data-msgtype=image] img").waitFor();
  // Two voice clips from Bob, of different lengths (click to start, click to send).
  for (const secs of ["0:02", "0:05"]) {
    await bob.getByRole("button", { name: "Voice input" }).click();
    await bob.locator(".recording-strip", { hasText: secs }).waitFor();
    await bob.getByRole("button", { name: /Stop and send/ }).click();
    await bob.locator(".recording-strip").waitFor({ state: "detached" });
  }
  await alice.locator(".msg:not(.mine)[data-msgtype=voice]").nth(1).waitFor();
  await bob.locator(".msg.mine").last().waitFor();
  const bobInput = bob.getByRole("textbox", { name: /Type a message/ });
  await bobInput.fill("Great view! Two voice notes above.");
  await bobInput.press("Enter");
  // A video Alice's browser records from a canvas (a real WebM).
  await alice.evaluate(async (ms) => {
    const canvas = document.createElement("canvas");
    canvas.width = 640;
    canvas.height = 360;
    const ctx = canvas.getContext("2d");
    const rec = new MediaRecorder(canvas.captureStream(25), { mimeType: "video/webm" });
    const chunks = [];
    rec.ondataavailable = (e) => chunks.push(e.data);
    const stopped = new Promise((r) => (rec.onstop = r));
    rec.start(100);
    const t0 = performance.now();
    await new Promise((done) => {
      const draw = () => {
        const t = performance.now() - t0;
        const sky = ctx.createLinearGradient(0, 0, 0, 360);
        sky.addColorStop(0, `hsl(${200 + (t / 40) % 20} 70% 60%)`);
        sky.addColorStop(1, "hsl(120 35% 40%)");
        ctx.fillStyle = sky;
        ctx.fillRect(0, 0, 640, 360);
        ctx.fillStyle = "#ffeaa0";
        ctx.beginPath();
        ctx.arc(120 + t / 10, 90, 36, 0, 2 * Math.PI);
        ctx.fill();
        if (t < ms) setTimeout(draw, 40);
        else done();
      };
      draw();
    });
    rec.stop();
    await stopped;
    const input = document.querySelector("[data-testid=attach-input]");
    const dt = new DataTransfer();
    dt.items.add(new File(chunks, "summit.webm", { type: "video/webm" }));
    input.files = dt.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }, 3000);
  await bob.locator(".msg:not(.mine)[data-msgtype=video]").waitFor();
  await alice.locator(".msg.pending").waitFor({ state: "detached" });
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
