// Helpers for the dashboard's browser tests: log in through the form, and
// find the list rows and timeline messages by the attributes the benchmark
// also relies on (data-conversation-id, data-message-id, data-seq).
import { expect, type Page } from "@playwright/test";
import { PASSWORD, type Workspace } from "./workspace";

export type Connection = "Automatic" | "WebSocket only" | "HTTP only";

/** Logs in as the workspace's owner through the login form; lands in the inbox. */
export async function logIn(page: Page, ws: Workspace, opts: { connection?: Connection; path?: string } = {}): Promise<void> {
  await page.goto(ws.base + (opts.path ?? "/login"));
  await page.getByLabel("Email").fill(ws.email);
  await page.getByLabel("Password").fill(PASSWORD);
  if (opts.connection) await page.getByRole("radio", { name: opts.connection }).check();
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
}

/** The "Live (WebSocket)" badges: the feed's and, with a conversation open, its stream's. */
export const liveOverWebSocket = (page: Page) => page.getByRole("status").filter({ hasText: "Live (WebSocket)" });

export const row = (page: Page, conversationId: string) => page.locator(`[data-conversation-id="${conversationId}"]`);
export const messages = (page: Page) => page.locator("[role=log] [data-message-id]");
export const messageWithText = (page: Page, text: string) => page.locator("[role=log] [data-message-id]", { hasText: text });

/** The texts of the timeline's messages, in order. */
export async function timelineTexts(page: Page): Promise<string[]> {
  return page.locator("[role=log] [data-message-id] [data-testid=message-text]").allInnerTexts();
}
