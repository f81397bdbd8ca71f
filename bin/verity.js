#!/usr/bin/env node
// The `verity` command: registers tsx so the TypeScript CLI (and the TypeChain bindings it imports)
// run without a build step, then hands over to src/cli/main.ts.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
