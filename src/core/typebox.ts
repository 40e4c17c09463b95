/**
 * TypeBox's runtime (the type builder and the compiler), as every module of src/ imports it. TypeBox
 * ships as about 700 ES modules, and Node keeps each one's record, source and code for the life of the
 * process; the build (scripts/build.js) therefore replaces this module's compiled output with one file
 * that bundles the same exports. Types are imported from "typebox" directly: they cost nothing at run
 * time. Why and what it saves: docs/decisions/028-server-baseline-memory.md.
 */
export { Type } from "typebox";
export { Compile } from "typebox/compile";
export { IsDateTime } from "typebox/format";
export { Meta } from "typebox/schema";
