// Logging in, out, and back in where an expired session left off.
import { test, expect, PASSWORD } from "../fixtures";
import { logIn, row } from "../support/dashboard";

test("an agent logs in, sees the inbox, and logs out", async ({ page, workspace }) => {
  await workspace.messenger([{ psid: "psid-login", mid: "m-login-1", text: "Hello from Messenger" }]);
  const id = await workspace.conversationOf("psid-login");
  await logIn(page, workspace);
  await expect(page).toHaveURL(/\/$/);
  await expect(row(page, id)).toContainText("Hello from Messenger");
  await page.getByRole("button", { name: "Your preferences" }).click();
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("button", { name: "Log in" })).toBeVisible();
  // The token is revoked: a reload stays on the login screen.
  await page.goto(workspace.base + "/");
  await expect(page).toHaveURL(/\/login/);
});

test("a wrong password is refused next to the form", async ({ page, workspace }) => {
  await page.goto(workspace.base + "/login");
  await page.getByLabel("Email").fill(workspace.email);
  await page.getByLabel("Password").fill(PASSWORD + "x");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toContainText("email or password is wrong");
});

test("an expired session returns to the login screen and then to the same conversation", async ({ page, workspace }) => {
  await workspace.messenger([{ psid: "psid-exp", mid: "m-exp-1", text: "Where is my order?" }]);
  const id = await workspace.conversationOf("psid-exp");
  await logIn(page, workspace);
  await page.goto(`${workspace.base}/conversations/${id}`);
  await expect(page.getByRole("log").getByText("Where is my order?")).toBeVisible();
  // The session ends on the server (as when it expires or is revoked).
  const token = await page.evaluate(() => localStorage.getItem("sb.token"));
  await workspace.raw("POST", "/api/logout", undefined, token!);
  await page.reload();
  await expect(page).toHaveURL(/\/login\?redirect=/);
  await expect(page.getByText("Your session has ended")).toBeVisible();
  await page.getByLabel("Email").fill(workspace.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(new RegExp(`/conversations/${id}$`));
  await expect(page.getByRole("log").getByText("Where is my order?")).toBeVisible();
});

test("the connection choice is remembered in this browser", async ({ page, workspace }) => {
  await logIn(page, workspace, { connection: "HTTP only" });
  await expect(page.getByRole("status").filter({ hasText: "Live (HTTP)" }).first()).toBeVisible();
  await page.getByRole("button", { name: "Your preferences" }).click();
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("radio", { name: "HTTP only" })).toBeChecked();
});

test("a new business signs up, skips the setup guide and lands in its (empty) inbox", async ({ page, server }) => {
  await page.goto(server.base + "/login");
  await page.getByRole("link", { name: "Sign up" }).click();
  await page.getByLabel("Company or team name").fill("Acme Shoes");
  await page.getByLabel("Your name").fill("Sam Owner");
  await page.getByLabel("Email").fill(`sam-${Date.now()}@example.test`);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create workspace" }).click();
  await expect(page.getByRole("heading", { name: "Welcome to Switchboard" })).toBeVisible();
  await page.getByRole("link", { name: "Skip the guide" }).click();
  await expect(page.getByText("No conversations here.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Your preferences" })).toContainText("Sam Owner");
});

test("a teammate accepts an invitation link and can work the inbox", async ({ page, workspace }) => {
  const email = `bob-${Date.now()}@example.test`;
  const inv = await workspace.api<{ token: string; url: string }>("POST", "/api/invitations", { email, role: "agent" });
  await page.goto(`${workspace.base}/invitations/accept?token=${encodeURIComponent(inv.token)}`);
  await page.getByLabel("Your name").fill("Bob Teammate");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Join" }).click();
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Your preferences" })).toContainText("Bob Teammate");
  // The same link cannot be used twice.
  await page.getByRole("button", { name: "Your preferences" }).click();
  await page.getByRole("button", { name: "Log out" }).click();
  // Logged out once the login screen shows: opening the link before that
  // raced the logout's own request and navigation.
  await expect(page.getByRole("button", { name: "Log in" })).toBeVisible();
  await page.goto(`${workspace.base}/invitations/accept?token=${encodeURIComponent(inv.token)}`);
  await page.getByLabel("Your name").fill("Mallory");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Join" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
});
