// @ts-check
/** The token dialog: shown when a call answers 401; the token is kept in this tab's sessionStorage. */
import { useEffect, useRef, useState } from "preact/hooks";
import { auth, isSendableToken } from "../api.js";
import { html } from "../html.js";

/** @param {{ rejected: boolean }} props */
export function TokenPrompt({ rejected }) {
  const [value, setValue] = useState("");
  const [unsendable, setUnsendable] = useState(false);
  /** @type {{ current: HTMLInputElement | null }} */
  const input = useRef(null);
  useEffect(() => input.current?.focus(), []);

  /** @param {SubmitEvent} event */
  const submit = (event) => {
    event.preventDefault();
    const token = value.trim();
    setUnsendable(token !== "" && !isSendableToken(token));
    if (token && isSendableToken(token)) auth.save(token);
  };

  return html`
    <div class="overlay">
      <form class="dialog" role="dialog" aria-modal="true" aria-labelledby="token-title" onSubmit=${submit}>
        <h2 id="token-title">API token required</h2>
        <p>This server requires a bearer token. It is kept in this browser tab only and sent with each API call.</p>
        ${
          unsendable
            ? html`<p class="notice error" role="alert">A token is printable ASCII without spaces: that one cannot be sent.</p>`
            : rejected
              ? html`<p class="notice error" role="alert">The server rejected that token. Try another one.</p>`
              : null
        }
        <div class="field">
          <label for="token-input">Token</label>
          <input
            id="token-input"
            ref=${input}
            type="password"
            autocomplete="current-password"
            value=${value}
            onInput=${(/** @type {InputEvent} */ e) => setValue(/** @type {HTMLInputElement} */ (e.currentTarget).value)}
          />
        </div>
        <div class="buttons"><button type="submit" class="primary" disabled=${!value.trim()}>Use token</button></div>
      </form>
    </div>
  `;
}
