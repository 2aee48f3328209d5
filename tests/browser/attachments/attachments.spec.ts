// Files from the dashboard to the widget: an agent attaches an image with
// a caption, sees it in the timeline (loaded through the session cookie),
// and the visitor on the customer's page sees the same image in the widget
// (fetched with the visitor's token, shown despite the page's strict CSP).
import { test, expect, type Workspace } from "../fixtures";
import { logIn, messageWithText } from "../support/dashboard";
import { PAGE_ID } from "../support/workspace";


/** A 2×2 red PNG. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==",
  "base64",
);

async function conversationWith(ws: Workspace, text: string): Promise<string> {
  let id = "";
  await expect
    .poll(async () => {
      const list = await ws.api("GET", "/api/conversations?status=all");
      id = list.conversations.find((c: any) => c.last_message?.text === text)?.id ?? "";
      return id;
    })
    .not.toBe("");
  return id;
}

/** The agent's dashboard, open first: an agent online is what lets a visitor chat. */
async function agentOnline(context: import("@playwright/test").BrowserContext, ws: Workspace) {
  const dashboard = await context.newPage();
  await logIn(dashboard, ws);
  await expect(dashboard.getByRole("status").filter({ hasText: "Live" }).first()).toBeVisible();
  return dashboard;
}

test("an agent sends an image from the dashboard and the visitor sees it in the widget", async ({ page, context, workspace, site, shot }) => {
  const dashboard = await agentOnline(context, workspace);
  await page.goto(site.page(workspace.inboxes.widget!.id));
  await page.getByRole("button", { name: "Chat with us" }).click();
  const chat = page.getByRole("dialog");
  await chat.getByRole("textbox", { name: "Message" }).fill("Can you show me where?");
  await chat.getByRole("button", { name: "Send" }).click();
  const id = await conversationWith(workspace, "Can you show me where?");

  await dashboard.goto(`${workspace.base}/conversations/${id}`);
  await expect(messageWithText(dashboard, "Can you show me where?")).toBeVisible();
  await dashboard.getByRole("button", { name: "Attach a file" }).click({ trial: true });
  await dashboard.locator('input[type="file"]').setInputFiles({ name: "where.png", mimeType: "image/png", buffer: PNG });
  await expect(dashboard.getByLabel("File to send: where.png")).toBeVisible();
  await dashboard.getByLabel("Reply").fill("Right here");
  await dashboard.getByRole("button", { name: "Send" }).click();

  // The dashboard shows it scaled, loaded from our own copy.
  const sent = dashboard.getByRole("img", { name: "Right here" });
  await expect(sent).toBeVisible();
  await expect.poll(() => sent.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(2);
  expect(await sent.getAttribute("src")).toMatch(/^\/api\/attachments\/at_[0-9a-f]{52}$/);
  await expect(messageWithText(dashboard, "Right here")).toHaveAttribute("data-status", "sent");

  // The visitor sees the image and its caption.
  const shown = chat.getByRole("img", { name: "where.png" });
  await expect(shown).toBeVisible();
  await expect.poll(() => shown.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(2);
  await expect(chat.getByText("Right here")).toBeVisible();
  await shot(page, "widget-shows-an-agents-image");
});

test("a visitor attaches a file; the agent sees it; a page posing as an image is refused", async ({ page, context, workspace, site }) => {
  const dashboard = await agentOnline(context, workspace);
  await page.goto(site.page(workspace.inboxes.widget!.id));
  await page.getByRole("button", { name: "Chat with us" }).click();
  const chat = page.getByRole("dialog");
  await chat.getByRole("textbox", { name: "Message" }).fill("Here is my receipt");
  await chat.getByRole("button", { name: "Send" }).click();
  const id = await conversationWith(workspace, "Here is my receipt");
  await chat.locator('input[type="file"]').setInputFiles({ name: "fake.png", mimeType: "image/png", buffer: Buffer.from("<html><script>alert(1)</script></html>") });
  await expect(chat.getByText(/The file was not sent: .*text\/html/)).toBeVisible();
  await chat.locator('input[type="file"]').setInputFiles({ name: "receipt.png", mimeType: "image/png", buffer: PNG });

  await dashboard.goto(`${workspace.base}/conversations/${id}`);
  const img = dashboard.getByRole("img", { name: "receipt.png" });
  await expect(img).toBeVisible();
  await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.naturalWidth)).toBe(2);
});

