// The conversation view: history paging upward, every message kind rendered,
// reactions and quotes on their messages, the read position.
import { test, expect, PAGE_ID } from "../fixtures";
import { logIn, row, messages, messageWithText, timelineTexts } from "../support/dashboard";

test("history loads upward as the agent scrolls, nothing doubled", async ({ page, workspace }) => {
  const all = Array.from({ length: 130 }, (_, i) => ({ psid: "psid-hist", mid: `m-h-${i}`, text: `history ${i}` }));
  for (let i = 0; i < all.length; i += 50) await workspace.messenger(all.slice(i, i + 50));
  const id = await workspace.conversationOf("psid-hist");
  await logIn(page, workspace, { path: `/conversations/${id}` });
  await expect(messageWithText(page, "history 129")).toBeVisible();
  await expect(messages(page)).toHaveCount(50);
  const log = page.getByRole("log");
  await expect(async () => {
    await log.evaluate((el) => (el.scrollTop = 0));
    await expect(messageWithText(page, "history 0")).toHaveCount(1, { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  expect(await timelineTexts(page)).toEqual(all.map((m) => m.text));
  await expect(page.getByRole("separator")).toHaveCount(1);
});

test("every kind of message is rendered, reactions and quotes on their messages", async ({ page, workspace }) => {
  const psid = "psid-kinds";
  const now = Date.now();
  const at = (n: number) => ({ sender: { id: psid }, recipient: { id: PAGE_ID }, timestamp: now + n });
  const body = JSON.stringify({
    object: "page",
    entry: [{ id: PAGE_ID, time: now, messaging: [
      { ...at(1), message: { mid: "m_k_text", text: "Do you have this jacket in blue?" } },
      { ...at(2), message: { mid: "m_k_image", attachments: [{ type: "image", payload: { url: "https://cdn.example/photo.jpg" } }] } },
      { ...at(3), message: { mid: "m_k_loc", attachments: [{ title: "Pinned Location", type: "location", payload: { coordinates: { lat: 48.8584, long: 2.2945 } } }] } },
      { ...at(4), message: { mid: "m_k_qr", text: "Red", quick_reply: { payload: "COLOR_RED" } } },
      { ...at(5), message: { mid: "m_k_fb", attachments: [{ type: "fallback", title: "Shared link", url: "https://example.com/x", payload: null }] } },
      { ...at(6), message: { mid: "m_k_reply", text: "Yes, that one", reply_to: { mid: "m_k_text" } } },
      { ...at(7), reaction: { mid: "m_k_text", action: "react", reaction: "love", emoji: "❤️" } },
    ] }],
  });
  expect((await workspace.signedMeta("messenger", body)).status).toBe(200);
  const id = await workspace.conversationOf(psid);
  await logIn(page, workspace, { path: `/conversations/${id}` });
  const log = page.getByRole("log");
  await expect(messageWithText(page, "Yes, that one")).toBeVisible();
  await expect(log.locator("[data-kind=image] img")).toHaveAttribute("src", "https://cdn.example/photo.jpg");
  await expect(log.getByRole("link", { name: "Open in a map" })).toHaveAttribute("href", /mlat=48.8584/);
  await expect(log.locator("[data-kind=quick_reply]")).toContainText("Quick reply");
  await expect(log.locator("[data-kind=unsupported]")).toContainText("cannot show yet");
  await expect(messageWithText(page, "Yes, that one").locator("blockquote")).toHaveText("Do you have this jacket in blue?");
  // The reaction sits on the message it reacts to, not as a message of its own.
  await expect(messageWithText(page, "Do you have this jacket in blue?").getByLabel("Reactions")).toHaveText("❤️");
  await expect(log.locator("[data-kind=reaction]")).toHaveCount(0);
});

test("reading the conversation records the read position and clears its unread count", async ({ page, workspace }) => {
  await workspace.messenger([
    { psid: "psid-read", mid: "m-rd-1", text: "one" },
    { psid: "psid-read", mid: "m-rd-2", text: "two" },
  ]);
  const id = await workspace.conversationOf("psid-read");
  await expect.poll(async () => (await workspace.api<{ conversations: any[] }>("GET", "/api/conversations")).conversations.find((c) => c.id === id)?.unread).toBe(2);
  await logIn(page, workspace);
  await expect(row(page, id).getByLabel("2 unread")).toBeVisible();
  await expect(page).toHaveTitle(/^\(2\) /);
  await row(page, id).click();
  await expect(messageWithText(page, "two")).toBeVisible();
  await expect(row(page, id).getByLabel("2 unread")).toHaveCount(0);
  await expect(page).toHaveTitle("Switchboard");
  await expect.poll(async () => (await workspace.api<{ conversations: any[] }>("GET", "/api/conversations")).conversations.find((c) => c.id === id)?.unread).toBe(0);
});

test("keyboard: j/k move through the list, a assigns, e resolves, ? shows the shortcuts", async ({ page, workspace }) => {
  await workspace.messenger([{ psid: "psid-k1", mid: "m-k1", text: "older one" }]);
  await workspace.conversationOf("psid-k1");
  await workspace.messenger([{ psid: "psid-k2", mid: "m-k2", text: "newer one" }]);
  const newer = await workspace.conversationOf("psid-k2");
  const older = await workspace.conversationOf("psid-k1");
  await logIn(page, workspace);
  await expect(row(page, older)).toBeVisible();
  await page.keyboard.press("j");
  await expect(page).toHaveURL(new RegExp(`/conversations/${newer}$`));
  await page.keyboard.press("j");
  await expect(page).toHaveURL(new RegExp(`/conversations/${older}$`));
  await page.keyboard.press("k");
  await expect(page).toHaveURL(new RegExp(`/conversations/${newer}$`));
  await expect(messageWithText(page, "newer one")).toBeVisible();
  await page.keyboard.press("a");
  await expect(page.getByRole("button", { name: "Assigned: Alice Agent" })).toBeVisible();
  await page.keyboard.press("e");
  await expect(page.getByTestId("conversation-status")).toHaveText("Resolved");
  await page.keyboard.press("r");
  await expect(page.getByLabel("Reply")).toBeFocused();
  await page.getByLabel("Reply").press("Escape");
  await page.getByRole("log").click();
  await page.keyboard.press("?");
  await expect(page.getByRole("dialog", { name: "Keyboard shortcuts" })).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(page.getByRole("dialog")).toHaveCount(0);
});
