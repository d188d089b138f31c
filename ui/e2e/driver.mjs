// A small WebDriver client for end-to-end tests of the real desktop app: it starts
// tauri-driver (which drives WebKitWebDriver), opens a session on the built app, and offers
// the few calls the tests need. Screenshots go under target/e2e-screenshots/.
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { screenPng } from "./xwd-png.mjs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
export const APP = process.env.COCM_APP ?? join(ROOT, "target/debug/cocm-desktop");
export const CLI = process.env.COCM_CLI ?? join(ROOT, "target/debug/cocm");
const SHOTS = join(ROOT, "target/e2e-screenshots");
const PORT = 4444 + Math.floor(Math.random() * 500);
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

/** A fresh demo registry (as of today) in a temporary directory. */
export function demoRegistry() {
  const dir = mkdtempSync(join(tmpdir(), "cocm-e2e-"));
  const db = join(dir, "registry.cocm");
  execFileSync(CLI, ["--db", db, "demo"], { stdio: "pipe" });
  return db;
}

/** Runs the `cocm` CLI on a registry and parses its JSON. */
export function cli(db, ...args) {
  return JSON.parse(execFileSync(CLI, ["--db", db, ...args, "--json"], { encoding: "utf8" }));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class App {
  static async start({ db, as }) {
    const driver = spawn("tauri-driver", ["--port", String(PORT), "--native-port", String(PORT + 1000)], {
      env: { ...process.env, COCM_DB: db, COCM_AS: as ?? "", WEBKIT_DISABLE_COMPOSITING_MODE: "1", NO_AT_BRIDGE: "1" },
      // Its own process group, so stop() ends WebKitWebDriver and the app with it; no inherited
      // output, which a surviving grandchild would hold open and stall the test runner.
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
    });
    const app = new App(driver);
    driver.stderr.on("data", (d) => (app.log += d));
    driver.on("exit", (code) => code && code !== 0 && console.error(`tauri-driver exited with ${code}:\n${app.log}`));
    for (let i = 0; ; i++) {
      try {
        await fetch(`http://127.0.0.1:${PORT}/status`);
        break;
      } catch {
        if (i > 100) throw new Error("tauri-driver did not start");
        await sleep(100);
      }
    }
    const res = await app.#post("/session", { capabilities: { alwaysMatch: { "tauri:options": { application: APP } } } });
    app.session = res.sessionId;
    // Element look-ups made before the app's page has loaded stay bound to the blank first
    // document, so wait (by script) until the UI has rendered before finding anything.
    await app.waitFor("the app to render", () => app.script("return document.querySelector('#app > *') !== null"), 30_000);
    return app;
  }

  constructor(driver) {
    this.driver = driver;
    this.session = null;
    this.port = PORT;
    this.log = "";
  }

  async #request(method, path, body) {
    if (process.env.E2E_DEBUG) console.error(method, path, body ? JSON.stringify(body).slice(0, 120) : "");
    // A WebDriver call that never answers fails the test instead of hanging the run.
    const res = await fetch(`http://127.0.0.1:${PORT}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json.value ?? json)}`);
    return json.value ?? json;
  }
  #post(path, body = {}) {
    return this.#request("POST", path, body);
  }
  #s(path) {
    return `/session/${this.session}${path}`;
  }

  /** Waits for `check` to return a truthy value (polling), or fails naming `what`. */
  async waitFor(what, check, timeout = 20_000) {
    const end = Date.now() + timeout;
    let last;
    while (Date.now() < end) {
      try {
        const v = await check();
        if (v) return v;
      } catch (e) {
        last = e;
      }
      await sleep(150);
    }
    throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
  }

  async find(css) {
    return this.waitFor(`element ${css}`, async () => (await this.#post(this.#s("/element"), { using: "css selector", value: css }))[ELEMENT]);
  }
  async findAll(css) {
    const list = await this.#post(this.#s("/elements"), { using: "css selector", value: css });
    return list.map((e) => e[ELEMENT]);
  }
  async click(css) {
    const id = await this.find(css);
    await this.#post(this.#s(`/element/${id}/click`));
  }
  async clear(css) {
    const id = await this.find(css);
    await this.#post(this.#s(`/element/${id}/clear`));
  }
  async type(css, text) {
    const id = await this.find(css);
    await this.#post(this.#s(`/element/${id}/value`), { text });
  }
  async text(css) {
    const id = await this.find(css);
    return this.#request("GET", this.#s(`/element/${id}/text`));
  }
  async texts(css) {
    const ids = await this.findAll(css);
    return Promise.all(ids.map((id) => this.#request("GET", this.#s(`/element/${id}/text`))));
  }
  async attribute(css, name) {
    const id = await this.find(css);
    return this.#request("GET", this.#s(`/element/${id}/attribute/${name}`));
  }
  /** Sets an input the keyboard cannot reach reliably (WebKitGTK's date fields), firing input. */
  async setValue(css, value) {
    await this.find(css);
    await this.script("const el = document.querySelector(arguments[0]); el.value = arguments[1]; el.dispatchEvent(new Event('input', { bubbles: true })); return true;", css, value);
  }
  /** Picks an option of a <select> by value, as a person would. */
  async select(css, value) {
    await this.click(`${css} option[value="${value}"]`);
  }
  /** Runs an async script; it calls the last argument with its result. */
  async asyncScript(source, ...args) {
    return this.#post(this.#s("/execute/async"), { script: source, args });
  }
  async script(source, ...args) {
    return this.#post(this.#s("/execute/sync"), { script: source, args });
  }

  /** Saves what the screen shows now as target/e2e-screenshots/NAME.png. */
  async screenshot(name) {
    await sleep(250); // let the last change paint
    mkdirSync(SHOTS, { recursive: true });
    const path = join(SHOTS, `${name}.png`);
    writeFileSync(path, screenPng());
    return path;
  }

  async stop() {
    try {
      if (this.session) await this.#request("DELETE", this.#s(""));
    } catch {
      // The session may already be gone; the process group is ended below either way.
    } finally {
      const group = -this.driver.pid;
      try { process.kill(group, "SIGTERM"); } catch {}
      await sleep(300);
      try { process.kill(group, "SIGKILL"); } catch {}
    }
  }
}

/**
 * Runs a test body on the app started on `db` as member `as`; on failure saves a screenshot
 * named failed-NAME before the error propagates. The app is always stopped.
 */
export async function withApp(name, { db, as }, body) {
  const app = await App.start({ db, as });
  try {
    await body(app);
  } catch (e) {
    await app.screenshot(`failed-${name}`).catch(() => {});
    throw e;
  } finally {
    await app.stop();
  }
}
