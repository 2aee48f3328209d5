// Opt-in notifications: a new conversation while the tab is hidden gives a
// browser notification and a sound; nothing when the agent has not opted in.
import { test, expect } from "../fixtures";
import { logIn, liveOverWebSocket, row } from "../support/dashboard";

// The browser's Notification and AudioContext, and a hidden tab, stood in for.
const stubs = (optIn: boolean) => `
  window.__notes = []; window.__chimes = 0;
  class FakeNotification { constructor(title, o) { window.__notes.push({ title, body: o && o.body }); } }
  FakeNotification.permission = "granted";
  FakeNotification.requestPermission = async () => "granted";
  window.Notification = FakeNotification;
  class FakeAudio { constructor() { this.currentTime = 0; this.destination = {}; }
    createOscillator() { return { frequency: {}, connect: (g) => g, start() { window.__chimes++; }, stop() {} }; }
    createGain() { return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect: (d) => d }; } }
  window.AudioContext = FakeAudio;
  Object.defineProperty(document, "visibilityState", { get: () => (window.__hidden ? "hidden" : "visible") });
  ${optIn ? 'localStorage.setItem("sb.notify", "1");' : ""}
`;

for (const optIn of [true, false]) {
  test(`a new conversation while the tab is hidden ${optIn ? "notifies with a sound" : "stays quiet without opt-in"}`, async ({ page, workspace }) => {
    await page.addInitScript(stubs(optIn));
    await logIn(page, workspace);
    await expect(liveOverWebSocket(page).first()).toBeVisible();
    await page.evaluate(() => ((window as any).__hidden = true));
    await workspace.telegram(9301, 560001, "Is anyone there?", "Nora");
    const id = await workspace.conversationOf("560001");
    await expect(row(page, id)).toBeVisible();
    const notes = () => page.evaluate(() => (window as any).__notes as { title: string; body: string }[]);
    if (optIn) {
      await expect.poll(notes).toEqual([{ title: "Nora", body: "Is anyone there?" }]);
      expect(await page.evaluate(() => (window as any).__chimes)).toBe(1);
    } else {
      expect(await notes()).toEqual([]);
      expect(await page.evaluate(() => (window as any).__chimes)).toBe(0);
    }
  });
}
