// A node:test reporter that prints one closing line, `N passed, N failed, N skipped`, after the
// spec reporter's output, so the whole run (every suite) ends with one plain count.
// Counted: each test; a cancelled test (its suite's hook failed) is a failure; a suite that fails
// by itself (a hook) counts once more, so a failing `after` hook can never read as "0 failed";
// todo and skipped tests, and tests of a skipped suite (counted as one), are skipped.
// With OPTSTUDY_TEST_SUMMARY set, the skipped tests (name and reason) are also written there as
// JSON, for scripts/test.mjs.
import { writeFileSync } from 'node:fs';

export default async function* summary(source) {
  let passed = 0;
  let failed = 0;
  const skipped = [];
  for await (const ev of source) {
    if (ev.type !== 'test:pass' && ev.type !== 'test:fail') continue;
    const d = ev.data;
    const suite = d.details?.type === 'suite';
    if (d.skip || d.todo) skipped.push({ name: d.name, reason: typeof d.skip === 'string' ? d.skip : typeof d.todo === 'string' ? d.todo : '' });
    else if (ev.type === 'test:pass') { if (!suite) passed++; }
    else if (!suite || d.details?.error?.failureType !== 'subtestsFailed') failed++;
  }
  if (process.env.OPTSTUDY_TEST_SUMMARY) writeFileSync(process.env.OPTSTUDY_TEST_SUMMARY, JSON.stringify({ passed, failed, skipped }));
  yield `\n${passed} passed, ${failed} failed${skipped.length ? `, ${skipped.length} skipped` : ''}\n`;
}
