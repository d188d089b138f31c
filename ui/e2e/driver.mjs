// A small WebDriver client for end-to-end tests of the real desktop app: it starts
// tauri-driver (which drives WebKitWebDriver), opens a session on the built app, and offers
// the few calls the tests need. Screenshots go under target/e2e-screenshots/.
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { screenPng } from "./xwd-png.mjs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

const ROOT = resolve(import.meta.dirname, "../..");
export const APP = process.env.COCM_APP ?? join(ROOT, "target/debug/cocm-desktop");
export const CLI = process.env.COCM_CLI ?? join(ROOT, "target/debug/cocm");
const SHOTS = join(ROOT, "target/e2e-screenshots");
const PORT = 4444 + Math.floor(Math.random() * 500);
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

/** Every demo member's password, and the demo's practice lead (who the CLI signs in as). */
export const DEMO_PASSWORD = "cocm-demo-password";
export const DEMO_LEAD = "Morgan Grant";

/** A fresh demo registry (as of today) in a temporary directory. */
/** A temporary folder that is removed when the test process ends (CI runs on a shared disk). */
const temporary = [];
process.on("exit", () => temporary.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Every server and driver started, ended when the test process exits however it exits (a
 * flow that timed out never reaches its `finally`): a survivor would hold the run's output
 * open after the runner is done. Drivers lead their own process groups. */
const started = [];
process.on("exit", () => {
  for (const { child, group } of started) {
    if (group) endGroup(child);
    else try { process.kill(child.pid, "SIGKILL"); } catch {}
  }
});
function track(child, group) {
  started.push({ child, group });
  return child;
}
export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
}

export function demoRegistry() {
  const dir = tempDir("cocm-e2e-");
  const db = join(dir, "registry.cocm");
  execFileSync(CLI, ["--db", db, "demo"], { stdio: "pipe" });
  return db;
}

/** Runs the `cocm` CLI on a registry, signed in as the demo's lead, and returns its output. */
export function cliText(db, args, env = {}) {
  return execFileSync(CLI, ["--db", db, ...args], {
    encoding: "utf8",
    env: { ...process.env, COCM_AS: DEMO_LEAD, COCM_PASSWORD: DEMO_PASSWORD, ...env },
  });
}

/** Runs the `cocm` CLI on a registry, signed in as the demo's lead, and parses its JSON. */
export function cli(db, ...args) {
  return JSON.parse(cliText(db, [...args, "--json"]));
}

/** The newest audit entries other than sign-ins (every `cli` call signs in to read) and chart views. */
export function audit(db, limit = 1) {
  return cli(db, "audit", "--limit", String(limit + 30)).filter((e) => !["sign-in", "view"].includes(e.action)).slice(0, limit);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits until a WebDriver server answers on `port` (30 s at most: a first start on a busy CI
 * machine is slow). If it never does, its process group is ended before the error propagates:
 * a driver left running holds its stderr pipe open, and the test file would never exit. */
async function driverReady(port, name, driver, log) {
  for (let i = 0; ; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(2_000) });
      return;
    } catch {
      if (i > 300 || driver.exitCode !== null) {
        endGroup(driver);
        throw new Error(`${name} did not start${driver.exitCode !== null ? ` (exited with ${driver.exitCode})` : ""}:\n${log()}`);
      }
      await sleep(100);
    }
  }
}

/** Ends a driver and everything it started (it leads its own process group). */
function endGroup(driver) {
  try { process.kill(-driver.pid, "SIGKILL"); } catch {}
}

const UI_DIST = resolve(import.meta.dirname, "../dist");

/** `cocm serve` on `listen` (a free loopback port unless given); resolves once it has printed
 * its address and fingerprint. */
