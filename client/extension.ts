/**
 * The OptStudy extension: starts the language client and registers the commands.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const serverModule = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.stdio },
    debug: { module: serverModule, transport: TransportKind.stdio },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: 'optstudy' }],
    outputChannelName: 'OptStudy',
  };
  client = new LanguageClient('optstudy', 'OptStudy Language Server', serverOptions, clientOptions);
  await client.start();
  for (const id of ['optstudy.run', 'optstudy.cancel', 'optstudy.showResults']) {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, () => vscode.window.showInformationMessage(`${id}: not available yet.`)),
    );
  }
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
