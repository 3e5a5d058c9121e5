/** The public API for app authors: `import { defineKubeApp } from "kubecontrol"`. */
export { defineKubeApp } from "./spec/define.js";
export type { VerifyContext } from "./spec/define.js";
export type { KubeAppInput, KubeAppParsed, Pool, Component, Container, Service } from "./spec/schema.js";
export type { ResolvedKubeApp } from "./spec/resolve.js";