export function serve(db, listen = "127.0.0.1:0") {
  const server = track(spawn(CLI, ["--db", db, "serve", "--listen", listen, "--ui", UI_DIST], {
    env: { ...process.env, COCM_AS: DEMO_LEAD, COCM_PASSWORD: DEMO_PASSWORD, COCM_LOG: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
  }), false);
  return new Promise((done, failed) => {
    const found = {};
    createInterface({ input: server.stdout }).on("line", (line) => {
      const url = line.match(/^serving .* at (https:\/\/\S+)$/);
      if (url) found.url = url[1];
      const fingerprint = line.match(/^SHA-256 fingerprint: (\S+)$/);
      if (fingerprint) done({ process: server, url: found.url, fingerprint: fingerprint[1] });
    });
    server.on("exit", (code) => failed(new Error(`cocm serve exited with ${code}`)));
  });
}

export class App {
  static async start({ db, as, env = {} }) {
    const driver = track(spawn("tauri-driver", ["--port", String(PORT), "--native-port", String(PORT + 1000)], {
      env: { ...process.env, COCM_DB: db, COCM_AS: as ?? "", WEBKIT_DISABLE_COMPOSITING_MODE: "1", NO_AT_BRIDGE: "1", ...env },
      // Its own process group, so stop() ends WebKitWebDriver and the app with it; no inherited
      // output, which a surviving grandchild would hold open and stall the test runner.
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
    }), true);
    const app = new App(driver);
    driver.stderr.on("data", (d) => (app.log += d));
    driver.on("exit", (code) => code && code !== 0 && console.error(`tauri-driver exited with ${code}:\n${app.log}`));
    await driverReady(PORT, "tauri-driver", driver, () => app.log);
    try {
      const res = await app.#post("/session", { capabilities: { alwaysMatch: { "tauri:options": { application: APP } } } });
      app.session = res.sessionId;
      // Element look-ups made before the app's page has loaded stay bound to the blank first
      // document, so wait (by script) until the UI has rendered before finding anything.
      await app.waitFor("the app to render", () => app.script("return document.querySelector('#app > *') !== null"), 30_000);
    } catch (e) {
      await app.stop(); // the caller never gets the app to stop
      throw e;
    }
    return app;
  }

  constructor(driver, port = PORT) {
    this.driver = driver;
    this.session = null;
    this.port = port;
    this.log = "";
  }

  /** Debian's Chromium (through chromium-driver) on `url`: the same UI, served by a practice
   * server whose self-signed certificate the browser is told to accept. Downloads go to
   * `downloads` (a folder) without asking. `mobile` ({ width, height }) emulates a phone's
   * viewport and touch. */
  static async browser(url, { downloads = tempDir("cocm-downloads-"), mobile = null } = {}) {
    const port = PORT + 2000;
    // Headless, so it needs no X display (the app's screenshots, of the whole Xvfb screen, still
    // show only the app) and its screenshots are of its own page. Without the background
    // services, Chromium's start waits on connections this closed network refuses.
    const driver = track(spawn("chromedriver", [`--port=${port}`], {
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
    }), true);
    const browser = new App(driver, port);
    browser.isBrowser = true;
    driver.stderr.on("data", (d) => (browser.log += d));
    await driverReady(port, "chromedriver", driver, () => browser.log);
    const profile = tempDir("cocm-chromium-");
    const options = {
      binary: "/usr/bin/chromium",
      args: [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,800", `--user-data-dir=${profile}`,
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
      ],
      prefs: { "download.default_directory": downloads, "download.prompt_for_download": false },
      ...(mobile ? { mobileEmulation: { deviceMetrics: { width: mobile.width, height: mobile.height, pixelRatio: 2, touch: true } } } : {}),
    };
    try {
      const res = await browser.#post("/session", { capabilities: { alwaysMatch: { browserName: "chrome", acceptInsecureCerts: true, "goog:chromeOptions": options, "goog:loggingPrefs": { browser: "ALL" } } } });
      browser.session = res.sessionId;
      await browser.#post(browser.#s("/url"), { url });
      await browser.waitFor("the page to render", () => browser.script("return document.querySelector('#app > *') !== null"), 30_000);
    } catch (e) {
      await browser.stop(); // the caller never gets the browser to stop
      throw e;
    }
    return browser;
  }

  async #request(method, path, body) {
    if (process.env.E2E_DEBUG) console.error(method, path, body ? JSON.stringify(body).slice(0, 120) : "");
    // A WebDriver call that never answers fails the test instead of hanging the run.
    const res = await fetch(`http://127.0.0.1:${this.port}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json.value ?? json)}`);
    return json.value ?? json;
  }
  /** Opens `url` in this browser, as typing it into the address bar does. */
  async go(url) {
    await this.#post(this.#s("/url"), { url });
  }
  #post(path, body = {}) {
    return this.#request("POST", path, body);
  }
  /** Chromium's console since the last call (level, message): where CSP violations show. */
  async browserLog() {
    return this.#post(this.#s("/se/log"), { type: "browser" });
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
    const id = await this.#onScreen(css);
    await this.#post(this.#s(`/element/${id}/click`));
  }
  // WebKitWebDriver clicks, clears and types only on screen; a long form scrolls it there first.
  async #onScreen(css) {
    const id = await this.find(css);
    await this.script("arguments[0].scrollIntoView({ block: 'center' })", { [ELEMENT]: id });
    return id;
  }
  async clear(css) {
    const id = await this.#onScreen(css);
    await this.#post(this.#s(`/element/${id}/clear`));
  }
  async type(css, text) {
    const id = await this.#onScreen(css);
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
    await this.#onScreen(css);
    const option = await this.find(`${css} option[value="${value}"]`);
    await this.#post(this.#s(`/element/${option}/click`));
  }
  /** Runs an async script; it calls the last argument with its result. */
  async asyncScript(source, ...args) {
    return this.#post(this.#s("/execute/async"), { script: source, args });
  }
  async script(source, ...args) {
    return this.#post(this.#s("/execute/sync"), { script: source, args });
  }

  /** Signs in on the sign-in screen, as a person would: member, password, Sign in. */
  async signIn(member, password = DEMO_PASSWORD) {
    // The sign-in screen may still be on its way (after Switch user): wait for its name field.
    await this.waitFor("the sign-in form", () => this.script("return !!document.querySelector('[data-testid=sign-in-name], [data-testid=sign-in-member]')"));
    // A practice server asks for the name typed; a local file offers its members to pick.
    if (await this.script("return !!document.querySelector('[data-testid=sign-in-name]')")) {
      await this.clear('[data-testid="sign-in-name"]');
      await this.type('[data-testid="sign-in-name"]', member);
    } else {
      await this.select('[data-testid="sign-in-member"]', member);
    }
    await this.clear('[data-testid="password"]');
    await this.type('[data-testid="password"]', password);
    await this.click('[data-testid="sign-in"]');
  }

  /** Signs in and waits for the top bar to name the member. */
  async signedIn(member, password = DEMO_PASSWORD) {
    await this.signIn(member, password);
    await this.waitFor(`${member} signed in`, async () => (await this.script("return document.querySelector('[data-testid=actor]')?.textContent ?? ''")) === member);
  }

  /** Saves what the screen shows now as target/e2e-screenshots/NAME.png. */
  async screenshot(name) {
    await sleep(250); // let the last change paint
    mkdirSync(SHOTS, { recursive: true });
    const path = join(SHOTS, `${name}.png`);
    // A browser draws its own page; the app's window is taken from the Xvfb screen.
    const png = this.isBrowser ? Buffer.from(await this.#request("GET", this.#s("/screenshot")), "base64") : screenPng();
    writeFileSync(path, png);
    return path;
  }

  async stop() {
    try {
      if (this.session) await this.#request("DELETE", this.#s(""));
    } catch {
      // The session may already be gone; the process group is ended below either way.
    } finally {
      try { process.kill(-this.driver.pid, "SIGTERM"); } catch {}
      await sleep(300);
      endGroup(this.driver);
    }
  }
}

/**
 * Runs a test body on the app started on `db`, signed in through the sign-in screen as member
 * `as` (with the demo password unless `password` says otherwise; `as` null leaves the app on
 * its first screen); on failure saves a screenshot named failed-NAME before the error
 * propagates. The app is always stopped.
 */
export async function withApp(name, { db, as, password = DEMO_PASSWORD }, body) {
  const app = await App.start({ db, as });
  try {
    if (as) await app.signedIn(as, password);
    await body(app);
  } catch (e) {
    await app.screenshot(`failed-${name}`).catch(() => {});
    throw e;
  } finally {
    await app.stop();
  }
}
