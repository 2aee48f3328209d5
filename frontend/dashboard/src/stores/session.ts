// Who is logged in: the session token, the agent's profile, teammates and
// inboxes, and the connection choice (remembered per browser).
import { defineStore } from "pinia";
import { api, unwrap, setToken, rawJson, ApiError, type Agent, type Inbox } from "@api/client";
import type { TransportChoice } from "@live/stream";
import { storage } from "../lib/storage";

const TOKEN_KEY = "sb.token";
const TRANSPORT_KEY = "sb.transport";
// Kept across a reload: the session can end (a 401 to a background call) just
// before the agent reloads, and the login screen must still say why.
const EXPIRED_KEY = "sb.expired";

/**
 * Sockets open with single-use tickets (api/client.ts), so no cookie carries
 * the token to them. An `<img>` of a stored file cannot send a header,
 * though: `sb_files` carries the token to `/api/attachments` alone (its
 * Path), same-site only, so it never rides along on a socket or any other
 * route. This also clears the cookie an older version of the page set.
 */
function setFilesCookie(token: string | null): void {
  if (typeof document === "undefined") return;
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `sb_session=; Path=/api; Max-Age=0; SameSite=Strict${secure}`;
  document.cookie = token
    ? `sb_files=${token}; Path=/api/attachments; SameSite=Strict${secure}`
    : `sb_files=; Path=/api/attachments; Max-Age=0; SameSite=Strict${secure}`;
}

function savedTransport(): TransportChoice {
  const t = storage.get(TRANSPORT_KEY);
  return t === "websocket" || t === "http" ? t : "auto";
}

export const useSession = defineStore("session", {
  state: () => ({
    token: storage.get(TOKEN_KEY) as string | null,
    me: null as Agent | null,
    agents: [] as Agent[],
    inboxes: [] as Inbox[],
    transport: savedTransport(),
    /** Set when the server said the session is over; the login screen explains it. */
    expired: storage.get(EXPIRED_KEY) === "1",
  }),
  getters: {
    loggedIn: (s) => !!s.token,
    meId: (s) => s.me?.id ?? null,
    /** Owners and admins change settings; agents only their own profile. */
    isAdmin: (s) => s.me?.role === "owner" || s.me?.role === "admin",
  },
  actions: {
    init() {
      setToken(this.token);
      setFilesCookie(this.token);
    },
    setTransport(t: TransportChoice) {
      this.transport = t;
      storage.set(TRANSPORT_KEY, t);
    },
    adopt(token: string) {
      this.token = token;
      this.expired = false;
      storage.remove(EXPIRED_KEY);
      storage.set(TOKEN_KEY, token);
      setToken(token);
      setFilesCookie(token);
    },
    async login(email: string, password: string) {
      const r = await unwrap(api.POST("/api/login", { body: { email, password } }));
      if (!r?.token) throw new ApiError(500, "no token");
      this.adopt(r.token);
      await this.load();
    },
    async signup(workspace: string, name: string, email: string, password: string) {
      const r = await unwrap(api.POST("/api/signup", { body: { workspace, name, email, password } }));
      if (!r?.token) throw new ApiError(500, "no token");
      this.adopt(r.token);
      await this.load();
    },
    async acceptInvitation(token: string, name: string, password: string) {
      const r = await rawJson<{ token?: string; error?: string }>("POST", "/api/invitations/accept", { token, name, password });
      const data = r.data as { token?: string; error?: string };
      if (r.status >= 300 || !data?.token) throw new ApiError(r.status, data?.error ?? `HTTP ${r.status}`);
      this.adopt(data.token);
      await this.load();
    },
    /** The profile, teammates and inboxes; a 401 here ends the session. */
    async load() {
      const [me, agents, inboxes] = await Promise.all([
        unwrap(api.GET("/api/me")),
        unwrap(api.GET("/api/agents")).catch(() => ({ agents: [] })),
        unwrap(api.GET("/api/inboxes")).catch(() => ({ inboxes: [] })),
      ]);
      this.me = me as Agent;
      this.agents = ((agents?.agents ?? []) as Agent[]).filter((a) => a.id);
      this.inboxes = ((inboxes?.inboxes ?? []) as Inbox[]).filter((i) => i.id);
    },
    async logout() {
      try {
        await api.POST("/api/logout");
      } catch {
        /* the token is dropped either way */
      }
      this.clear();
    },
    clear() {
      this.token = null;
      this.me = null;
      storage.remove(TOKEN_KEY);
      setToken(null);
      setFilesCookie(null);
    },
    /** The server answered 401: the session expired or was revoked. */
    expire() {
      if (!this.token) return;
      this.clear();
      this.expired = true;
      storage.set(EXPIRED_KEY, "1");
    },
    agentName(id: string | null | undefined): string {
      if (!id) return "";
      return this.agents.find((a) => a.id === id)?.name ?? (this.me?.id === id ? this.me.name : id);
    },
    inbox(id: string | null | undefined): Inbox | undefined {
      return this.inboxes.find((i) => i.id === id);
    },
  },
});
