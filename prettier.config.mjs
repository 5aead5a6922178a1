export { default } from "./tooling/prettier.config.mjs";
