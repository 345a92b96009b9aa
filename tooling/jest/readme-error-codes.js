const { readFileSync } = require('node:fs');
const { join } = require('node:path');

/**
 * The codes in the first column of a package README's `## Errors` table, in order: `ERR_NETPOLL_*`
 * ones and Node's own (`ABORT_ERR`). Each
 * package's test/errors.test.ts compares them with the codes its src/errors.ts declares
 * (the registry and the README must agree).
 *
 * @param {string} packageDir the package folder holding README.md
 * @returns {string[]}
 */
function readmeErrorCodes(packageDir) {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const section = readme.split(/^## Errors$/m)[1];
  if (section === undefined) throw new Error(`${packageDir}/README.md has no "## Errors" section`);
  const table = section.split(/^## /m)[0];
  return [...table.matchAll(/^\| `([A-Z][A-Z0-9_]*_[A-Z0-9_]+)` *\|/gm)].map((match) => match[1]);
}

module.exports = { readmeErrorCodes };
