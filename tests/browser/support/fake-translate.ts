// A LibreTranslate-compatible server on 127.0.0.1 for the browser tests, the
// twin of tests/harness/fake_translate.rs: a small fixed dictionary, the
// API key and the request's shape checked as LibreTranslate checks them,
// every call recorded, and a switch that makes it fail like a service that is down.
import http from "node:http";
import type { AddressInfo } from "node:net";

/** [source, target, text, translation] */
const DICTIONARY: [string, string, string, string][] = [
  ["de", "en", "Hallo, wo ist meine Bestellung?", "Hello, where is my order?"],
  ["de", "en", "Danke!", "Thanks!"],
  ["de", "en", "Ich habe gestern eine Bestellung aufgegeben und warte noch auf die Bestätigung.", "I placed an order yesterday and am still waiting for the confirmation."],
  ["de", "en", "Ist das Paket schon unterwegs?", "Is the parcel on its way yet?"],
  ["en", "de", "Your parcel ships tomorrow.", "Ihr Paket wird morgen versandt."],
  ["en", "de", "Thanks for waiting.", "Danke fürs Warten."],
];
const LANGUAGES = ["en", "de", "fr", "es"];

export interface TranslateCall {
  path: string;
  body: any;
}

export class FakeTranslate {
  base = "";
  readonly calls: TranslateCall[] = [];
  /** Requests that broke LibreTranslate's rules (a test asserts there are none). */
  readonly violations: string[] = [];
  down = false;
  private server: http.Server;

  constructor(readonly apiKey = "libretranslate-browser-key") {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        let body: any = null;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          /* answered below */
        }
        const path = req.url ?? "";
        this.calls.push({ path, body });
        const [status, answer] = this.down ? [500, { error: "Translation service is down" }] : this.answer(path, body);
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(answer));
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", () => r()));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  /** Calls to /translate whose text was `q`. */
  translated(q: string): TranslateCall[] {
    return this.calls.filter((c) => c.path === "/translate" && c.body?.q === q);
  }

  private violation(why: string): [number, unknown] {
    this.violations.push(why);
    return [400, { error: why }];
  }

  private answer(path: string, body: any): [number, unknown] {
    if (body?.api_key !== this.apiKey) return [403, { error: "Invalid API key" }];
    const q = body?.q;
    if (typeof q !== "string") return this.violation(`${path}: q must be a string`);
    const detect = (text: string) => DICTIONARY.find(([, , t]) => t === text)?.[0];
    if (path === "/detect") return [200, [{ language: detect(q) ?? "en", confidence: detect(q) ? 90 : 10 }]];
    if (path !== "/translate") return [404, { error: `no route ${path}` }];
    if (body.format !== "text") return this.violation(`format must be "text", got ${body.format}`);
    const { source, target } = body;
    if (typeof source !== "string" || typeof target !== "string") return this.violation("source and target must be strings");
    if (source !== "auto" && !LANGUAGES.includes(source)) return this.violation(`${source} is not supported`);
    if (!LANGUAGES.includes(target)) return this.violation(`${target} is not supported`);
    const from = source === "auto" ? (detect(q) ?? "en") : source;
    const found = DICTIONARY.find(([s, t, text]) => s === from && t === target && text === q)?.[3];
    const translatedText = found ?? (from === target ? q : `[${target}] ${q}`);
    return [200, source === "auto" ? { translatedText, detectedLanguage: { language: from, confidence: 90 } } : { translatedText }];
  }
}
