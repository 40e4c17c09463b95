// @ts-check
/** Entry point: theme, in-page link navigation, and the app. */
import { render } from "preact";
import { App } from "./app.js";
import { html } from "./html.js";
import { interceptLinks } from "./router.js";
import { applyTheme, storedTheme } from "./theme.js";

applyTheme(storedTheme());
interceptLinks();
const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(html`<${App} />`, root);
}
