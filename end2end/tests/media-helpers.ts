// Helpers for the media message tests: real files made by the test (a PNG
// encoded here, a WebM recorded by the browser itself from a canvas), a
// room two people are in, and press-and-hold on a touch screen.
import { Browser, BrowserContextOptions, expect, Locator, Page } from "@playwright/test";
import { deflateSync } from "zlib";
import { register, uniqueName } from "./helpers";

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A real `width`×`height` RGB PNG (a colour gradient). */
export function makePng(width: number, height: number): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      raw[row + 1 + x * 3] = Math.round((x / width) * 255);
      raw[row + 2 + x * 3] = Math.round((y / height) * 255);
      raw[row + 3 + x * 3] = 160;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

/** Picks a file in the composer's attach input, as the file picker would. */
export async function attach(page: Page, name: string, mimeType: string, buffer: Buffer) {
  await page.getByTestId("attach-input").setInputFiles({ name, mimeType, buffer });
}

/**
 * Records `ms` of a changing canvas with the browser's own MediaRecorder
 * (a real WebM video) and picks it in the attach input.
 */
export async function attachRecordedVideo(page: Page, ms: number) {
  await page.evaluate(async (ms) => {
    const canvas = document.createElement("canvas");
    canvas.width = 320;
    canvas.height = 240;
    const ctx = canvas.getContext("2d")!;
    const rec = new MediaRecorder(canvas.captureStream(25), { mimeType: "video/webm" });
    const chunks: Blob[] = [];
    rec.ondataavailable = (e) => chunks.push(e.data);
    const stopped = new Promise((r) => (rec.onstop = r));
    rec.start(100);
    const t0 = performance.now();
    await new Promise<void>((done) => {
      const draw = () => {
        const t = performance.now() - t0;
        ctx.fillStyle = `hsl(${(t / 4) % 360} 60% 50%)`;
        ctx.fillRect(0, 0, 320, 240);
        if (t < ms) setTimeout(draw, 40);
        else done();
      };
      draw();
    });
    rec.stop();
    await stopped;
    const input = document.querySelector("[data-testid=attach-input]") as HTMLInputElement;
    const dt = new DataTransfer();
    dt.items.add(new File(chunks, "clip.webm", { type: "video/webm" }));
    input.files = dt.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }, ms);
}

/**
 * Alice (zh-CN) creates a room and Bob (en) joins it; both end up in it.
 * Each gets a context made with `options` (e.g. a phone viewport).
 */
export async function twoInARoom(browser: Browser, options: BrowserContextOptions = {}) {
  const alice = await (await browser.newContext({ locale: "zh-CN", ...options })).newPage();
  const bob = await (await browser.newContext({ locale: "en-US", ...options })).newPage();
  await register(alice, uniqueName("alice"), "爱丽丝");
  await register(bob, uniqueName("bob"), "Bob");
  const roomName = `媒体 ${Date.now() % 100000}`;
  await alice.getByRole("button", { name: /新建群聊/ }).click();
  await alice.locator("#room-name").fill(roomName);
  await alice.getByRole("button", { name: "创建" }).click();
  await expect(alice).toHaveURL(/\?room=\d+/);
  const roomUrl = new URL(alice.url());
  await bob.getByRole("button", { name: /Discover rooms/ }).click();
  const row = bob.locator(".directory-row", { hasText: roomName });
  await row.getByRole("button", { name: new RegExp(`^Join ${roomName}`) }).click();
  await expect(bob).toHaveURL(/\?room=\d+/);
  await expect(alice.locator(".sys-line", { hasText: "Bob" })).toBeVisible();
  return { alice, bob, roomName, roomPath: roomUrl.pathname + roomUrl.search };
}

/** Whether an `<img>` has loaded, and its natural size. */
export async function naturalSize(img: Locator): Promise<[number, number]> {
  return img.evaluate((el: HTMLImageElement) => [el.complete ? el.naturalWidth : 0, el.naturalHeight] as [number, number]);
}

/**
 * A finger on `target`'s centre (touch events through the DevTools
 * protocol, which Chromium turns into touch pointer events). Returns
 * functions to move it by `dy` and to lift it.
 */
export async function holdFinger(page: Page, target: Locator) {
  const box = (await target.boundingBox())!;
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [{ x, y }] });
  let at = y;
  return {
    move: async (dy: number) => {
      // A few steps, as a real finger moves.
      for (let i = 1; i <= 4; i++) {
        await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [{ x, y: at + (dy * i) / 4 }] });
      }
      at += dy;
    },
    lift: async () => {
      await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
      await cdp.detach();
    },
  };
}
