import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, Server } from "node:http";
import { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** A second Teahouse server with its own flags and empty data dir (the
 * one scripts/e2e.sh starts has the defaults). */
export class Teahouse {
  private constructor(
    readonly url: string,
    private child: ChildProcess,
    private dataDir: string,
  ) {}

  static async start(args: string[]): Promise<Teahouse> {
    const bin = process.env.TEAHOUSE_BIN;
    if (!bin) throw new Error("run through scripts/e2e.sh (TEAHOUSE_BIN)");
    const dataDir = mkdtempSync(join(tmpdir(), "teahouse-embed-"));
    // From the repository root, like scripts/e2e.sh: the site is under target/site.
    const child = spawn(
      bin,
      ["--data-dir", dataDir, "--addr", "127.0.0.1:0", "--sends-per-sec", "200", ...args],
      { cwd: resolve(__dirname, "../.."), stdio: ["ignore", "pipe", "pipe"] },
    );
    const url = await new Promise<string>((ok, fail) => {
      let seen = "";
      const look = (chunk: Buffer) => {
        seen += chunk.toString();
        const m = seen.match(/http:\/\/127\.0\.0\.1:\d+/);
        if (m) ok(m[0]);
      };
      child.stdout!.on("data", look);
      child.stderr!.on("data", look);
      child.on("exit", (code) => fail(new Error(`teahouse exited (${code}): ${seen}`)));
    });
    // Ready once it answers.
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`${url}/healthz`)).ok) break;
      } catch {
        /* not yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return new Teahouse(url, child, dataDir);
  }

  /** Makes `username` an admin the operator's way (`teahouse grant-role`). */
  grantAdmin(username: string) {
    execFileSync(process.env.TEAHOUSE_BIN!, ["grant-role", "--data-dir", this.dataDir, username]);
  }

  /** Calls the server API with a bearer key; the JSON answer. */
  async v1(key: string, method: string, path: string, body?: unknown) {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  }

  async stop() {
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.kill("SIGTERM");
    await exited;
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** A host page on its own origin (another port of 127.0.0.1: same site,
 * so the chat's SameSite=Lax cookie still goes to the frame) that frames
 * `?src=` and records every message it is posted. */
export class HostPage {
  private constructor(
    readonly origin: string,
    private server: Server,
  ) {}

  static async start(): Promise<HostPage> {
    const server = createServer((req, res) => {
      const src = new URL(req.url ?? "/", "http://x").searchParams.get("src") ?? "about:blank";
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><meta charset="utf-8"><title>host</title>
<style>body{margin:0} iframe{border:0;width:100vw;height:100vh;display:block}</style>
<script>
  window.received = [];
  window.addEventListener("message", (e) => window.received.push({ origin: e.origin, data: e.data }));
</script>
<iframe id="chat" src="${src.replace(/"/g, "&quot;")}"></iframe>`);
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const port = (server.address() as AddressInfo).port;
    return new HostPage(`http://127.0.0.1:${port}`, server);
  }

  /** The host page framing `src`. */
  url(src: string): string {
    return `${this.origin}/?src=${encodeURIComponent(src)}`;
  }

  async stop() {
    await new Promise((r) => this.server.close(r));
  }
}

/** Registers a user through the server functions (no page needed) and
 * returns the session cookie header. */
export async function registerByApi(base: string, username: string, nickname: string): Promise<string> {
  const res = await fetch(`${base}/api/register`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ username, nickname, password: "tea-leaves-42" }),
  });
  if (!res.ok) throw new Error(`register ${username}: ${res.status} ${await res.text()}`);
  const cookie = res.headers.get("set-cookie") ?? "";
  return cookie.split(";")[0];
}

/** Calls a server function with a session cookie. */
export async function callApi(base: string, cookie: string, name: string, form: Record<string, string>) {
  const res = await fetch(`${base}/api/${name}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie },
    body: new URLSearchParams(form),
  });
  if (!res.ok) throw new Error(`${name}: ${res.status} ${await res.text()}`);
  return res.json();
}
