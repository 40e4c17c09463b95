// @ts-check
/** The page for the current URL inside the common frame, and the token prompt when the server asks for one. */
import { useEffect, useState } from "preact/hooks";
import { auth } from "./api.js";
import { Layout } from "./components/layout.js";
import { TokenPrompt } from "./components/token-prompt.js";
import { html } from "./html.js";
import { ExecutionPage } from "./pages/execution.js";
import { ExecutionsPage } from "./pages/executions.js";
import { SchedulesPage } from "./pages/schedules.js";
import { StartPage } from "./pages/start.js";
import { TasksPage } from "./pages/tasks.js";
import { WorkersPage } from "./pages/workers.js";
import { useLocation } from "./router.js";

/**
 * The nav section and the page for a path.
 * @param {string} path
 * @param {URLSearchParams} query
 * @returns {{ section: string, title: string, page: unknown }}
 */
function route(path, query) {
  const trimmed = path.replace(/\/+$/, "");
  if (trimmed === "" || trimmed === "/ui" || trimmed === "/ui/executions") {
    return { section: "/ui/executions", title: "Executions", page: html`<${ExecutionsPage} query=${query} />` };
  }
  const match = /^\/ui\/executions\/([^/]+)$/.exec(trimmed);
  if (match) {
    const id = decodeURIComponent(match[1] ?? "");
    return { section: "/ui/executions", title: id, page: html`<${ExecutionPage} key=${id} id=${id} />` };
  }
  switch (trimmed) {
    case "/ui/start":
      return { section: "/ui/start", title: "Start", page: html`<${StartPage} query=${query} />` };
    case "/ui/tasks":
      return { section: "/ui/tasks", title: "Tasks", page: html`<${TasksPage} />` };
    case "/ui/workers":
      return { section: "/ui/workers", title: "Workers", page: html`<${WorkersPage} />` };
    case "/ui/schedules":
      return { section: "/ui/schedules", title: "Schedules", page: html`<${SchedulesPage} />` };
    default:
      return {
        section: "",
        title: "Not found",
        page: html`<section class="page"><h1>Page not found</h1><p><a href="/ui/executions">Executions</a></p></section>`,
      };
  }
}

function useAuthState() {
  const [state, setState] = useState(auth.state);
  useEffect(() => auth.subscribe(() => setState(auth.state)), []);
  return state;
}

export function App() {
  const { path, query } = useLocation();
  const authState = useAuthState();
  const { section, title, page } = route(path, query);
  useEffect(() => {
    document.title = `${title} · Zart`;
  }, [title]);
  return html`
    <${Layout} section=${section} hasToken=${authState.hasToken}>${page}</${Layout}>
    ${authState.prompt ? html`<${TokenPrompt} rejected=${authState.rejected} />` : null}
  `;
}
