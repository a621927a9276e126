// Runs the JavaScript of one n8n Code node (mode "Run once for all items") outside n8n.
// It provides the parts of the Code node sandbox these workflows use: $input.all() / first(),
// $('Node name').first() / last() / all(), $env, require, and this.helpers.getBinaryDataBuffer.
// Reads {"workflow": path, "node": name, "input": [items], "nodes": {name: [items]}, "env": {}}
// on stdin; prints {"ok": true, "items": [...]} or {"ok": false, "error": message}.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const request = JSON.parse(readFileSync(0, 'utf8'));
const workflow = JSON.parse(readFileSync(request.workflow, 'utf8'));
const node = workflow.nodes.find((n) => n.name === request.node);
if (!node || node.type !== 'n8n-nodes-base.code') throw new Error(`no Code node named ${request.node}`);

const accessor = (items) => ({
	all: () => items,
	first: () => items[0],
	last: () => items[items.length - 1],
	get item() {
		return items[0];
	},
});
const input = request.input ?? [];
const $input = accessor(input);
const $ = (name) => {
	if (!(name in (request.nodes ?? {}))) throw new Error(`node "${name}" has not run in this test`);
	return accessor(request.nodes[name]);
};
const context = {
	helpers: {
		async getBinaryDataBuffer(itemIndex, property) {
			const binary = input[itemIndex]?.binary?.[property];
			if (!binary) throw new Error(`item ${itemIndex} has no binary property ${property}`);
			return Buffer.from(binary.data, 'base64');
		},
	},
};
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
try {
	const run = new AsyncFunction('$input', '$', '$env', 'require', node.parameters.jsCode);
	const items = await run.call(context, $input, $, request.env ?? {}, require);
	process.stdout.write(JSON.stringify({ ok: true, items }));
} catch (error) {
	process.stdout.write(JSON.stringify({ ok: false, error: String(error?.message ?? error) }));
}
