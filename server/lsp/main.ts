/**
 * The OptStudy language server entry: `node dist/server.js --stdio`.
 * Wiring only; each feature is a pure function of the grammar model (server/lsp/*.ts).
 */
import { createConnection, ProposedFeatures, TextDocuments, TextDocumentSyncKind } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);

connection.onInitialize(() => ({
  capabilities: {
    textDocumentSync: TextDocumentSyncKind.Incremental,
  },
  serverInfo: { name: 'optstudy-language-server', version: '0.1.0' },
}));

documents.listen(connection);
connection.listen();
