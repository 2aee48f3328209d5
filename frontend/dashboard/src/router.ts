// Routes: the inbox (and a conversation in it) is in the first bundle;
// everything else loads when visited. The guard sends a visitor without a
// session to the login screen and, after logging in, back to where they were.
import { createRouter, createWebHistory, type RouteLocationNormalized } from "vue-router";
import InboxView from "./views/InboxView.vue";
import { useSession } from "./stores/session";
import { sections, visibleSections } from "./views/settings/sections";

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: "/", name: "inbox", component: InboxView },
    { path: "/inbox", redirect: "/" },
    { path: "/conversations/:id", name: "conversation", component: InboxView, props: true },
    { path: "/search", name: "search", component: () => import("./views/SearchView.vue") },
    { path: "/visitors", name: "visitors", component: () => import("./views/VisitorsView.vue") },
    {
      path: "/settings",
      component: () => import("./views/settings/SettingsLayout.vue"),
      children: [
        { path: "", name: "settings", redirect: () => firstSettings() },
        ...sections.map((s) => ({ path: s.path, name: `settings-${s.path}`, component: s.component, meta: { admin: s.admin } })),
      ],
    },
    { path: "/login", name: "login", component: () => import("./views/LoginView.vue"), meta: { public: true } },
    { path: "/signup", name: "signup", component: () => import("./views/SignupView.vue"), meta: { public: true } },
    { path: "/invitations/accept", alias: ["/invite", "/accept-invitation"], name: "accept", component: () => import("./views/AcceptInvitationView.vue"), meta: { public: true } },
    { path: "/:rest(.*)*", redirect: "/" },
  ],
});

/** The first settings page this agent may use (members have fewer). */
function firstSettings(): string {
  const first = visibleSections(useSession().isAdmin)[0];
  return first ? `/settings/${first.path}` : "/";
}

/** Where to come back to after logging in: only a path of this app. */
export function backTo(to: RouteLocationNormalized | undefined): string {
  const r = typeof to?.query.redirect === "string" ? to.query.redirect : "/";
  return r.startsWith("/") && !r.startsWith("//") ? r : "/";
}

router.beforeEach((to) => {
  const session = useSession();
  if (!to.meta.public && !session.loggedIn) {
    return { name: "login", query: to.fullPath !== "/" ? { redirect: to.fullPath } : {} };
  }
  if (to.name === "login" && session.loggedIn) return backTo(to);
  // A member asking for an admin page (a bookmark, a shared link) lands on the settings it can use.
  if (to.meta.admin && session.me && !session.isAdmin) return firstSettings();
  return true;
});
