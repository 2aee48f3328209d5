// The website widget on a customer's page: a real page on another origin
// with hostile CSS and a strict CSP embeds the snippet; a visitor chats with
// agents over WebSocket and long-poll, is monitored, is reached first by an
// agent, leaves a message when nobody is there, and cannot flood.
import crypto from "node:crypto";
import { test, expect, WIDGET_IDENTITY_SECRET, type Workspace } from "../fixtures";
import type { BrowserContext, Page } from "@playwright/test";


const inboxOf = (ws: Workspace) => ws.inboxes.widget!.id;

/** An agent's dashboard feed socket (so an agent is online), collecting what it hears. */
async function agentFeed(context: BrowserContext, ws: Workspace): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${ws.base}/healthz`);
  await page.evaluate(
    (url) =>
      new Promise<void>((resolve) => {
        const w = window as unknown as { feed: unknown[] };
        w.feed = [];
        const socket = new WebSocket(url);
        socket.onmessage = (m) => w.feed.push(JSON.parse(m.data));
        socket.onopen = () => resolve();
      }),
    `${ws.base.replace("http", "ws")}/api/live?since=0&token=${ws.token}`,
  );
  return page;
}

const feedHas = (agent: Page, text: string) =>
  agent.evaluate(
    (t) =>
      (window as unknown as { feed: any[] }).feed.some(
        (e) => e.type === "conversation" && e.conversation?.last_message?.text === t,
      ),
    text,
  );

async function conversationWith(ws: Workspace, text: string): Promise<any> {
  let found: any;
  await expect
    .poll(async () => {
      const list = await ws.api("GET", "/api/conversations?status=all");
      found = list.conversations.find((c: any) => c.last_message?.text === text);
      return !!found;
    })
    .toBe(true);
  return found;
}

test("a visitor chats from a customer's page; agents get it live; a reload continues", async ({
  page, context, workspace, site, shot,
}) => {
  await workspace.api("PATCH", `/api/inboxes/${inboxOf(workspace)}`, {
    settings: { greeting: "Hi! Ask us anything about Acme.", agents: [{ name: "Alice" }], reply_time: "minutes" },
  });
  const agent = await agentFeed(context, workspace);
  await page.goto(site.page(inboxOf(workspace)));
  // The page's own hostile CSS is in force…
  await expect(page.getByRole("button", { name: "Buy now" })).toBeHidden();
  // …and the widget's launcher shows anyway.
  const launcher = page.getByRole("button", { name: "Chat with us" });
  await expect(launcher).toBeVisible();
  await launcher.click();
  const chat = page.getByRole("dialog");
  await expect(chat).toBeVisible();
  await expect(chat.getByText("Hi! Ask us anything about Acme.")).toBeVisible();
  await expect(chat.getByText("Alice · We usually reply in a few minutes")).toBeVisible();
  await chat.getByRole("textbox", { name: "Message" }).fill("Do you ship to Norway?");
  await chat.getByRole("button", { name: "Send" }).click();
  await expect(chat.getByText("Do you ship to Norway?")).toBeVisible();
  await shot(page, "widget-open-on-page");

  // The agents: in the list (API) and on the feed (WebSocket).
  const conv = await conversationWith(workspace, "Do you ship to Norway?");
  expect(conv.channel).toBe("widget");
  await expect.poll(() => feedHas(agent, "Do you ship to Norway?")).toBe(true);

  // The agent reads it (the visitor sees "Seen") and types (the visitor
  // sees it), then replies; the visitor sees the reply live.
  await workspace.api("POST", `/api/conversations/${conv.id}/read`, { seq: conv.last_seq });
  await expect(chat.getByText("Seen")).toBeVisible();
  await agent.evaluate(
    (url) =>
      new Promise<void>((resolve) => {
        const socket = new WebSocket(url);
        socket.onopen = () => {
          socket.send(JSON.stringify({ type: "typing" }));
          resolve();
        };
      }),
    `${workspace.base.replace("http", "ws")}/api/conversations/${conv.id}/live?since=0&token=${workspace.token}`,
  );
  await expect(chat.getByText("typing…")).toBeVisible();
  await workspace.api("POST", `/api/conversations/${conv.id}/messages`, { text: "Yes, in 3 days." });
  await expect(chat.getByText("Yes, in 3 days.")).toBeVisible();

  // The visitor is monitored: page URL and title.
  const visitors = await workspace.api("GET", "/api/visitors");
  const me = visitors.visitors.find((v: any) => v.conversation_id === conv.id);
  expect(me.visit.url).toContain("/pricing");
  expect(me.visit.title).toBe("Acme Shop — Pricing");
  expect(me.status).toBe("online");

  // A reload continues the same conversation.
  await page.reload();
  await page.getByRole("button", { name: "Chat with us" }).click();
  await expect(page.getByRole("dialog").getByText("Do you ship to Norway?")).toBeVisible();
  await expect(page.getByRole("dialog").getByText("Yes, in 3 days.")).toBeVisible();
  await page.getByRole("dialog").getByRole("textbox", { name: "Message" }).fill("Great, thanks");
  await page.getByRole("dialog").getByRole("button", { name: "Send" }).click();
  const again = await conversationWith(workspace, "Great, thanks");
  expect(again.id).toBe(conv.id);

  // widget.js is cached briefly (the snippet never changes its URL).
  const script = await page.request.get(`${workspace.base}/widget.js`);
  expect(script.headers()["cache-control"]).toContain("max-age=300");

  // The page closes: the visitor goes offline.
  await page.close();
  await expect
    .poll(async () => (await workspace.api("GET", "/api/visitors")).visitors.length)
    .toBe(0);
});

test("with WebSockets blocked, the long-poll fallback carries messages both ways", async ({
  page, context, workspace, site,
}) => {
  await agentFeed(context, workspace);
  let socketsTried = 0;
  await page.routeWebSocket(/\/api\/widget\/live/, (ws) => {
    socketsTried++;
    ws.close();
  });
  await page.goto(site.page(inboxOf(workspace)));
  await page.getByRole("button", { name: "Chat with us" }).click();
  const chat = page.getByRole("dialog");
  await chat.getByRole("textbox", { name: "Message" }).fill("Hello over HTTP");
  await chat.getByRole("button", { name: "Send" }).click();
  const conv = await conversationWith(workspace, "Hello over HTTP");
  await workspace.api("POST", `/api/conversations/${conv.id}/messages`, { text: "Answered by long-poll" });
  await expect(chat.getByText("Answered by long-poll")).toBeVisible();
  expect(socketsTried).toBeGreaterThan(0);
});

test("an agent's proactive message opens the widget for a visitor who has not written", async ({
  page, workspace, site,
}) => {
  await page.goto(site.page(inboxOf(workspace), "Acme Shop — Checkout"));
  await expect(page.getByRole("button", { name: "Chat with us" })).toBeVisible();
  let visitor: any;
  await expect
    .poll(async () => {
      visitor = (await workspace.api("GET", "/api/visitors")).visitors[0];
      return visitor?.visit?.title;
    })
    .toBe("Acme Shop — Checkout");
  expect(visitor.conversation_started).toBe(false);
  await expect(page.getByRole("dialog")).toBeHidden();
  await workspace.api("POST", `/api/conversations/${visitor.conversation_id}/messages`, {
    text: "Need a hand with checkout?",
  });
  const chat = page.getByRole("dialog");
  await expect(chat).toBeVisible();
  await expect(chat.getByText("Need a hand with checkout?")).toBeVisible();
  await expect(chat.getByRole("textbox", { name: "Message" })).toBeVisible();
});

test("outside business hours with no agent online, the leave-a-message form creates an offline conversation", async ({
  page, workspace, site,
}) => {
  await workspace.api("PATCH", `/api/inboxes/${inboxOf(workspace)}`, {
    settings: {
      business_hours: { time_zone: "Europe/Oslo", weekly: [] },
      offline_message: "We are closed right now. Leave a message!",
    },
  });
  await page.goto(site.page(inboxOf(workspace)));
  await page.getByRole("button", { name: "Chat with us" }).click();
  const chat = page.getByRole("dialog");
  await expect(chat.getByText("We are closed right now. Leave a message!")).toBeVisible();
  await expect(chat.getByRole("textbox", { name: "Message" })).toBeVisible();
  await chat.getByLabel("Name").fill("Kari");
  await chat.getByLabel("Email").fill("kari@example.test");
  await chat.getByRole("textbox", { name: "Message" }).fill("Please call me tomorrow");
  await chat.getByRole("button", { name: "Send message" }).click();
  await expect(chat.getByText("Thanks! We'll get back to you.")).toBeVisible();
  await expect
    .poll(async () => (await workspace.api("GET", "/api/conversations?offline=true")).conversations.length)
    .toBe(1);
  const [left] = (await workspace.api("GET", "/api/conversations?offline=true")).conversations;
  expect(left.last_message.text).toBe("Please call me tomorrow");
  expect(left.contact.email).toBe("kari@example.test");
});

test("a page on an origin the inbox does not allow gets no session", async ({ page, workspace, site }) => {
  await workspace.api("PATCH", `/api/inboxes/${inboxOf(workspace)}`, {
    settings: { allowed_origins: ["https://shop.example"] },
  });
  const sessions: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("/session")) sessions.push(r.url());
  });
  // The config answer is a 403 without CORS headers: the browser fails the request.
  const refused = page.waitForEvent("requestfailed", (r) => r.url().includes("/config"));
  await page.goto(site.page(inboxOf(workspace)));
  await refused;
  const direct = await page.request.get(`${workspace.base}/api/widget/${inboxOf(workspace)}/config`, {
    headers: { origin: site.base },
  });
  expect(direct.status()).toBe(403);
  expect(direct.headers()["access-control-allow-origin"]).toBeUndefined();
  await expect(page.getByRole("heading", { name: "Acme Shop" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Chat with us" })).toHaveCount(0);
  expect(sessions).toEqual([]);
  // Even a script on that page calling the API directly is refused.
  const status = await page.evaluate(
    (url) => fetch(url, { method: "POST", body: "{}" }).then((r) => r.status, () => 0),
    `${workspace.base}/api/widget/${inboxOf(workspace)}/session`,
  );
  expect(status).toBe(0); // a 403 without CORS headers: the page cannot even read it
  expect((await workspace.api("GET", "/api/visitors")).visitors).toEqual([]);
});

test("flooding messages gets 429 with Retry-After and nothing else breaks", async ({
  page, context, workspace, site,
}) => {
  await agentFeed(context, workspace);
  await page.goto(site.page(inboxOf(workspace)));
  await page.getByRole("button", { name: "Chat with us" }).click();
  const chat = page.getByRole("dialog");
  await chat.getByRole("textbox", { name: "Message" }).fill("Before the flood");
  await chat.getByRole("button", { name: "Send" }).click();
  const conv = await conversationWith(workspace, "Before the flood");
  const inbox = inboxOf(workspace);
  const outcome = await page.evaluate(
    async ({ base, inbox }) => {
      const { token } = JSON.parse(localStorage.getItem(`switchboard:${inbox}`) ?? "{}");
      const codes: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 30; i++) {
        const r = await fetch(`${base}/api/widget/messages`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ text: `flood ${i}`, client_id: `flood-${i}` }),
        });
        codes.push(r.status);
        if (r.status === 429) retryAfter = r.headers.get("retry-after");
      }
      return { codes, retryAfter };
    },
    { base: workspace.base, inbox },
  );
  expect(outcome.codes).toContain(429);
  expect(outcome.codes.filter((c) => c !== 201 && c !== 429)).toEqual([]);
  expect(Number(outcome.retryAfter)).toBeGreaterThan(0);
  // The agents and the widget still work: a reply arrives live.
  await workspace.api("POST", `/api/conversations/${conv.id}/messages`, { text: "Still here for you" });
  await expect(chat.getByText("Still here for you")).toBeVisible();
  const list = await workspace.api("GET", "/api/conversations");
  expect(list.conversations.length).toBe(1);
});

test.describe("in Chinese", () => {
  test.use({ locale: "zh-CN" });
  test("the widget speaks the visitor's browser language", async ({ page, workspace, site }) => {
    await page.goto(site.page(inboxOf(workspace)));
    await page.getByRole("button", { name: "与我们聊天" }).click();
    await expect(page.getByRole("dialog").getByRole("textbox", { name: "消息" })).toBeVisible();
  });
});

test("the page's API: identify a signed-in customer, open and close, message events", async ({
  page, workspace, site,
}) => {
  const userHash = crypto.createHmac("sha256", WIDGET_IDENTITY_SECRET).update("customer-7").digest("hex");
  await page.goto(site.page(inboxOf(workspace)));
  await expect(page.getByRole("button", { name: "Chat with us" })).toBeVisible();
  const identified = await page.evaluate(
    async (hash) => {
      const sb = (window as any).Switchboard;
      (window as any).received = [];
      sb.on("message:received", (m: unknown) => (window as any).received.push(m));
      const ok = await sb.identify({ user_id: "customer-7", user_hash: hash, name: "Per", email: "per@example.test" });
      sb.open();
      return ok;
    },
    userHash,
  );
  expect(identified).toBe(true);
  const chat = page.getByRole("dialog");
  await chat.getByRole("textbox", { name: "Message" }).fill("Where is my order?");
  await chat.getByRole("button", { name: "Send" }).click();
  const conv = await conversationWith(workspace, "Where is my order?");
  expect(conv.contact.external_id).toBe("user:customer-7");
  expect(conv.contact.name).toBe("Per");
  await workspace.api("POST", `/api/conversations/${conv.id}/messages`, { text: "On its way" });
  await expect(chat.getByText("On its way")).toBeVisible();
  expect(await page.evaluate(() => (window as any).received)).toEqual([{ text: "On its way" }]);
  await page.evaluate(() => (window as any).Switchboard.close());
  await expect(chat).toBeHidden();
  // A wrong hash is refused.
  expect(
    await page.evaluate(() => (window as any).Switchboard.identify({ user_id: "customer-8", user_hash: "00" })),
  ).toBe(false);
});

test("a message typed while offline is sent once when the network returns", async ({
  page, context, workspace, site,
}) => {
  await agentFeed(context, workspace);
  await page.goto(site.page(inboxOf(workspace)));
  await page.getByRole("button", { name: "Chat with us" }).click();
  const chat = page.getByRole("dialog");
  await expect(chat.getByRole("textbox", { name: "Message" })).toBeVisible();
  await context.setOffline(true);
  await chat.getByRole("textbox", { name: "Message" }).fill("Typed in a tunnel");
  await chat.getByRole("button", { name: "Send" }).click();
  await expect(chat.getByText("Sending…")).toBeVisible();
  await context.setOffline(false);
  await expect(chat.getByText("Sending…")).toBeHidden({ timeout: 20_000 });
  const conv = await conversationWith(workspace, "Typed in a tunnel");
  const { messages } = await workspace.api("GET", `/api/conversations/${conv.id}/messages`);
  expect(messages.filter((m: any) => m.text === "Typed in a tunnel")).toHaveLength(1);
});

test("an inbox with a pre-chat form asks name and email before the first message", async ({
  page, context, workspace, site,
}) => {
  await workspace.api("PATCH", `/api/inboxes/${inboxOf(workspace)}`, {
    settings: { prechat: "name_email", launcher_text: "Talk to Acme", position: "left", color: "#0f766e" },
  });
  await agentFeed(context, workspace);
  await page.goto(site.page(inboxOf(workspace)));
  await page.getByRole("button", { name: "Talk to Acme" }).click();
  const chat = page.getByRole("dialog");
  await expect(chat.getByRole("textbox", { name: "Message" })).toBeHidden();
  await chat.getByLabel("Name").fill("Ingrid");
  await chat.getByLabel("Email").fill("ingrid@example.test");
  await chat.getByRole("button", { name: "Start chat" }).click();
  await chat.getByRole("textbox", { name: "Message" }).fill("Hello from the pre-chat form");
  await chat.getByRole("button", { name: "Send" }).click();
  const conv = await conversationWith(workspace, "Hello from the pre-chat form");
  expect(conv.contact.name).toBe("Ingrid");
  expect(conv.contact.email).toBe("ingrid@example.test");
  // The launcher sits on the left, as configured.
  const box = await page.getByRole("button", { name: "Talk to Acme" }).boundingBox();
  expect(box!.x).toBeLessThan(100);
});
