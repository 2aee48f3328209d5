// No long-lived credential in a URL: the dashboard and the widget open
// their sockets with single-use tickets and long-poll with headers, so
// neither the session token nor the visitor token is ever in a request URL
// (proxy logs, history), over WebSocket or HTTP.
import { test, expect, type Workspace } from "./fixtures";
import type { Page } from "@playwright/test";
import { logIn, liveOverWebSocket, messageWithText } from "./support/dashboard";


/** Every URL the page requests, sockets included. */
function recordUrls(page: Page): { all: string[]; sockets: string[] } {
  const seen = { all: [] as string[], sockets: [] as string[] };
  page.on("request", (r) => seen.all.push(r.url()));
  page.on("websocket", (ws) => {
    seen.all.push(ws.url());
    seen.sockets.push(ws.url());
  });
  return seen;
}

/** The tokens the page holds in localStorage (session and visitor tokens are `v1.<claims>.<mac>`). */
async function storedTokens(page: Page): Promise<string[]> {
  const dump = await page.evaluate(() => Object.values(localStorage).join("\n"));
  return dump.match(/v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g) ?? [];
}

function expectNoToken(urls: string[], tokens: string[]): void {
  expect(tokens.length).toBeGreaterThan(0);
  for (const url of urls) {
    expect(url).not.toMatch(/[?&]token=/);
    for (const t of tokens) expect(url, url).not.toContain(t);
  }
}

test("the dashboard's sockets and long-polls carry no token in their URLs", async ({ page, workspace }) => {
  const urls = recordUrls(page);
  await workspace.messenger([{ psid: "psid-url", mid: "m-url-1", text: "url check" }]);
  const id = await workspace.conversationOf("psid-url");
  await logIn(page, workspace, { path: `/conversations/${id}` });
  await expect(messageWithText(page, "url check")).toBeVisible();
  await expect(liveOverWebSocket(page).first()).toBeVisible();
  // A message after the sockets opened arrives through them.
  await workspace.messenger([{ psid: "psid-url", mid: "m-url-2", text: "url check 2" }]);
  await expect(messageWithText(page, "url check 2")).toBeVisible();
  // The feed's and the conversation's sockets, each with its own ticket.
  await expect.poll(() => urls.sockets.length).toBeGreaterThanOrEqual(2);
  const tickets = urls.sockets.map((u) => new URL(u).searchParams.get("ticket"));
  expect(tickets.every((t) => !!t)).toBe(true);
  expect(new Set(tickets).size).toBe(tickets.length);
  // No cookie carries the token to the API or a socket: only stored files' path gets one (an <img> sends no header).
  const cookies = await page.context().cookies();
  expect(cookies.map((c) => c.name)).not.toContain("sb_session");
  for (const c of cookies.filter((c) => c.name === "sb_files")) expect([c.path, c.sameSite]).toEqual(["/api/attachments", "Strict"]);
  expectNoToken(urls.all, [...(await storedTokens(page)), workspace.token]);
});

test("the dashboard over HTTP only: long-polls authenticate with a header", async ({ page, workspace }) => {
  const urls = recordUrls(page);
  await workspace.messenger([{ psid: "psid-poll", mid: "m-poll-1", text: "poll check" }]);
  const id = await workspace.conversationOf("psid-poll");
  await logIn(page, workspace, { connection: "HTTP only", path: `/conversations/${id}` });
  await expect(page.getByRole("status").filter({ hasText: "Live (HTTP)" }).first()).toBeVisible();
  await workspace.messenger([{ psid: "psid-poll", mid: "m-poll-2", text: "poll check 2" }]);
  await expect(messageWithText(page, "poll check 2")).toBeVisible();
  expect(urls.all.some((u) => u.includes("/api/feed?"))).toBe(true);
  expect(urls.sockets).toEqual([]);
  expectNoToken(urls.all, [...(await storedTokens(page)), workspace.token]);
});

const inboxOf = (ws: Workspace) => ws.inboxes.widget!.id;

test("the widget's socket carries a ticket, never the visitor token", async ({ page, context, workspace, site }) => {
  // An agent online (the test's own feed socket, on another page), so the
  // widget offers chat rather than the leave-a-message form.
  const agent = await context.newPage();
  await agent.goto(`${workspace.base}/healthz`);
  await agent.evaluate(
    (url) => new Promise<void>((resolve) => (new WebSocket(url).onopen = () => resolve())),
    `${workspace.base.replace("http", "ws")}/api/live?since=0&token=${workspace.token}`,
  );
  const urls = recordUrls(page);
  await page.goto(site.page(inboxOf(workspace)));
  await page.getByRole("button", { name: "Chat with us" }).click();
  const chat = page.getByRole("dialog");
  await chat.getByRole("textbox", { name: "Message" }).fill("Is my token safe?");
  await chat.getByRole("button", { name: "Send" }).click();
  let conv: any;
  await expect
    .poll(async () => {
      const list = await workspace.api("GET", "/api/conversations?status=all");
      conv = list.conversations.find((c: any) => c.last_message?.text === "Is my token safe?");
      return !!conv;
    })
    .toBe(true);
  await workspace.api("POST", `/api/conversations/${conv.id}/messages`, { text: "It stays in headers." });
  await expect(chat.getByText("It stays in headers.")).toBeVisible();
  await expect.poll(() => urls.sockets.length).toBeGreaterThanOrEqual(1);
  expect(urls.sockets.every((u) => new URL(u).searchParams.get("ticket"))).toBe(true);
  expectNoToken(urls.all, await storedTokens(page));
});
