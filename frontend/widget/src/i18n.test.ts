import { describe, expect, it } from "vitest";
import { strings } from "./i18n";
import { css } from "./style";

describe("the widget's words", () => {
  it("follow the browser's first supported language unless the inbox fixes one", () => {
    expect(strings(undefined, ["zh-CN", "en"]).launcher).toBe("与我们聊天");
    expect(strings(undefined, ["fr-FR", "en-GB"]).launcher).toBe("Chat with us");
    expect(strings(undefined, ["fr-FR"]).launcher).toBe("Chat with us");
    expect(strings("zh", ["en-US"]).launcher).toBe("与我们聊天");
    expect(strings("en", ["zh-TW"]).send).toBe("Send");
  });
});

describe("the widget's CSS", () => {
  it("wins over the page's rules on its host and follows the inbox's corner", () => {
    expect(css("#0f766e", true)).toContain(":host{all:initial!important");
    expect(css("#0f766e", true)).toContain("left:20px");
    expect(css("#0f766e", false)).toContain("right:20px");
  });
});
