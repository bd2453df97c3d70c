// Media messages in Chromium: photos, voice clips and videos between two
// browser contexts, on a desktop and on a 390×844 touch screen. Chromium
// runs with a fake microphone (playwright.config.ts), so MediaRecorder
// records a real clip; the photo is a PNG made here and the video a WebM
// the browser records from a canvas. Every file goes through the real
// upload route and is served back by the real media routes.
import { devices, expect, test } from "@playwright/test";
import { hydrated } from "./helpers";
import { attach, attachRecordedVideo, holdFinger, makePng, naturalSize, twoInARoom } from "./media-helpers";

const phone = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 3,
  isMobile: true,
  hasTouch: true,
  userAgent: devices["iPhone 13"].userAgent,
};

test("a photo: the other side sees the thumbnail at its final size and opens the full image", async ({ browser }) => {
  test.setTimeout(60_000);
  const { alice, bob } = await twoInARoom(browser);
  await attach(alice, "tea.png", "image/png", makePng(640, 480));

  // Alice sees her photo at once (a local preview), then as stored.
  await expect(alice.locator(".msg.mine.pending .pending-image")).toBeVisible();
  const mine = alice.locator(".msg.mine[data-msgtype=image] .media-image img");
  await expect(mine).toBeVisible();
  await expect(alice.locator(".msg.pending")).toHaveCount(0);

  // Bob's bubble has its final size before and after the thumbnail loads:
  // 640×480 scaled into the 200 px box.
  const thumb = bob.locator(".msg:not(.mine)[data-msgtype=image] .media-image img");
  await expect(thumb).toBeVisible();
  await expect(thumb).toHaveAttribute("width", "200");
  await expect(thumb).toHaveAttribute("height", "150");
  await expect(thumb).toHaveAttribute("src", /^\/media\/[a-z2-7]{26}\/thumb$/);
  await expect.poll(() => naturalSize(thumb)).not.toEqual([0, 0]);
  const box = await thumb.boundingBox();
  expect(Math.round(box!.width)).toBe(200);
  expect(Math.round(box!.height)).toBe(150);

  // A click opens the full picture, 640×480, over the page; Escape closes it.
  await thumb.click();
  const full = bob.getByRole("dialog").locator("img");
  await expect(full).toHaveAttribute("src", /^\/media\/[a-z2-7]{26}$/);
  await expect.poll(() => naturalSize(full)).toEqual([640, 480]);
  await bob.keyboard.press("Escape");
  await expect(bob.getByRole("dialog")).toHaveCount(0);

  // The list previews it as WeChat does.
  await expect(bob.locator(".conversation.selected .conv-preview")).toContainText("[Photo]");
});

