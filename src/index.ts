/** The public API for app authors: `import { defineKubeApp } from "kubecontrol"`. */

export type { VerifyContext } from "./spec/define.js";
export { defineKubeApp } from "./spec/define.js";
export type { ResolvedKubeApp } from "./spec/resolve.js";
export type { Component, Container, KubeAppInput, KubeAppParsed, Pool, Service } from "./spec/schema.js";
