// Sign-in, lockout, the first-sign-in password change and auto-lock, in the real app.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { DEMO_PASSWORD, audit, cliText, demoRegistry, withApp } from "./driver.mjs";

const errorText = (app) => app.script("return document.querySelector('[data-testid=sign-in-error]')?.textContent ?? ''");

test("sign-in: the demo password is offered, a wrong password is refused, five lock the account until a lead unlocks it", async () => {
  const db = demoRegistry();
  await withApp("sign-in", { db, as: null }, async (app) => {
    assert.match(await app.text('[data-testid="demo-password"]'), /cocm-demo-password/);
    await app.signIn("Chloe Nguyen", "not-her-password");
    await app.waitFor("the refusal", async () => (await errorText(app)).includes("wrong password for Chloe Nguyen"));
    assert.equal(await errorText(app), "wrong password for Chloe Nguyen (4 more wrong attempts lock the account for 15 minutes)");
    await app.screenshot("sign-in-1-wrong-password");
    for (let i = 0; i < 4; i++) {
      await app.clear('[data-testid="password"]');
      await app.type('[data-testid="password"]', "still-not-her-password");
      await app.click('[data-testid="sign-in"]');
      await app.waitFor(`refusal ${i + 2}`, async () => (await errorText(app)).includes(i === 3 ? "now locked" : `${3 - i} more`));
    }
    // Locked: even the right password is refused.
    await app.clear('[data-testid="password"]');
    await app.type('[data-testid="password"]', DEMO_PASSWORD);
    await app.click('[data-testid="sign-in"]');
    await app.waitFor("the lock", async () => (await errorText(app)).includes("is locked after too many wrong passwords"));
    await app.screenshot("sign-in-2-locked");

    // The practice lead unlocks it in Team & settings; then Chloe signs in.
    await app.signedIn("Morgan Grant");
    await app.click('[data-testid="nav-settings"]');
    await app.waitFor("Chloe's account shown locked", async () =>
      /locked until/.test(await app.text('[data-testid="member-Chloe Nguyen"] [data-testid="account-state"]')));
    await app.screenshot("sign-in-3-lead-sees-the-lock");
    await app.click('[data-testid="unlock-Chloe Nguyen"]');
    await app.waitFor("unlocked", async () => (await app.text('[data-testid="member-Chloe Nguyen"] [data-testid="account-state"]')) === "active");
    await app.click('[data-testid="switch-user"]');
    await app.signedIn("Chloe Nguyen");
  });
  const actions = audit(db, 12).map((e) => `${e.actor} ${e.action}`);
  for (const expected of ["Chloe Nguyen sign-in-failed", "Chloe Nguyen account-locked", "Chloe Nguyen sign-in-refused-locked", "Morgan Grant account-unlocked", "Morgan Grant sign-out"]) {
    assert.ok(actions.includes(expected), `${expected} in ${actions.join(", ")}`);
  }
});

test("first sign-in: a password a lead set must be changed before anything else", async () => {
  const db = demoRegistry();
  cliText(db, ["team", "password", "Ben Okafor"], { COCM_NEW_PASSWORD: "set-by-the-lead-1" });
  await withApp("first-sign-in", { db, as: null }, async (app) => {
    await app.signIn("Ben Okafor", "set-by-the-lead-1");
    await app.find('[data-testid="new-password"]');
    assert.match(await errorText(app), /must choose a new password/);
    await app.type('[data-testid="new-password"]', "too-short");
    await app.type('[data-testid="confirm-password"]', "too-short");
    await app.click('[data-testid="sign-in"]');
    await app.waitFor("the rule", async () => (await errorText(app)) === "new password: a password has at least 12 characters");
    await app.screenshot("first-sign-in-1-change-required");
    for (const field of ["new-password", "confirm-password"]) {
      await app.clear(`[data-testid="${field}"]`);
      await app.type(`[data-testid="${field}"]`, "bens-own-choice-2026");
    }
    await app.click('[data-testid="sign-in"]');
    await app.waitFor("Ben's caseload", async () => (await app.script("return document.querySelector('[data-testid=actor]')?.textContent ?? ''")) === "Ben Okafor");
  });
  // The new password works in the CLI; the lead's does not any more.
  assert.match(cliText(db, ["caseload"], { COCM_AS: "Ben Okafor", COCM_PASSWORD: "bens-own-choice-2026" }), /on caseload/);
  assert.throws(() => cliText(db, ["caseload"], { COCM_AS: "Ben Okafor", COCM_PASSWORD: "set-by-the-lead-1" }), /error\[auth\]/);
});

