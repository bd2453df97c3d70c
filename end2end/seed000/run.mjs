// Runs seed 000's own browser snippets (snippets.mjs) against Teahouse's
// drop-in endpoint, each "page" in its own global context as in a browser
// tab, with only the URL changed: PAGES (JSON, env) maps each page to its
// `ws://…/compat/ws?token=…` URL. Node 20 needs --experimental-websocket
// for the browser's WebSocket (global from Node 22 on).
//
// The steps are the seed's: private chat (both join, 阿克苏 speaks, 拉姆才让
// answers), then group chat (three join group 100, 阿克苏 and 拉姆才让 speak),
// then one page NOT from the seed: 無尘 speaks with 阿克苏's from_user_id
// and from_username, to show they are ignored. Each step waits for what it
// must cause to be logged (no sleeps); prints every page's console as JSON.
import vm from "node:vm";
import { snippets } from "./snippets.mjs";

const SEED_URL = "ws://127.0.0.1:8783";
const urls = JSON.parse(process.env.PAGES ?? "{}");

/** A browser tab: its own globals, a WebSocket, a console we can read. */
function page(name) {
  const logs = [];
  const waiters = [];
  const context = vm.createContext({
    WebSocket,
    console: {
      log: (...args) => {
        logs.push(args.join(" "));
        for (const w of waiters.splice(0)) w();
      },
    },
  });
  return {
    name,
    logs,
    /** Resolves at the next line logged. */
    next: () => new Promise((r) => waiters.push(r)),
    /** Runs one snippet as typed into the tab (a block, so that its
     * `let $_content` can be typed again, as in a console). */
    run(snippet) {
      if (!urls[name]) throw new Error(`no URL for page ${name}`);
      vm.runInContext(`{\n${snippet.replaceAll(SEED_URL, urls[name])}\n}`, context);
    },
  };
}

/** Resolves once `p` has logged a line containing `text` (10 s at most). */
async function logged(p, text) {
  const deadline = Date.now() + 10_000;
  while (!p.logs.some((l) => l.includes(text))) {
    const left = deadline - Date.now();
    const timedOut = await Promise.race([
      p.next().then(() => false),
      new Promise((r) => setTimeout(() => r(true), Math.max(left, 0))),
    ]);
    if (timedOut) {
      throw new Error(`${p.name} never logged ${JSON.stringify(text)}; logged: ${JSON.stringify(p.logs)}`);
    }
  }
}

const joined = '"msg":"success"';
const pages = {};
try {
  // Part2: private chat.
  const a = (pages.private_aksu = page("private_aksu"));
  const l = (pages.private_lamu = page("private_lamu"));
  a.run(snippets.private_join_aksu);
  l.run(snippets.private_join_lamu);
  await Promise.all([logged(a, joined), logged(l, joined)]);
  a.run(snippets.private_speak_aksu);
  await logged(l, "Hi, 我是阿克苏");
  l.run(snippets.private_speak_lamu);
  await logged(a, "Hi, 我是拉姆才让");

  // Part3: group chat.
  const ga = (pages.group_aksu = page("group_aksu"));
  const gl = (pages.group_lamu = page("group_lamu"));
  const gw = (pages.group_wuchen = page("group_wuchen"));
  ga.run(snippets.group_join_aksu);
  gl.run(snippets.group_join_lamu);
  gw.run(snippets.group_join_wuchen);
  await Promise.all([ga, gl, gw].map((p) => logged(p, joined)));
  ga.run(snippets.group_speak_aksu);
  await Promise.all([ga, gl, gw].map((p) => logged(p, "【群组消息】:我是阿克苏")));
  gl.run(snippets.group_speak_lamu);
  await Promise.all([ga, gl, gw].map((p) => logged(p, "【群组消息】:拉姆才让")));

  // Not from the seed: a forged sender.
  gw.run(`let $_content = {
"event": "speak",
"mode": 2,
"group_id": 100,
"from_user_id": "10086",
"from_username": "阿克苏",
"to_user_id": "10000",
"content": "我其实是無尘",
};
ws.send(JSON.stringify($_content));`);
  await Promise.all([ga, gl, gw].map((p) => logged(p, "我其实是無尘")));
} catch (e) {
  console.error(String(e));
  console.log(JSON.stringify(Object.fromEntries(Object.entries(pages).map(([k, p]) => [k, p.logs]))));
  process.exit(1);
}
console.log(JSON.stringify(Object.fromEntries(Object.entries(pages).map(([k, p]) => [k, p.logs]))));
process.exit(0);
