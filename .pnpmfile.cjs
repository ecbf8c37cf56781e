// pnpm hooks for this workspace.
module.exports = {
  hooks: {
    /**
     * The manifest of a packed or published package (`pnpm pack`, `pnpm publish`) leaves out what
     * only the workspace uses: `devDependencies` (they name the private test harness,
     * @live-device-form/testkit) and `scripts` (they run workspace paths such as
     * ../../scripts/prepack.mjs). See docs/releasing.md.
     */
    beforePacking(pkg) {
      delete pkg.devDependencies;
      delete pkg.scripts;
      return pkg;
    },
  },
};