test("a customer's photo swaps to the stored copy live; a failed copy says why", async ({ page, workspace, fake }) => {
  const psid = `psid-photo-${Date.now()}`;
  const at = (n: number) => ({ sender: { id: psid }, recipient: { id: PAGE_ID }, timestamp: Date.now() + n });
  const first = JSON.stringify({ object: "page", entry: [{ id: PAGE_ID, time: Date.now(), messaging: [
    { ...at(1), message: { mid: `${psid}-hi`, text: "Look at this" } },
  ] }] });
  expect((await workspace.signedMeta("messenger", first)).status).toBe(200);
  const id = await workspace.conversationOf(psid);
  await logIn(page, workspace, { path: `/conversations/${id}` });
  await expect(messageWithText(page, "Look at this")).toBeVisible();

  fake.serveMedia(`/cdn/${psid}.png`, "image/png", PNG);
  const photos = JSON.stringify({ object: "page", entry: [{ id: PAGE_ID, time: Date.now(), messaging: [
    { ...at(2), message: { mid: `${psid}-img`, attachments: [{ type: "image", payload: { url: `${fake.base}/cdn/${psid}.png?oe=1` } }] } },
    { ...at(3), message: { mid: `${psid}-gone`, attachments: [{ type: "image", payload: { url: `${fake.base}/cdn/expired.png` } }] } },
  ] }] });
  expect((await workspace.signedMeta("messenger", photos)).status).toBe(200);
  // Open in the timeline: the stored copy replaces the platform's link without a reload.
  const stored = page.getByRole("log").locator('[data-attachment-state="stored"] img');
  await expect(stored).toHaveAttribute("src", /^\/api\/attachments\/at_[0-9a-f]{52}$/);
  await expect.poll(() => stored.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(2);
  await expect(page.getByRole("alert").filter({ hasText: "The file could not be kept" })).toContainText("404");
});

test("a pasted or dropped file becomes the reply's attachment; it can be taken back", async ({ page, workspace, fake }) => {
  await workspace.messenger([{ psid: "psid-paste", mid: "m-paste-1", text: "Send me a screenshot" }]);
  const id = await workspace.conversationOf("psid-paste");
  await logIn(page, workspace, { path: `/conversations/${id}` });
  await expect(messageWithText(page, "Send me a screenshot")).toBeVisible();
  const box = page.getByLabel("Reply");
  const b64 = PNG.toString("base64");
  // A screenshot pasted into the reply box.
  await box.evaluate((el, data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], "pasted.png", { type: "image/png" }));
    el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
  }, b64);
  await expect(page.getByLabel("File to send: pasted.png")).toBeVisible();
  await page.getByRole("button", { name: "Remove pasted.png" }).click();
  await expect(page.getByLabel("File to send: pasted.png")).toBeHidden();
  // A file dropped on the composer, sent without a caption.
  await box.evaluate((el, data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], "dropped.png", { type: "image/png" }));
    el.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, b64);
  await expect(page.getByLabel("File to send: dropped.png")).toBeVisible();
  await page.getByRole("button", { name: "Send" }).click();
  const sent = page.getByRole("log").locator("[data-message-id]", { has: page.getByRole("img", { name: "dropped.png" }) });
  await expect(sent).toHaveAttribute("data-status", "sent");
  // Messenger got it as an image upload.
  await expect.poll(() => fake.matching("/me/messages").filter((r) => r.body.includes('"type":"image"') && r.body.includes("filedata")).length).toBe(1);
});
