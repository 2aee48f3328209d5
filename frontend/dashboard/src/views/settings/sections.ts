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
  { path: "translation", label: "translationSettings.menu", admin: true, component: () => import("./TranslationSettings.vue") },
];

export function visibleSections(isAdmin: boolean): SettingsSection[] {
  return sections.filter((s) => isAdmin || !s.admin);
}