test("auto-lock: after auto_lock_minutes without input the screen is covered and the key dropped; the password returns to the same screen with unsaved input kept", async () => {
  const db = demoRegistry();
  cliText(db, ["settings", "set", "auto_lock_minutes", "1"]);
  await withApp("auto-lock", { db, as: "Ana Morales" }, async (app) => {
    await app.type('[data-testid="search"]', "Robert");
    await app.click('[data-testid="caseload-row"][data-mrn="D004"]');
    await app.click('[data-testid="log-contact"]');
    await app.type('[data-testid="contact-minutes"]', "25");
    // No input for a minute: the lock screen covers the app.
    await app.waitFor("the lock screen", () => app.script("return document.querySelector('[data-testid=lock-screen]') !== null"), 90_000);
    await app.screenshot("auto-lock-1-locked");
    // The core holds no open registry now: a command straight to it is refused.
    const refused = await app.asyncScript(
      "const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('run', { command: 'caseload', args: { careManager: null, asOfDate: null } }).then(() => done('opened'), (e) => done(e.code + ': ' + e.message));",
    );
    assert.equal(refused, "signed_out: sign in to use the registry");
    await app.type('[data-testid="unlock-password"]', "wrong-password-here");
    await app.click('[data-testid="unlock"]');
    await app.waitFor("the refusal", async () => /wrong password for Ana Morales/.test(await app.text('[data-testid="unlock-error"]')));
    await app.clear('[data-testid="unlock-password"]');
    await app.type('[data-testid="unlock-password"]', DEMO_PASSWORD);
    await app.click('[data-testid="unlock"]');
    await app.waitFor("unlocked", () => app.script("return document.querySelector('[data-testid=lock-screen]') === null"));
    assert.equal(await app.script("return document.querySelector('[data-testid=contact-minutes]').value"), "25", "the unsaved contact is still there");
    assert.equal(await app.text('[data-testid="patient-name"]'), "Robert Chen");
    await app.screenshot("auto-lock-2-back-where-she-was");
  });
  const actions = audit(db, 6).map((e) => `${e.actor} ${e.action}`);
  assert.ok(actions.includes("Ana Morales auto-lock"), actions.join(", "));
});

test("an unencrypted registry is encrypted in the app by a practice lead, who is shown the recovery key once", async () => {
  const db = demoRegistry();
  const plain = join(dirname(db), "before-encryption.cocm");
  cliText(db, ["export", "sqlite", "--out", plain]);
  assert.equal(readFileSync(plain).subarray(0, 15).toString(), "SQLite format 3");
  let key = "";
  await withApp("encrypt", { db: plain, as: null }, async (app) => {
    await app.find('[data-testid="encrypt-form"]');
    await app.screenshot("encrypt-1-offered");
    await app.type('[data-testid="encrypt-lead"]', "Morgan Grant");
    await app.type('[data-testid="encrypt-password"]', "morgans-own-password");
    await app.type('[data-testid="encrypt-confirm"]', "morgans-own-password");
    await app.click('[data-testid="encrypt"]');
    key = await app.waitFor("the recovery key", async () => (await app.script("return document.querySelector('[data-testid=recovery-key]')?.textContent ?? ''")) || null, 60_000);
    assert.match(key, /^[0-9a-f]{8}(-[0-9a-f]{8}){7}$/);
    await app.click('[data-testid="recovery-stored"]');
    await app.click('[data-testid="recovery-continue"]');
    await app.waitFor("the lead's home", async () => (await app.script("return document.querySelector('[data-testid=actor]')?.textContent ?? ''")) === "Morgan Grant");
  });
  // The file is encrypted in place; the new password and the recovery key open it.
  assert.notEqual(readFileSync(plain).subarray(0, 15).toString(), "SQLite format 3");
  assert.match(cliText(plain, ["team", "accounts"], { COCM_PASSWORD: "morgans-own-password" }), /Morgan Grant/);
  assert.match(cliText(plain, ["--recovery-key", "caseload"], { COCM_AS: "", COCM_RECOVERY_KEY: key }), /on caseload/);
});