test("voice: recorded with two clicks, played in place on the other side, one clip at a time, the unplayed dot goes for good", async ({ browser }) => {
  test.setTimeout(90_000);
  const { alice, bob } = await twoInARoom(browser);

  // Alice records two clips: a click starts, the time runs, a click sends.
  for (const secs of ["0:02", "0:03"]) {
    await alice.getByRole("button", { name: "语音输入" }).click();
    const strip = alice.locator(".recording-strip");
    await expect(strip).toContainText(`正在录音 ${secs}`);
    await alice.getByRole("button", { name: "结束并发送" }).click();
    await expect(strip).toHaveCount(0);
  }
  await expect(alice.locator(".msg.mine[data-msgtype=voice]")).toHaveCount(2);
  await expect(alice.locator(".msg.pending")).toHaveCount(0);
  // One's own clips carry no unplayed dot.
  await expect(alice.locator(".msg.mine .unplayed-dot")).toHaveCount(0);

  const clips = bob.locator(".msg:not(.mine)[data-msgtype=voice]");
  await expect(clips).toHaveCount(2);
  const first = clips.nth(0).getByRole("button", { name: /^Voice message 0:0\d$/ });
  const second = clips.nth(1).getByRole("button", { name: /^Voice message 0:0\d$/ });
  // Longer clips are at least as wide.
  const [w1, w2] = [(await first.boundingBox())!.width, (await second.boundingBox())!.width];
  expect(w2).toBeGreaterThanOrEqual(w1);
  await expect(clips.locator(".unplayed-dot")).toHaveCount(2);

  // The clip is served as audio the browser can play.
  const src = await first.getAttribute("data-src");
  expect(src).toMatch(/^\/media\/[a-z2-7]{26}$/);
  const playable = await bob.evaluate(
    (src) =>
      new Promise<boolean>((resolve) => {
        const a = new Audio(src!);
        a.oncanplaythrough = () => resolve(true);
        a.onerror = () => resolve(false);
      }),
    src,
  );
  expect(playable).toBe(true);

  // Playing the first, then the second: only one plays at a time.
  await first.click();
  await expect(first).toHaveAttribute("aria-pressed", "true");
  await expect(clips.nth(0).locator(".unplayed-dot")).toHaveCount(0);
  await second.click();
  await expect(second).toHaveAttribute("aria-pressed", "true");
  await expect(first).toHaveAttribute("aria-pressed", "false");
  // It plays to its end (about 3 s) and stops by itself.
  await expect(second).toHaveAttribute("aria-pressed", "false", { timeout: 15_000 });
  await expect(clips.locator(".unplayed-dot")).toHaveCount(0);

  // Played stays played after a reload.
  await bob.reload();
  await hydrated(bob);
  await expect(bob.locator(".msg:not(.mine)[data-msgtype=voice]")).toHaveCount(2);
  await expect(bob.locator(".unplayed-dot")).toHaveCount(0);
  await expect(bob.locator(".conversation.selected .conv-preview")).toContainText("[Voice] 0:0");
});

test("a video plays inline on the other side, with its length and a poster", async ({ browser }) => {
  test.setTimeout(60_000);
  const { alice, bob } = await twoInARoom(browser);
  await attachRecordedVideo(alice, 2_000);
  await expect(alice.locator(".msg.mine[data-msgtype=video]")).toBeVisible({ timeout: 20_000 });

  const video = bob.locator(".msg:not(.mine)[data-msgtype=video] video");
  await expect(video).toBeVisible();
  await expect(video).toHaveAttribute("controls", "");
  await expect(video).toHaveAttribute("preload", "metadata");
  await expect(video).toHaveAttribute("poster", "/video-poster.svg");
  await expect(video).toHaveAttribute("src", /^\/media\/[a-z2-7]{26}$/);
  await expect(bob.locator(".msg:not(.mine)[data-msgtype=video] .video-len")).toHaveText(/^0:0[23]$/);
  // Its header loads (served with a type the browser plays), and it plays.
  await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState)).toBeGreaterThanOrEqual(1);
  await video.evaluate((v: HTMLVideoElement) => {
    v.muted = true;
    return v.play();
  });
  await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime)).toBeGreaterThan(0);
});

test("phone: hold to talk, slide up to cancel, release to send; a photo from the picker", async ({ browser }) => {
  test.setTimeout(90_000);
  const { alice, bob } = await twoInARoom(browser, phone);

  // The mic button switches the input to WeChat's hold-to-talk button.
  await alice.getByRole("button", { name: "语音输入" }).tap();
  const talk = alice.getByRole("button", { name: "按住 说话" });
  await expect(talk).toBeVisible();

  // Hold, slide up: the overlay turns to "release to cancel"; lifting there sends nothing.
  let finger = await holdFinger(alice, talk);
  const overlay = alice.locator(".voice-overlay");
  await expect(overlay).toContainText("手指上滑，取消发送");
  await expect(overlay).toContainText("0:01");
  await finger.move(-120);
  await expect(overlay).toHaveClass(/cancel/);
  await expect(overlay).toContainText("松开手指，取消发送");
  await finger.lift();
  await expect(overlay).toHaveCount(0);
  await expect(alice.locator(".msg.pending, .msg[data-msgtype=voice]")).toHaveCount(0);

  // Hold for two seconds and release: sent, and Bob gets it.
  finger = await holdFinger(alice, alice.getByRole("button", { name: "按住 说话" }));
  await expect(overlay).toContainText("0:02");
  await finger.lift();
  await expect(alice.locator(".msg.mine[data-msgtype=voice]")).toBeVisible();
  await expect(bob.locator(".msg:not(.mine)[data-msgtype=voice] .unplayed-dot")).toBeVisible();
  await bob.locator(".msg:not(.mine)[data-msgtype=voice] .voice").tap();
  await expect(bob.locator(".unplayed-dot")).toHaveCount(0);

  // Back to the keyboard; a photo from the picker reaches Bob, fitted to the phone.
  await alice.getByRole("button", { name: "键盘输入" }).tap();
  await expect(alice.getByRole("textbox", { name: /输入消息/ })).toBeVisible();
  await attach(alice, "portrait.png", "image/png", makePng(300, 400));
  const thumb = bob.locator(".msg:not(.mine)[data-msgtype=image] img");
  await expect(thumb).toHaveAttribute("width", "150");
  await expect(thumb).toHaveAttribute("height", "200");
  await thumb.tap();
  await expect.poll(() => naturalSize(bob.getByRole("dialog").locator("img"))).toEqual([300, 400]);
});

