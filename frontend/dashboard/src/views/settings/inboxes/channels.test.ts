import { describe, expect, it } from "vitest";
import { CHANNELS, checkField, fieldOf, randomToken } from "./channels";

const field = (channel: keyof typeof CHANNELS, key: string) => CHANNELS[channel].find((f) => f.key === key)!;

describe("inbox fields", () => {
  it("checks values with the server's own rules", () => {
    expect(checkField(field("telegram", "secret_token"), "ok_token-1")).toBeNull();
    expect(checkField(field("telegram", "secret_token"), "has space")).toBe("inboxSettings.errors.secret_token");
    expect(checkField(field("telegram", "bot_token"), "123456:ABC-def_9")).toBeNull();
    expect(checkField(field("telegram", "bot_token"), "ABC")).toBe("inboxSettings.errors.bot_token");
    expect(checkField(field("messenger", "page_id"), "1000001")).toBeNull();
    expect(checkField(field("messenger", "page_id"), "my-page")).toBe("inboxSettings.errors.page_id");
    expect(checkField(field("api", "callback_url"), "ftp://x")).toBe("inboxSettings.errors.callback_url");
    expect(checkField(field("messenger", "app_secret"), "   ")).toBe("inboxSettings.errors.required");
  });

  it("finds the field a server reason names", () => {
    expect(fieldOf("settings.page_id is required and must be a non-empty string")).toBe("page_id");
    expect(fieldOf("settings.allowed_origins: \"x\" is not an origin like https://shop.example")).toBe("allowed_origins");
    expect(fieldOf("name must be 1 to 100 characters")).toBe("name");
    expect(fieldOf("this needs an admin or the owner")).toBeNull();
  });

  it("generates tokens Telegram accepts as a secret_token", () => {
    const a = randomToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{1,256}$/);
    expect(randomToken()).not.toBe(a);
  });
});
