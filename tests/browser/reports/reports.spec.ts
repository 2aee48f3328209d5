// The reports page shows exactly the figures of known traffic: customers
// writing at known local times (Messenger's and Telegram's own timestamps),
// replies after known delays (the page's echoes) and one from an agent,
// resolutions; in the workspace's time zone (Asia/Kolkata, UTC+05:30, so a
// local day is not a UTC day). Its CSV downloads carry the same numbers,
// with a formula-looking agent name defused.
import fs from "node:fs";
import crypto from "node:crypto";
import { test, expect, APP_SECRET, PAGE_ID, TG_SECRET, type Workspace } from "../fixtures";
import { logIn } from "../support/dashboard";
import type { Page } from "@playwright/test";

const SEC = 1000, MIN = 60 * SEC, HOUR = 60 * MIN, DAY = 24 * HOUR;
const IST = 5 * HOUR + 30 * MIN;
const localDay = (t: number) => Math.floor((t + IST) / DAY);
const at = (day: number, h: number, m = 0) => day * DAY + h * HOUR + m * MIN - IST;
const iso = (day: number) => new Date(day * DAY).toISOString().slice(0, 10);
const dayLabel = (day: number) => new Intl.DateTimeFormat("en-US", { timeZone: "UTC", month: "short", day: "numeric" }).format(day * DAY);

/** A Messenger text from the customer, or the page's echo of a reply, written at `ts`. */
function messenger(ws: Workspace, psid: string, mid: string, text: string, ts: number, echo = false) {
  const [sender, recipient] = echo ? [PAGE_ID, psid] : [psid, PAGE_ID];
  const body = JSON.stringify({
    object: "page",
    entry: [{ id: PAGE_ID, time: ts, messaging: [{ sender: { id: sender }, recipient: { id: recipient }, timestamp: ts, message: { mid, text, is_echo: echo } }] }],
  });
  return ws.signedMeta("messenger", body);
}

async function ok(r: Promise<Response>) {
  const res = await r;
  expect(res.status, await res.clone().text()).toBe(200);
}

/** The cells of the row whose header is `label`, in the table named `table`. */
function cells(page: Page, table: string, label: string) {
  return page
    .getByRole("table", { name: table, exact: true })
    .getByRole("row")
    .filter({ has: page.getByRole("rowheader", { name: label, exact: true }) })
    .getByRole("cell");
}

