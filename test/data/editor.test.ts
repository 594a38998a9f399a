/**
 * Data statements in the editor, over real LSP with the built language server: the loader's
 * findings (invalid prices, a FIFO, a link leaving the workspace) on the `data` line, and
 * warnings for skipped rows.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LspSession } from '../support/lsp-session';
import { tempFolder } from '../support/temp';

const STUDY = (data: string) => `study "s" {\n  strategy sma_cross\n  data "${data}"\n  objective maximize sharpe\n  stage "g" {\n    param fast in [5, 10]\n  }\n}\n`;

test('the loader’s findings show on the data line: invalid prices, a FIFO, a link out of the workspace, skipped rows', async () => {
  const root = tempFolder('optstudy-editor-');
  const outside = tempFolder('optstudy-editor-out-');
  fs.writeFileSync(path.join(root, 'bad.csv'), 'Date,Open,High,Low,Close\n2020-01-02,1,2,0.5,1.5\n2020-01-03,1,2,0.5,-1.5\n');
  fs.writeFileSync(path.join(root, 'nulls.csv'), 'Date,Open,High,Low,Close\n2020-01-02,1,2,0.5,1.5\n2020-01-03,null,null,null,null\n2020-01-06,1,2,0.5,1.5\n');
  execFileSync('mkfifo', [path.join(root, 'pipe.csv')]);
  fs.writeFileSync(path.join(outside, 'x.csv'), 'Date,Open,High,Low,Close\n2020-01-02,1,2,0.5,1.5\n');
  fs.symlinkSync(path.join(outside, 'x.csv'), path.join(root, 'link.csv'));
  const s = await LspSession.start({ root });
  try {
    const find = async (name: string, data: string, code: string) => {
      const items = await s.diagnostics(s.open(path.join(root, name), STUDY(data)));
      const d = items.find((x) => x.code === code);
      assert.ok(d, `${name}: ${JSON.stringify(items)}`);
      assert.equal(d.range.start.line, 2, `${name}: on the data line`);
      return d;
    };
    assert.match((await find('bad.optstudy', 'bad.csv', 'data-file-invalid')).message, /^bad\.csv:3: the price -1\.5 in column 'Close' is not positive/);
    assert.match((await find('pipe.optstudy', 'pipe.csv', 'data-file-unreadable')).message, /is a named pipe \(FIFO\), not a regular file/);
    assert.match((await find('link.optstudy', 'link.csv', 'path-outside-workspace')).message, /is a link to a place outside the workspace/);
    const w = await find('nulls.optstudy', 'nulls.csv', 'data-warning');
    assert.equal(w.severity, 2);
    assert.match(w.message, /^nulls\.csv: 1 row with a missing price skipped \(first: line 3\)/);
  } finally {
    await s.stop();
  }
});
