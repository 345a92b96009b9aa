/**
 * The changelog lines `changeset version` writes (`.changeset/config.json` "changelog"):
 * @changesets/cli/changelog's, except that the "Updated dependencies" list of a release leaves
 * out dependencies at their first release (from the never-published 0.0.0). A package's first
 * CHANGELOG entry then says what the package is, without a section naming the first versions of
 * the workspace packages it depends on; later releases list dependency updates as usual.
 */
const base = require('@changesets/cli/changelog').default;

/** @type {import('@changesets/types').ChangelogFunctions} */
module.exports = {
  getReleaseLine: base.getReleaseLine,
  async getDependencyReleaseLine(changesets, dependenciesUpdated, options) {
    const updated = dependenciesUpdated.filter((dependency) => dependency.oldVersion !== '0.0.0');
    return updated.length === 0 ? '' : base.getDependencyReleaseLine(changesets, updated, options);
  },
};
