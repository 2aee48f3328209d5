// Settings → Inboxes against the real worker and the fake platforms:
// Messenger's webhook URL and verify token read from the page (and they
// pass Meta's handshake), Telegram's setWebhook with the secret token, Test
// connection's success and the platform's own refusal, secrets rotated and
// masked, deletion that keeps history, the widget's live preview, and a
// test message arriving in the inbox.
import { test, expect, unique, APP_SECRET, BOT_TOKEN, PAGE_ID, PAGE_TOKEN } from "../fixtures";
import { logIn, row } from "../support/dashboard";

test("create a Messenger inbox, read its webhook URL and verify token, test, rotate, delete", async ({ page, workspace, shot }) => {
  await logIn(page, workspace, { path: "/settings/inboxes" });
  await page.getByRole("button", { name: "New inbox" }).click();
  await expect(page.getByRole("radio", { name: /^Messenger/ })).toBeChecked();
  await page.getByLabel("Inbox name", { exact: true }).fill("Shop page");
  await page.getByLabel("Page ID", { exact: true }).fill("my-page");
  await page.getByLabel("App secret", { exact: true }).fill(APP_SECRET);
  await page.getByLabel("Page access token", { exact: true }).fill(PAGE_TOKEN);
  await page.getByRole("button", { name: "Create inbox" }).click();
  await expect(page.getByText("Digits only.")).toBeVisible();
  await page.getByLabel("Page ID", { exact: true }).fill(PAGE_ID);
  const verifyToken = await page.getByLabel("Verify token", { exact: true }).inputValue();
  await page.getByRole("button", { name: "Create inbox" }).click();
  await expect(page).toHaveURL(/\/settings\/inboxes\/in_[0-9a-f]+\?created=1$/);
  const id = page.url().match(/(in_[0-9a-f]+)/)![1]!;

  // The exact values to paste into Meta, each with a copy button.
  const webhookUrl = page.getByLabel("Webhook URL", { exact: true });
  await expect(webhookUrl).toHaveValue(`${workspace.base}/webhooks/messenger/${id}`);
  await expect(page.getByRole("textbox", { name: "Verify token" }).first()).toHaveValue(verifyToken);
  await expect(page.getByRole("button", { name: "Copy Webhook URL" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Copy Verify token" })).toBeVisible();
  // What the page says passes Meta's own handshake.
  const handshake = await fetch(`${await webhookUrl.inputValue()}?hub.mode=subscribe&hub.verify_token=${encodeURIComponent(verifyToken)}&hub.challenge=4242`);
  expect(await handshake.text()).toBe("4242");

  // Test connection: the fake Graph API knows the page token.
  await page.getByRole("button", { name: "Test connection" }).click();
  await expect(page.getByText("Connected: the platform knows these credentials (Browser Test Page (1000001)).")).toBeVisible();

  // Secrets are masked; rotating one saves it and hides it again.
  await expect(page.getByLabel("Page access token, saved", { exact: true })).toHaveText(`…${PAGE_TOKEN.slice(-4)}`);
  await page.getByRole("button", { name: "Rotate Page access token" }).click();
  await page.getByLabel("New Page access token", { exact: true }).fill("EAAG-revoked-token");
  await page.getByRole("button", { name: "Save", exact: true }).last().click();
  await expect(page.getByText("Rotated. The new value is saved and hidden.")).toBeVisible();
  await expect(page.getByLabel("Page access token, saved", { exact: true })).toHaveText("…oken");
  await expect(page.getByLabel("New Page access token", { exact: true })).toHaveCount(0);
  // Graph refuses the new token: its own words show.
  await page.getByRole("button", { name: "Test connection" }).click();
  await expect(page.getByRole("alert")).toContainText("The platform refused: the platform answered 401: Invalid OAuth access token - Cannot parse access token (code 190)");

  // Auto-assign is an option of the inbox.
  await page.getByRole("switch", { name: "Assign automatically" }).check();
  await page.getByRole("button", { name: "Save", exact: true }).first().click();
  await expect(page.getByText("Saved.")).toBeVisible();
  const saved = await workspace.api("GET", `/api/inboxes/${id}`);
  expect(saved.options.auto_assign).toBe(true);

  await page.getByRole("link", { name: "← Inboxes" }).click();
  await expect(page.getByRole("list", { name: "Inboxes" }).getByRole("link", { name: /Shop page/ })).toBeVisible();
  await shot(page, "settings-inboxes");

  // Deleting says what stays, and the list no longer has it.
  await page.getByRole("list", { name: "Inboxes" }).getByRole("link", { name: /Shop page/ }).click();
  await page.getByRole("button", { name: "Delete this inbox" }).click();
  await expect(page.getByRole("alertdialog")).toContainText("Its conversations and their whole history stay");
  await page.getByRole("button", { name: "Delete inbox" }).click();
  await expect(page).toHaveURL(/\/settings\/inboxes$/);
  await expect(page.getByRole("list", { name: "Inboxes" }).getByRole("link", { name: /Shop page/ })).toHaveCount(0);
  expect((await workspace.raw("GET", `/api/inboxes/${id}`)).status).toBe(404);
});

test("a Telegram inbox registers its webhook with the secret token; a refused token shows Telegram's reason and a retry", async ({ page, workspace, fake }) => {
  await logIn(page, workspace, { path: "/settings/inboxes" });
  await page.getByRole("button", { name: "New inbox" }).click();
  await page.getByRole("radio", { name: /^Telegram/ }).check();
  await page.getByLabel("Inbox name", { exact: true }).fill("Support bot");
  await page.getByLabel("Bot token", { exact: true }).fill(BOT_TOKEN);
  const secret = await page.getByLabel("Webhook secret token", { exact: true }).inputValue();
  const before = fake.webhooks().length;
  await page.getByRole("button", { name: "Create inbox" }).click();
  await expect(page.getByText(/the webhook is registered with the secret token/)).toBeVisible();
  const id = page.url().match(/(in_[0-9a-f]+)/)![1]!;
  const calls = fake.webhooks().slice(before);
  expect(calls).toEqual([{ token: BOT_TOKEN, url: `${workspace.base}/webhooks/telegram/${id}`, secret_token: secret }]);
  await page.getByRole("button", { name: "Test connection" }).click();
  await expect(page.getByText("Connected: the platform knows these credentials (@fake_bot).")).toBeVisible();

  // A bot token Telegram does not know: the inbox is made, with the reason.
  const refused = `999${Math.floor(Math.random() * 1e6)}:refused-${unique()}`;
  await page.getByRole("link", { name: "← Inboxes" }).click();
  await page.getByRole("button", { name: "New inbox" }).click();
  await page.getByRole("radio", { name: /^Telegram/ }).check();
  await page.getByLabel("Inbox name", { exact: true }).fill("Unknown bot");
  await page.getByLabel("Bot token", { exact: true }).fill(refused);
  await page.getByRole("button", { name: "Create inbox" }).click();
  await expect(page.getByText("Telegram did not take the webhook yet.", { exact: false })).toBeVisible();
  await expect(page.getByText("Telegram answered 401: Unauthorized")).toBeVisible();
  await page.getByRole("button", { name: "Test connection" }).click();
  await expect(page.getByRole("alert")).toContainText("The platform refused: Telegram answered 401: Unauthorized");
  // Once Telegram knows the bot, Retry registers it.
  fake.acceptToken(refused);
  await page.getByRole("button", { name: "Retry registering the webhook" }).click();
  await expect(page.getByText(/the webhook is registered with the secret token/)).toBeVisible();
  expect(fake.webhooks().at(-1)!.token).toBe(refused);
});

test("the widget's live preview follows the unsaved settings, which save", async ({ page, workspace, shot }) => {
  const widget = workspace.inboxes.widget!;
  await logIn(page, workspace, { path: `/settings/inboxes/${widget.id}` });
  const preview = page.frameLocator('iframe[title="Live preview"]');
  const launcher = preview.getByRole("button", { name: "Chat with us" });
  await expect(launcher).toHaveCSS("background-color", "rgb(37, 99, 235)");
  await expect(preview.getByRole("dialog", { name: "Website" })).toBeVisible();

  await page.getByLabel("Color (hex)", { exact: true }).fill("#16a34a");
  await expect(launcher).toHaveCSS("background-color", "rgb(22, 163, 74)");
  await page.getByLabel("Launcher text", { exact: true }).fill("Talk to us");
  await expect(preview.getByRole("button", { name: "Talk to us" })).toBeVisible();
  await page.getByLabel("Pre-chat form", { exact: true }).selectOption("name_email");
  await expect(preview.getByLabel("Email", { exact: true })).toBeVisible();
  await page.getByLabel("Offline message", { exact: true }).fill("We are away until Monday.");
  await page.getByLabel("Show as closed", { exact: true }).check();
  await expect(preview.getByText("We are away until Monday.")).toBeVisible();

  // Checked in the browser: nothing is saved while a field is wrong.
  await page.getByLabel("Allowed origins", { exact: true }).fill("shop.example");
  await page.getByRole("button", { name: "Save widget settings" }).click();
  await expect(page.getByText("shop.example is not an origin like https://shop.example.")).toBeVisible();
  // The server's own reason lands beside the field it names.
  await page.getByLabel("Allowed origins", { exact: true }).fill("https://shop.example\nhttp://localhost:3000");
  await page.getByLabel("Only open during business hours", { exact: true }).check();
  await page.getByLabel("Time zone", { exact: true }).fill("Mars Olympus");
  await page.getByRole("button", { name: "Save widget settings" }).click();
  await expect(page.getByText("settings.business_hours.time_zone must be a time zone like Europe/Berlin")).toBeVisible();
  expect((await workspace.api("GET", `/api/inboxes/${widget.id}`)).settings.business_hours ?? null).toBeNull();
  await page.getByLabel("Time zone", { exact: true }).fill("Europe/Berlin");
  await page.getByLabel("HTTP-only mode", { exact: true }).check();
  await page.getByRole("button", { name: "Save widget settings" }).click();
  await expect(page.getByText("Saved.")).toBeVisible();
  const saved = await workspace.api("GET", `/api/inboxes/${widget.id}`);
  expect(saved.settings).toMatchObject({
    color: "#16a34a",
    launcher_text: "Talk to us",
    prechat: "name_email",
    offline_message: "We are away until Monday.",
    allowed_origins: ["https://shop.example", "http://localhost:3000"],
    http_only: true,
    business_hours: { time_zone: "Europe/Berlin", weekly: [{ day: "mon", from: "09:00", to: "17:00" }, { day: "tue", from: "09:00", to: "17:00" }, { day: "wed", from: "09:00", to: "17:00" }, { day: "thu", from: "09:00", to: "17:00" }, { day: "fri", from: "09:00", to: "17:00" }] },
  });
  await expect(page.getByLabel("Snippet", { exact: true })).toHaveValue(`<script src="${workspace.base}/widget.js" data-inbox="${widget.id}" async></script>`);
  await page.getByRole("heading", { name: "Appearance" }).scrollIntoViewIfNeeded();
  await shot(page, "settings-widget");
});

test("a test message arrives live in the inbox", async ({ page, workspace }) => {
  const messenger = workspace.inboxes.messenger!;
  await logIn(page, workspace, { path: `/settings/inboxes/${messenger.id}` });
  await page.getByRole("button", { name: "Send a test message", exact: true }).click();
  await expect(page.getByText("The test message arrived.")).toBeVisible();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Inbox" }).click();
  const list = await workspace.api<{ conversations: any[] }>("GET", "/api/conversations?limit=100");
  const test = list.conversations.find((c) => c.contact?.external_id === "switchboard-test");
  expect(test?.inbox_id).toBe(messenger.id);
  await expect(row(page, test.id)).toContainText("Hello! This is a test message from Switchboard's setup.");
  // A second one arrives while the list is open, without a reload.
  await workspace.api("POST", `/api/inboxes/${messenger.id}/test_message`, { text: "Second test, live" });
  await expect(row(page, test.id)).toContainText("Second test, live");
});