test("a send that fails after the upload is retried without uploading again, under the same client id", async ({ browser }) => {
  test.setTimeout(60_000);
  const { alice, bob } = await twoInARoom(browser);
  const uploads: string[] = [];
  const sends: string[] = [];
  alice.on("request", (r) => {
    if (r.url().includes("/api/upload/")) uploads.push(r.url());
    if (r.url().endsWith("/api/send_media")) sends.push(r.postData() ?? "");
  });
  // The first send is cut off on the way (the network drops it).
  let cut = false;
  await alice.route("**/api/send_media", async (route) => {
    if (!cut) {
      cut = true;
      return route.abort("connectionreset");
    }
    return route.continue();
  });
  await attach(alice, "retry.png", "image/png", makePng(64, 64));
  const failed = alice.locator(".msg.pending.failed");
  await expect(failed).toBeVisible();
  await expect(failed.locator("[data-code]")).toHaveAttribute("data-code", "network");
  await failed.getByRole("button", { name: "重试" }).click();
  await expect(alice.locator(".msg.mine[data-msgtype=image]")).toHaveCount(1);
  await expect(alice.locator(".msg.pending")).toHaveCount(0);
  expect(uploads).toHaveLength(1);
  expect(sends).toHaveLength(2);
  const clientId = (s: string) => new URLSearchParams(s).get("client_id");
  expect(clientId(sends[0])).toBe(clientId(sends[1]));
  await expect(bob.locator(".msg:not(.mine)[data-msgtype=image]")).toHaveCount(1);
});

test("a file the server refuses stays as a failed bubble with its reason, and can be removed", async ({ browser }) => {
  const { alice } = await twoInARoom(browser);
  await attach(alice, "notes.png", "image/png", Buffer.from("this is not a picture"));
  const failed = alice.locator(".msg.pending.failed");
  await expect(failed).toBeVisible();
  await expect(failed.locator(".error-text")).toContainText("发送失败 · ");
  expect(await failed.locator("[data-code]").getAttribute("data-code")).not.toBe("");
  await failed.getByRole("button", { name: "删除" }).click();
  await expect(alice.locator(".msg.pending")).toHaveCount(0);
});

test("desktop voice: cancel throws a recording away, and a click that stops at once is too short to send", async ({ browser }) => {
  const { alice } = await twoInARoom(browser);
  await alice.getByRole("button", { name: "语音输入" }).click();
  const strip = alice.locator(".recording-strip");
  await expect(strip).toContainText("正在录音 0:01");
  // The text input gives way to the strip while recording.
  await expect(alice.getByRole("textbox", { name: /输入消息/ })).toBeHidden();
  await strip.getByRole("button", { name: "取消" }).click();
  await expect(strip).toHaveCount(0);
  await expect(alice.getByRole("textbox", { name: /输入消息/ })).toBeVisible();

  await alice.getByRole("button", { name: "语音输入" }).click();
  await alice.getByRole("button", { name: "结束并发送" }).click();
  await expect(alice.locator(".composer-notice")).toHaveText("说话时间太短");
  await expect(alice.locator(".msg.pending, .msg[data-msgtype=voice]")).toHaveCount(0);
});
