// @ts-check
/**
 * Colour scheme: the system's (prefers-color-scheme) unless the user picked light or dark, which is kept
 * in localStorage and applied as `data-theme` on <html> (styles.css reads both).
 */
const KEY = "zart.theme";

/** @typedef {"auto" | "light" | "dark"} Theme */

/** @returns {Theme} */
export function storedTheme() {
  try {
    const value = localStorage.getItem(KEY);
    return value === "light" || value === "dark" ? value : "auto";
  } catch {
    return "auto";
  }
}

/** @param {Theme} theme */
export function applyTheme(theme) {
  if (theme === "auto") document.documentElement.removeAttribute("data-theme");
  else document.documentElement.dataset.theme = theme;
  try {
    if (theme === "auto") localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, theme);
  } catch {
    // Private windows may refuse storage; the choice then lasts for this page only.
  }
}

/** @param {Theme} theme @returns {Theme} */
export const nextTheme = (theme) => (theme === "auto" ? "light" : theme === "light" ? "dark" : "auto");
