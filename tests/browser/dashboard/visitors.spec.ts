// Online visitors, live, and a proactive chat started from that page.
import { test, expect } from "../fixtures";
import { logIn, messageWithText } from "../support/dashboard";
import { visitorSession, visitorSocket, visitorFrames, visitorVisits } from "../support/visitor";

test("an online visitor appears live and Start chat writes to them", async ({ page, browser, workspace }) => {
  await logIn(page, workspace);
  await page.getByRole("link", { name: "Visitors" }).click();
  await expect(page.getByText("No visitors on your website right now.")).toBeVisible();

  // A visitor who has not written: the widget reports the page they are on.
  const v = await visitorSession(workspace, "Walter Web");
  await visitorVisits(workspace, v, "https://shop.example/jackets", "Winter jackets");
  const visitor = await browser.newPage();
  await visitorSocket(visitor, workspace.base, v);
  const entry = page.locator(`[data-conversation-id="${v.conversation_id}"]`);
  await expect(entry).toContainText("Winter jackets");
  await expect(entry).toContainText("en-GB, Europe/London");
  await entry.getByRole("button", { name: "Start chat" }).click();
  await entry.getByLabel("Reply").fill("Hello Walter, can I help you find something?");
  await entry.getByRole("button", { name: "Send" }).click();
  await expect(page).toHaveURL(new RegExp(`/conversations/${v.conversation_id}$`));
  await expect(messageWithText(page, "Hello Walter, can I help you find something?")).toBeVisible();
  await expect
    .poll(async () => (await visitorFrames(visitor)).some((f) => f?.type === "message_created" && f?.message?.text?.startsWith("Hello Walter")))
    .toBe(true);

  // The visitor leaves: they leave the list too.
  await visitor.close();
  await page.getByRole("link", { name: "Visitors" }).click();
  await expect(page.locator(`[data-conversation-id="${v.conversation_id}"]`)).toHaveCount(0);
});

test("the offline filter lists conversations left with the leave-a-message form", async ({ page, workspace }) => {
  const v = await visitorSession(workspace, "Olive Offline");
  const r = await fetch(`${workspace.base}/api/widget/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${v.token}` },
    body: JSON.stringify({ text: "Please call me back tomorrow", email: "olive@example.test", name: "Olive Offline", offline: true, client_id: "offline-1" }),
  });
  expect(r.status).toBeLessThan(300);
  await workspace.messenger([{ psid: "psid-online", mid: "m-on-1", text: "An ordinary chat" }]);
  const other = await workspace.conversationOf("psid-online");
  await logIn(page, workspace);
  await expect(page.locator(`[data-conversation-id="${v.conversation_id}"]`)).toBeVisible();
  await page.getByRole("checkbox", { name: "Left offline (leave-a-message)" }).check();
  await expect(page.locator(`[data-conversation-id="${v.conversation_id}"]`)).toContainText("Please call me back tomorrow");
  await expect(page.locator(`[data-conversation-id="${other}"]`)).toHaveCount(0);
});
