// @ts-check
/** htm bound to preact's `h`: JSX-like tagged templates with no build step. */
import htm from "htm";
import { h } from "preact";

export const html = htm.bind(h);
