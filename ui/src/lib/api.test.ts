import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, onSignedOut, transport } from "./api";

/** A practice server that answers every request with `status` and `body`. */
function serverAnswers(status: number, body: unknown) {
  const fetch = vi.fn(async () => new Response(JSON.stringify(body), { status }));
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

describe("a practice server's answers (the browser's transport)", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("runs outside the desktop app as the browser does", () => {
    expect(transport).toBe("server");
  });

  it("tells the app shell when a command finds the session gone, with the server's reason", async () => {
    const heard: string[] = [];
    const stop = onSignedOut((message) => heard.push(message));
    serverAnswers(401, { code: "signed_out", message: "your session ended after 12 hours; sign in again" });
    const refused = await api.queue().catch((e) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused.code).toBe("signed_out");
    expect(heard).toEqual(["your session ended after 12 hours; sign in again"]);
    stop();
    await api.queue().catch(() => {});
    expect(heard).toHaveLength(1);
  });

  it("does not mistake a wrong current password (also 401) for an ended session", async () => {
    const heard: string[] = [];
    const stop = onSignedOut((message) => heard.push(message));
    serverAnswers(401, { code: "auth", message: "wrong password for Ana Morales" });
    const refused = await api.changeOwnPassword("not-it", "a-new-password-1").catch((e) => e);
    expect(refused.code).toBe("auth");
    expect(heard).toEqual([]);
    stop();
  });

  it("signs out of a session the server already ended, and reports any other refusal", async () => {
    serverAnswers(401, { code: "signed_out", message: "your session has ended; sign in again" });
    await expect(api.signOut()).resolves.toBeNull();
    serverAnswers(403, { code: "permission_denied", message: "this request lacks the session's CSRF token; reload the page" });
    await expect(api.signOut()).rejects.toMatchObject({ code: "permission_denied" });
  });

  it("unlocks as the member who signed in, though the server no longer knows who that was", async () => {
    const info = { actor: { member_id: "m-ana", name: "Ana Morales" } };
    let fetch = serverAnswers(200, info);
    await api.signIn("m-ana", "cocm-demo-password");
    // Auto-lock after the server already ended the session: the lock holds all the same.
    serverAnswers(401, { code: "signed_out", message: "your session has ended; sign in again" });
    await expect(api.lockApp()).resolves.toBeNull();
    fetch = serverAnswers(200, info);
    await api.unlockApp("cocm-demo-password");
    const [path, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(path).toBe("/api/session");
    expect(JSON.parse(String(init.body))).toEqual({ member: "m-ana", password: "cocm-demo-password", code: null });
  });
});
