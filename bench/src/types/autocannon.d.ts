// autocannon ships no types; http.ts declares the few fields it reads.
declare module "autocannon";
