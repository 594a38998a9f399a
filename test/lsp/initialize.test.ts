import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { startServer } from '../support/lsp-client';

test('the built server answers initialize over stdio', async () => {
  const server = startServer();
  try {
    const result: any = await server.connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {},
    });
    assert.equal(result.serverInfo.name, 'optstudy-language-server');
    assert.ok(result.capabilities.textDocumentSync !== undefined);
  } finally {
    await server.stop();
  }
});
