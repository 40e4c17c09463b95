// @ts-check
/** The frame of every page: the top bar with navigation, the theme switch and the token's sign-out. */
import { useState } from "preact/hooks";
import { auth } from "../api.js";
import { html } from "../html.js";
import { applyTheme, nextTheme, storedTheme } from "../theme.js";

const LINKS = [
  ["/ui/executions", "Executions"],
  ["/ui/start", "Start"],
  ["/ui/tasks", "Tasks"],
  ["/ui/workers", "Workers"],
  ["/ui/schedules", "Schedules"],
];

const THEME_LABELS = { auto: "Theme: system", light: "Theme: light", dark: "Theme: dark" };

/** @param {{ section: string, hasToken: boolean, children?: unknown }} props */
export function Layout({ section, hasToken, children }) {
  const [theme, setTheme] = useState(storedTheme);
  const cycleTheme = () => {
    const next = nextTheme(theme);
    applyTheme(next);
    setTheme(next);
  };
  return html`
    <header class="topbar">
      <a class="brand" href="/ui/executions" aria-label="Zart home"><img src="/ui/favicon.svg" alt="" width="24" height="24" /> Zart</a>
      <nav aria-label="Main">
        ${LINKS.map(([href, label]) => html`<a href=${href} aria-current=${href === section ? "page" : undefined}>${label}</a>`)}
      </nav>
      <div class="topbar-end">
        ${hasToken ? html`<button type="button" class="link" onClick=${() => auth.forget()}>Forget token</button>` : null}
        <button type="button" class="icon" onClick=${cycleTheme} title=${THEME_LABELS[theme]} aria-label=${THEME_LABELS[theme]}>
          ${theme === "dark" ? "☾" : theme === "light" ? "☀" : "◐"}
        </button>
      </div>
    </header>
    <main>${children}</main>
  `;
}
