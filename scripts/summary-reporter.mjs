// A node:test reporter that prints one closing line, `N passed, N failed, N skipped`, after the
// spec reporter's output, so the whole run (every suite) ends with one plain count.
// Counted: each test; a cancelled test (its suite's hook failed) is a failure; a suite that fails
// by itself (a hook) counts once more, so a failing `after` hook can never read as "0 failed";
// todo and skipped tests, and tests of a skipped suite (counted as one), are skipped.
export default async function* summary(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for await (const ev of source) {
    if (ev.type !== 'test:pass' && ev.type !== 'test:fail') continue;
    const d = ev.data;
    const suite = d.details?.type === 'suite';
    if (d.skip || d.todo) skipped++;
    else if (ev.type === 'test:pass') { if (!suite) passed++; }
    else if (!suite || d.details?.error?.failureType !== 'subtestsFailed') failed++;
  }
  yield `\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`;
}
