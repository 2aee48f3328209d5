// The last unexpected error, shown as one line at the top of the app.
import { ref } from "vue";

export const appError = ref("");
