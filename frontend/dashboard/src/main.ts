import { createApp, watch } from "vue";
import { createPinia } from "pinia";
import App from "./App.vue";
import { router } from "./router";
import { i18n, initLocale } from "./i18n";
import { setUnauthorizedHandler } from "@api/client";
import { useSession } from "./stores/session";
import { appError } from "./lib/errors";
import "./style.css";

const app = createApp(App);
// A bug in a view shows a short message, never a blank page.
app.config.errorHandler = (err) => {
  console.error(err);
  appError.value = err instanceof Error ? err.message : String(err);
};
const pinia = createPinia();
app.use(pinia).use(router).use(i18n);

const session = useSession();
session.init();
// An expired or revoked session returns to the login screen, which brings the agent back here.
setUnauthorizedHandler(() => session.expire());
watch(
  () => session.token,
  (t) => {
    const here = router.currentRoute.value;
    if (!t && !here.meta.public) void router.push({ name: "login", query: { redirect: here.fullPath } });
  },
);

void initLocale().finally(() => app.mount("#app"));
