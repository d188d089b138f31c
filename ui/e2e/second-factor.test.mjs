// The second factor, as members would set it up: in Chromium through the practice server
// (`mfa_required` = server) and in the desktop app on a file (`always`). Each enrols from the
// QR code's secret, signs in again with the app's next code, then with a recovery code. The
// codes are computed as a phone would, by the `otpauth` library from the secret on screen.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as OTPAuth from "otpauth";
import { App, DEMO_PASSWORD, cliText, demoRegistry, serve } from "./driver.mjs";

/** The code an authenticator app shows for `secret` (as the screen shows it) `offset` s from now. */
const appCode = (secret, offset = 0) =>
  new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret.replace(/\s/g, "")), algorithm: "SHA1", digits: 6, period: 30 })
    .generate({ timestamp: Date.now() + offset * 1000 });

const actorIs = (client, name) =>
  client.waitFor(`${name} signed in`, async () => (await client.script("return document.querySelector('[data-testid=actor]')?.textContent ?? ''")) === name);

/** Sets up the second factor on the mandatory screen; returns the secret and the recovery codes. */
async function enrol(client, shot) {
  await client.find('[data-testid="second-factor-secret"]');
  const secret = await client.text('[data-testid="second-factor-secret"]');
  assert.match(secret, /^[A-Z2-7 ]{32,}$/);
  assert.equal(await client.script("return document.querySelector('[data-testid=second-factor-qr]').naturalWidth > 0"), true, "the QR code renders");
  await client.screenshot(`${shot}-enrol`);
  // A wrong first code is refused with the core's message; the app's code is accepted.
  await client.type('[data-testid="second-factor-code"]', "000000");
  await client.click('[data-testid="second-factor-confirm"]');
  await client.waitFor("the refusal", async () => /does not match/.test(await client.text('[data-testid="second-factor-error"]')));
  await client.clear('[data-testid="second-factor-code"]');
  await client.type('[data-testid="second-factor-code"]', appCode(secret));
  await client.click('[data-testid="second-factor-confirm"]');
  await client.find('[data-testid="recovery-codes"]');
  const codes = await client.script("return [...document.querySelectorAll('[data-testid=recovery-codes] code')].map((c) => c.textContent)");
  assert.equal(codes.length, 10);
  await client.screenshot(`${shot}-recovery-codes`);
  await client.click('[data-testid="recovery-codes-kept"]');
  return { secret, codes };
}

/** Signs in with the password; the registry asks for a code, which is typed. */
async function signInWithCode(client, member, code) {
  await client.signIn(member, DEMO_PASSWORD);
  await client.find('[data-testid="mfa-code"]');
  assert.match(await client.text('[data-testid="sign-in-error"]'), /6-digit code/);
  await client.type('[data-testid="mfa-code"]', code);
  await client.click('[data-testid="sign-in"]');
  await actorIs(client, member);
}

test("second factor: enrolled in Chromium and in the app, then a code and a recovery code sign in", async () => {
  const db = demoRegistry();
  cliText(db, ["settings", "set", "mfa_required", "server"]);
  const server = await serve(db);
  let browser, app;
  try {
    browser = await App.browser(server.url);
    await browser.signIn("Chloe Nguyen");
    const chloe = await enrol(browser, "second-factor-1-browser");
    await actorIs(browser, "Chloe Nguyen");
    // Signed in again: the code that confirmed the enrolment is used, the next one works.
    await browser.click('[data-testid="switch-user"]');
    await signInWithCode(browser, "Chloe Nguyen", appCode(chloe.secret, 30));
    await browser.screenshot("second-factor-3-browser-signed-in-with-a-code");
    await browser.click('[data-testid="switch-user"]');
    await signInWithCode(browser, "Chloe Nguyen", chloe.codes[0]);
    // The Team screen counts what is left.
    await browser.click('[data-testid="nav-settings"]');
    await browser.waitFor("nine recovery codes left", async () => /9 recovery codes left/.test(await browser.text('[data-testid="second-factor-state"]')));
    await browser.screenshot("second-factor-4-browser-recovery-code-used");
  } catch (e) {
    await browser?.screenshot("failed-second-factor-browser").catch(() => {});
    throw e;
  } finally {
    await browser?.stop();
    server.process.kill("SIGTERM");
    await new Promise((done) => server.process.once("exit", done));
  }

  // The desktop app on the file, the registry asking at every sign-in.
  cliText(db, ["settings", "set", "mfa_required", "always"]);
  try {
    app = await App.start({ db, as: null });
    await app.signIn("Ana Morales");
    const ana = await enrol(app, "second-factor-5-app");
    await actorIs(app, "Ana Morales");
    await app.click('[data-testid="switch-user"]');
    await signInWithCode(app, "Ana Morales", appCode(ana.secret, 30));
    await app.screenshot("second-factor-7-app-signed-in-with-a-code");
  } catch (e) {
    await app?.screenshot("failed-second-factor-app").catch(() => {});
    throw e;
  } finally {
    await app?.stop();
  }
});