/** RFC 4180: quoted fields may hold commas, quotes (doubled) and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") row.push(field), (field = "");
    else if (c === "\r" && text[i + 1] === "\n") row.push(field), rows.push(row), (row = []), (field = ""), i++;
    else field += c;
  }
  return rows;
}

async function csv(page: Page, table: string): Promise<string[][]> {
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: `Download CSV: ${table}` }).click()]);
  const text = fs.readFileSync(await download.path(), "utf8");
  expect(text.startsWith("\ufeff")).toBe(true);
  expect(text.endsWith("\r\n")).toBe(true);
  return parseCsv(text.slice(1));
}

test("the reports page shows the exact figures of known traffic, and its CSVs have them", async ({ page, workspace: ws, shot }) => {
  await ws.api("PATCH", "/api/workspace", { settings: { time_zone: "Asia/Kolkata" } });
  const me = await ws.api("PATCH", "/api/me", { name: "=Alice Agent" });
  // Not in the first seconds of a local day: the agent's reply must fall on the same day as its question.
  if ((Date.now() + IST) % DAY < MIN) await page.waitForTimeout(MIN);
  const today = localDay(Date.now());
  const [y, d2] = [today - 1, today - 2];

  // Answered by the page (echoes) after 1, 5, 15 and 30 minutes.
  for (const [psid, day, h, delay] of [["rp-a", y, 10, 1], ["rp-b", y, 11, 5], ["rp-c", d2, 9, 15], ["rp-e", d2, 14, 30]] as const) {
    await ok(messenger(ws, psid, `${psid}-q`, "Where is my order?", at(day, h)));
    await ok(messenger(ws, psid, `${psid}-r`, "On its way", at(day, h) + delay * MIN, true));
  }
  // Telegram, yesterday at noon, never answered.
  const update = { update_id: 91001, message: { message_id: 1, date: Math.floor(at(y, 12) / 1000), chat: { id: 5151, type: "private", first_name: "Tara" }, from: { id: 5151, is_bot: false, first_name: "Tara" }, text: "Hello?" } };
  await ok(fetch(`${ws.base}/webhooks/telegram/${ws.inboxes.telegram!.id}`, { method: "POST", headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": TG_SECRET }, body: JSON.stringify(update) }));
  // Today: a customer writes and an agent answers through the API a moment later.
  const tD = Date.now() - 2 * SEC;
  await ok(messenger(ws, "rp-d", "rp-d-q", "Can I change my address?", tD));
  const cvD = await ws.conversationOf("rp-d");
  const reply = await ws.api("POST", `/api/conversations/${cvD}/messages`, { text: "Yes, done", client_id: crypto.randomUUID() });
  const frD = reply.created_at - tD;
  expect(frD).toBeLessThan(MIN);
  // Resolved today: the first one and today's.
  const cvA = await ws.conversationOf("rp-a");
  for (const cv of [cvA, cvD]) await ws.api("PATCH", `/api/conversations/${cv}`, { status: "resolved" });
  const resolvedAt = async (cv: string) => {
    const { events } = await ws.api("GET", `/api/conversations/${cv}/events?since=0`);
    return events.find((e: any) => e.type === "conversation_status" && e.status === "resolved").at as number;
  };
  const resolutions = [(await resolvedAt(cvA)) - at(y, 10), (await resolvedAt(cvD)) - tD].sort((a, b) => a - b);

  // The rollups trail the traffic by the index's pacing.
  const range = `from=${iso(today - 6)}&to=${iso(today)}`;
  await expect
    .poll(async () => {
      const r = await ws.api("GET", `/api/reports?${range}`);
      return [r.totals.conversations_opened, r.totals.messages_out, r.totals.conversations_resolved];
    })
    .toEqual([6, 5, 2]);

  await logIn(page, ws);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Reports" }).click();
  await expect(page.getByRole("heading", { name: "Reports", level: 1 })).toBeVisible();
  await expect(page.getByText(`${iso(today - 6)} – ${iso(today)}, in Asia/Kolkata`)).toBeVisible();

  // Totals over the last 7 days: first responses 2 s…, 1, 5, 15, 30 min → median (3rd of 5) 5 min, p90 (5th) 30 min.
  await expect(page.getByRole("definition")).toHaveText(["6", "2", "6", "5", "5 min", "30 min", /\d/, /\d/]);
  const byDay = "By day";
  await expect(page.getByRole("table", { name: byDay }).getByRole("row")).toHaveCount(1 + 7 + 1);
  // Opened, resolved, in, out, first response median and p90, resolution median and p90.
  await expect(cells(page, byDay, dayLabel(y))).toHaveText(["3", "0", "3", "2", "1 min", "5 min", "—", "—"]);
  await expect(cells(page, byDay, dayLabel(d2))).toHaveText(["2", "0", "2", "2", "15 min", "30 min", "—", "—"]);
  await expect(cells(page, byDay, dayLabel(today - 3))).toHaveText(["0", "0", "0", "0", "—", "—", "—", "—"]);
  await expect(cells(page, "By channel", "Messenger")).toHaveText(["5", "2", "5", "5", "5 min", "30 min", /./, /./]);
  await expect(cells(page, "By channel", "Telegram")).toHaveText(["1", "0", "1", "0", "—", "—", "—", "—"]);
  await expect(cells(page, "By inbox", "Messenger page")).toHaveText(["5", "2", "5", "5", "5 min", "30 min", /./, /./]);
  await expect(cells(page, "By inbox", "Telegram bot")).toHaveText(["1", "0", "1", "0", "—", "—", "—", "—"]);
  // The page's echoes have no agent; the agent's reply and both resolutions are Alice's, named, not an id.
  await expect(cells(page, "By agent", "No agent").nth(3)).toHaveText("4");
  await expect(cells(page, "By agent", "=Alice Agent").nth(1)).toHaveText("2");
  await expect(cells(page, "By agent", "=Alice Agent").nth(3)).toHaveText("1");
  await expect(page.getByText(me.id)).toHaveCount(0);
  // The charts are images with a name; the tables are their text.
  await expect(page.getByRole("img", { name: /messages in and out/ })).toBeVisible();
  await expect(page.getByRole("img", { name: /first responses and resolutions/ })).toBeVisible();
  await shot(page, "reports");

  // The CSVs: the same numbers, durations in seconds, days as dates.
  const days = await csv(page, byDay);
  expect(days[0]).toEqual(["Day", "Opened", "Resolved", "Messages in", "Messages out", "First response, median (s)", "First response, 90th percentile (s)", "Resolution, median (s)", "Resolution, 90th percentile (s)"]);
  expect(days).toHaveLength(1 + 7 + 1);
  expect(days.find((r) => r[0] === iso(y))).toEqual([iso(y), "3", "0", "3", "2", "60", "300", "", ""]);
  expect(days.find((r) => r[0] === iso(d2))).toEqual([iso(d2), "2", "0", "2", "2", "900", "1800", "", ""]);
  expect(days.find((r) => r[0] === iso(today))).toEqual([iso(today), "1", "2", "1", "1", String(frD / 1000), String(frD / 1000), String(resolutions[0]! / 1000), String(resolutions[1]! / 1000)]);
  expect(days.at(-1)).toEqual(["Total", "6", "2", "6", "5", "300", "1800", String(resolutions[0]! / 1000), String(resolutions[1]! / 1000)]);
  const agents = await csv(page, "By agent");
  // A name that a spreadsheet would run as a formula stays text.
  expect(agents.find((r) => r[0] === "'=Alice Agent")?.slice(1, 5)).toEqual([expect.any(String), "2", expect.any(String), "1"]);

  // One day is shown hour by hour: today's reply in its local hour.
  await page.getByLabel("Range", { exact: true }).selectOption({ label: "Today" });
  const byHour = "By hour";
  await expect(page.getByRole("table", { name: byHour }).getByRole("row")).toHaveCount(1 + 24 + 1);
  const hour = new Date(tD + IST).toISOString().slice(11, 13) + ":00";
  const ofHour = cells(page, byHour, hour);
  for (const [i, want] of [[0, "1"], [2, "1"], [3, "1"]] as const) await expect(ofHour.nth(i)).toHaveText(want);

  // A custom range is checked before it is asked for.
  await page.getByLabel("Range", { exact: true }).selectOption({ label: "Custom" });
  await page.getByLabel("From", { exact: true }).fill(iso(today));
  await page.getByLabel("To", { exact: true }).fill(iso(today - 1));
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page.getByRole("alert")).toHaveText("The end date must be on or after the start date.");
  await page.getByLabel("From", { exact: true }).fill(iso(d2));
  await page.getByLabel("To", { exact: true }).fill(iso(y));
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page.getByText(`${iso(d2)} – ${iso(y)}, in Asia/Kolkata`)).toBeVisible();
  await expect(page.getByRole("table", { name: byDay }).getByRole("row")).toHaveCount(1 + 2 + 1);
});
