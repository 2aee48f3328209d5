// The guide after sign-up: name the workspace, connect a Telegram bot (its
// webhook reaches the fake Telegram with the secret token), invite a
// teammate (a link to copy), send a test message and open it.
import { test, expect, unique, BOT_TOKEN, PASSWORD } from "../fixtures";
import { messageWithText } from "../support/dashboard";

test("sign up and walk the onboarding guide", async ({ page, server, fake, shot }) => {
  await page.goto(server.base + "/signup");
  await page.getByLabel("Company or team name", { exact: true }).fill("Guide Test");
  await page.getByLabel("Your name", { exact: true }).fill("Olga Owner");
  await page.getByLabel("Email", { exact: true }).fill(`guide-${unique()}@example.test`);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Create workspace" }).click();
  await expect(page).toHaveURL(/\/welcome$/);
  await expect(page.getByRole("heading", { name: "Welcome to Switchboard" })).toBeVisible();

  // 1. The workspace's name: checked in the browser, then saved.
  const name = page.getByLabel("Workspace name", { exact: true });
  await expect(name).toHaveValue("Guide Test");
  await name.fill("  ");
  await page.getByRole("button", { name: "Save and continue" }).click();
  await expect(page.getByText("The name must be 1 to 100 characters.")).toBeVisible();
  await name.fill("Ada's Shop");
  await page.getByRole("button", { name: "Save and continue" }).click();

  // 2. A Telegram bot: nothing to paste, the webhook registers itself.
  await expect(page.getByRole("heading", { name: "Connect a channel" })).toBeVisible();
  await page.getByRole("radio", { name: /^Telegram/ }).check();
  await page.getByLabel("Bot token", { exact: true }).fill("not a token");
  await page.getByRole("button", { name: "Create inbox" }).click();
  await expect(page.getByText("A bot token looks like 123456:ABC-DEF…")).toBeVisible();
  await page.getByLabel("Bot token", { exact: true }).fill(BOT_TOKEN);
  const secret = await page.getByLabel("Webhook secret token", { exact: true }).inputValue();
  expect(secret).toMatch(/^[0-9a-f]{48}$/);
  const before = fake.webhooks().length;
  await page.getByRole("button", { name: "Create inbox" }).click();
  await expect(page.getByText("Telegram is connected.")).toBeVisible();
  await expect(page.getByText(/the webhook is registered with the secret token/)).toBeVisible();
  const registered = fake.webhooks().slice(before);
  expect(registered).toHaveLength(1);
  expect(registered[0]!.secret_token).toBe(secret);
  expect(registered[0]!.url).toBe(await page.getByLabel("Webhook URL", { exact: true }).inputValue());
  expect(registered[0]!.url).toMatch(new RegExp(`^${server.base}/webhooks/telegram/in_[0-9a-f]+$`));
  await page.getByRole("button", { name: "Continue" }).click();

  // 3. A teammate: the invitation's link, with a copy button.
  await page.getByLabel("Their email", { exact: true }).fill("not-an-email");
  await page.getByRole("button", { name: "Create the invitation" }).click();
  await expect(page.getByText("Enter an email address like name@example.com.")).toBeVisible();
  await page.getByLabel("Their email", { exact: true }).fill(`mate-${unique()}@example.test`);
  await page.getByRole("button", { name: "Create the invitation" }).click();
  await expect(page.getByLabel("Invitation link", { exact: true })).toHaveValue(/token=inv_[0-9a-f]+/);
  await expect(page.getByRole("button", { name: "Copy Invitation link" })).toBeVisible();
  await shot(page, "onboarding");
  await page.getByRole("button", { name: "Continue" }).click();

  // 4. A test message arrives and opens like a customer's.
  await page.getByRole("button", { name: "Send a test message", exact: true }).click();
  await expect(page.getByText("The test message arrived.")).toBeVisible();
  await page.getByRole("link", { name: "Open the conversation" }).click();
  await expect(page).toHaveURL(/\/conversations\//);
  await expect(messageWithText(page, "Hello! This is a test message from Switchboard's setup.")).toBeVisible();

  // The name was saved: the server says so.
  const token = await page.evaluate(() => localStorage.getItem("sb.token"));
  const ws = await (await fetch(`${server.base}/api/workspace`, { headers: { authorization: `Bearer ${token}` } })).json();
  expect(ws.name).toBe("Ada's Shop");
});

test("the guide can be skipped and opened again from settings", async ({ page, server }) => {
  await page.goto(server.base + "/signup");
  await page.getByLabel("Company or team name", { exact: true }).fill("Skipper");
  await page.getByLabel("Your name", { exact: true }).fill("Sam");
  await page.getByLabel("Email", { exact: true }).fill(`skip-${unique()}@example.test`);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Create workspace" }).click();
  await expect(page).toHaveURL(/\/welcome$/);
  await page.getByRole("link", { name: "Skip the guide" }).click();
  await expect(page).toHaveURL(`${server.base}/`);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Inboxes" }).click();
  await expect(page).toHaveURL(/\/settings\/inboxes$/);
  await expect(page.getByText("No inboxes yet.", { exact: false })).toBeVisible();
  await page.getByRole("link", { name: "Open the setup guide" }).click();
  await expect(page.getByRole("heading", { name: "Name your workspace" })).toBeVisible();
});
