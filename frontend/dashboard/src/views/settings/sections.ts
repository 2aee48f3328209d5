// The settings pages, in the order the side menu shows them. Each page is
// its own lazy chunk. `admin` pages are hidden from members (the server
// refuses their changes anyway) and the router sends a member elsewhere.
import type { RouteComponent } from "vue-router";

export interface SettingsSection {
  /** Path under /settings, also the route's name as `settings-<path>`. */
  path: string;
  /** i18n key of the menu entry. */
  label: string;
  admin: boolean;
  component: () => Promise<RouteComponent | { default: RouteComponent }>;
}

export const sections: SettingsSection[] = [
  { path: "profile", label: "settings.nav.profile", admin: false, component: () => import("./ProfileSettings.vue") },
  { path: "workspace", label: "settings.nav.workspace", admin: true, component: () => import("./WorkspaceSettings.vue") },
  { path: "translation", label: "translationSettings.menu", admin: true, component: () => import("./TranslationSettings.vue") },
  { path: "team", label: "settings.nav.team", admin: true, component: () => import("./TeamSettings.vue") },
  { path: "canned", label: "settings.nav.canned", admin: true, component: () => import("./CannedSettings.vue") },
  { path: "labels", label: "settings.nav.labels", admin: true, component: () => import("./LabelsSettings.vue") },
  { path: "api-keys", label: "settings.nav.keys", admin: true, component: () => import("./ApiKeysSettings.vue") },
  { path: "audit-log", label: "settings.nav.audit", admin: true, component: () => import("./AuditLogSettings.vue") },
];

export function visibleSections(isAdmin: boolean): SettingsSection[] {
  return sections.filter((s) => isAdmin || !s.admin);
}
