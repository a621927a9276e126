#!/usr/bin/env node
// Checks n8n workflow JSON files against the node and credential definitions shipped in
// n8n-nodes-base (the same descriptions the n8n 2.41.1 editor loads), without starting n8n.
//
// Usage: node validate.mjs [--json] [workflow.json ...]   (default: every ../*.json)
// Exit status 0 when no problem was found, 1 otherwise; --json prints {"problems": [...]}.

import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

// n8n-nodes-base publishes every node description (all versions) and credential type as JSON for
// the editor; reading those avoids executing node code that needs the rest of n8n.
const basePackageDir = dirname(require.resolve('n8n-nodes-base/package.json'));
const nodeDescriptions = JSON.parse(readFileSync(join(basePackageDir, 'dist/types/nodes.json'), 'utf8'));
const credentialDescriptions = JSON.parse(
	readFileSync(join(basePackageDir, 'dist/types/credentials.json'), 'utf8'),
);
const basePackageVersion = JSON.parse(readFileSync(join(basePackageDir, 'package.json'), 'utf8')).version;

/** node type -> Map(version -> description) */
const nodeVersions = new Map();
for (const description of nodeDescriptions) {
	const type = description.name.includes('.') ? description.name : `n8n-nodes-base.${description.name}`;
	if (!nodeVersions.has(type)) nodeVersions.set(type, new Map());
	const versions = Array.isArray(description.version) ? description.version : [description.version];
	for (const version of versions) nodeVersions.get(type).set(Number(version), description);
}
const credentialTypes = new Set(credentialDescriptions.map((credential) => credential.name));

// Credential ids in shared files must be obvious placeholders, never ids of a real n8n instance.
const PLACEHOLDER_ID = /^PLACEHOLDER_[A-Z0-9_]+$/;
const SECRET_PATTERNS = [
	[/xox[abposr]-[A-Za-z0-9-]{6,}/, 'Slack token (xox…)'],
	[/\bpat[A-Za-z0-9]{10,}\.[A-Za-z0-9]{16,}/, 'Airtable personal access token (pat…)'],
	[/Bearer\s+ey[A-Za-z0-9_-]{8,}/, 'Bearer JWT'],
	[/\bey[A-Za-z0-9_-]{15,}\.ey[A-Za-z0-9_-]{10,}/, 'JWT'],
	[/\bpp_[A-Za-z0-9_-]{16,}/, 'PersonaPulse API key (pp_…)'],
	[/\bwhsec_[A-Za-z0-9+/=]{16,}/, 'Standard Webhooks signing secret (whsec_…)'],
	[/\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}/, 'Stripe-style secret key'],
	[/\bsk-[A-Za-z0-9]{20,}/, 'API secret key (sk-…)'],
	[/\bgh[pousr]_[A-Za-z0-9]{20,}/, 'GitHub token'],
	[/\bpat-(?:na|eu)\d-[0-9a-f-]{20,}/, 'HubSpot private app token'],
	[/\bAKIA[0-9A-Z]{16}\b/, 'AWS access key id'],
	[/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'private key'],
];

const isExpression = (value) => typeof value === 'string' && value.startsWith('=');

/** Does `value` satisfy one entry of a displayOptions list (plain value or {_cnd: {...}})? */
function matchesCondition(expected, value) {
	if (expected && typeof expected === 'object' && '_cnd' in expected) {
		const [[operator, operand]] = Object.entries(expected._cnd);
		switch (operator) {
			case 'eq': return value === operand;
			case 'not': return value !== operand;
			case 'gte': return value >= operand;
			case 'lte': return value <= operand;
			case 'gt': return value > operand;
			case 'lt': return value < operand;
			case 'between': return value >= operand.from && value <= operand.to;
			case 'startsWith': return typeof value === 'string' && value.startsWith(operand);
			case 'endsWith': return typeof value === 'string' && value.endsWith(operand);
			case 'includes': return typeof value === 'string' && value.includes(operand);
			case 'regex': return typeof value === 'string' && new RegExp(operand).test(value);
			case 'exists': return value !== undefined && value !== null && value !== '';
			default: return true; // an operator this script does not know: do not hide the property
		}
	}
	return expected === value;
}

/** Evaluates top-level properties of one node version against the node's parameters. */
class ParameterScope {
	constructor(description, parameters, typeVersion) {
		this.properties = description.properties ?? [];
		this.parameters = parameters ?? {};
		this.typeVersion = typeVersion;
		this.resolving = new Set();
	}

	/** The parameter's value as n8n would see it: the saved one, else the active property's default. */
	value(name) {
		if (name === '@version') return this.typeVersion;
		const key = name.replace(/^\//, '');
		if (key in this.parameters) return this.parameters[key];
		if (this.resolving.has(key)) return undefined;
		this.resolving.add(key);
		try {
			const property = this.properties.find((p) => p.name === key && this.isShown(p));
			return property?.default;
		} finally {
			this.resolving.delete(key);
		}
	}

	isShown(property) {
		const { show, hide } = property.displayOptions ?? {};
		for (const [name, expected] of Object.entries(show ?? {})) {
			const actual = this.value(name);
			// An expression decides at run time: treat it as matching rather than report noise.
			if (isExpression(actual)) continue;
			const values = Array.isArray(actual) ? actual : [actual];
			if (!expected.some((e) => values.some((v) => matchesCondition(e, v)))) return false;
		}
		for (const [name, expected] of Object.entries(hide ?? {})) {
			const actual = this.value(name);
			if (isExpression(actual)) continue;
			const values = Array.isArray(actual) ? actual : [actual];
			if (expected.some((e) => values.some((v) => matchesCondition(e, v)))) return false;
		}
		return true;
	}
}

const isEmpty = (value) =>
	value === undefined || value === null || value === '' ||
	(Array.isArray(value) && value.length === 0) ||
	(typeof value === 'object' && !Array.isArray(value) && value !== null && Object.keys(value).length === 0);

/** Checks the keys inside collection / fixedCollection values (names only; display rules inside are not evaluated). */
function checkNested(property, value, path, report) {
	if (value === null || typeof value !== 'object' || isExpression(value)) return;
	if (property.type === 'collection') {
		const known = new Map((property.options ?? []).map((option) => [option.name, option]));
		for (const [key, inner] of Object.entries(value)) {
			const option = known.get(key);
			if (!option) report('unknown_parameter', `${path}.${key} is not an option of "${property.name}"`);
			else checkNested(option, inner, `${path}.${key}`, report);
		}
	} else if (property.type === 'fixedCollection') {
		const groups = new Map((property.options ?? []).map((option) => [option.name, option]));
		for (const [groupName, entries] of Object.entries(value)) {
			const group = groups.get(groupName);
			if (!group) {
				report('unknown_parameter', `${path}.${groupName} is not an option of "${property.name}"`);
				continue;
			}
			const fields = new Map((group.values ?? []).map((field) => [field.name, field]));
			const items = Array.isArray(entries) ? entries : [entries];
			items.forEach((item, index) => {
				if (item === null || typeof item !== 'object') return;
				for (const [key, inner] of Object.entries(item)) {
					const field = fields.get(key);
					if (!field) report('unknown_parameter', `${path}.${groupName}[${index}].${key} is not a field of "${groupName}"`);
					else checkNested(field, inner, `${path}.${groupName}[${index}].${key}`, report);
				}
			});
		}
	} else if (property.type === 'options' && typeof value === 'string') {
		// handled by the caller for top-level options
	}
}

/** A resource locator ({__rl, mode, value}) must use one of the property's modes and pass its regex. */
function checkResourceLocator(shown, key, value, report) {
	if (value === null || typeof value !== 'object' || isExpression(value)) return;
	const modes = shown.flatMap((p) => p.modes ?? []);
	const mode = modes.find((m) => m.name === value.mode);
	if (!mode) {
		report('invalid_option_value', `"${key}" uses mode "${value.mode}"; the modes are ${JSON.stringify(modes.map((m) => m.name))}`);
		return;
	}
	if (isExpression(value.value) || typeof value.value !== 'string' || value.value === '') return;
	for (const rule of mode.validation ?? []) {
		// n8n anchors these patterns: the whole value must match.
		if (rule.type === 'regex' && !new RegExp(`^${rule.properties.regex}$`).test(value.value)) {
			report('invalid_option_value', `"${key}" = "${value.value}": ${rule.properties.errorMessage ?? 'does not match ' + rule.properties.regex}`);
		}
	}
}

/** How many outputs of type main a node has, or undefined when it cannot be told statically. */
function mainOutputCount(description, node) {
	// "Continue (using error output)" adds one output after the node's own ones.
	const errorOutput = node.onError === 'continueErrorOutput' ? 1 : 0;
	const own = ownMainOutputCount(description, node);
	return own === undefined ? undefined : own + errorOutput;
}

function ownMainOutputCount(description, node) {
	let { outputs } = description;
	if (typeof outputs === 'string' && /^=\{\{[\s\S]*\}\}$/.test(outputs.trim())) {
		// Dynamic outputs are an expression over the parameters; the package is trusted code, so
		// evaluate it the way the editor does, with the node's parameters and version.
		try {
			const body = outputs.trim().slice(3, -2);
			outputs = new Function('$parameter', '$nodeVersion', `return (${body});`)(
				node.parameters ?? {},
				Number(node.typeVersion),
			);
		} catch {
			outputs = undefined;
		}
	}
	if (Array.isArray(outputs)) {
		return outputs.filter((output) => output === 'main' || output?.type === 'main').length;
	}
	if (node.type === 'n8n-nodes-base.switch' && node.typeVersion >= 3) {
		const parameters = node.parameters ?? {};
		const fallback = parameters.options?.fallbackOutput === 'extra' ? 1 : 0;
		if ((parameters.mode ?? 'rules') === 'rules') return (parameters.rules?.values?.length ?? 0) + fallback;
		return Number(parameters.numberOutputs ?? 4);
	}
	return undefined;
}

function checkWorkflow(file) {
	const problems = [];
	const name = basename(file);
	const text = readFileSync(file, 'utf8');
	const add = (code, message, node) => problems.push({ file: name, node: node ?? null, code, message });

	for (const [pattern, what] of SECRET_PATTERNS) {
		const match = text.match(pattern);
		if (match) add('secret_in_file', `looks like a ${what}: "${match[0].slice(0, 12)}…"`);
	}

	let workflow;
	try {
		workflow = JSON.parse(text);
	} catch (error) {
		add('invalid_json', String(error));
		return problems;
	}
	if (workflow.active !== false) add('workflow_active', '"active" must be false in a shared workflow');
	if (typeof workflow.name !== 'string' || !workflow.name) add('missing_name', 'the workflow has no name');
	const nodes = Array.isArray(workflow.nodes) ? workflow.nodes : [];
	if (!nodes.length) add('no_nodes', 'the workflow has no nodes');
	if (!nodes.some((node) => node.type === 'n8n-nodes-base.stickyNote')) {
		add('missing_sticky_note', 'no sticky note explains the set-up');
	}

	const byName = new Map();
	for (const node of nodes) {
		if (byName.has(node.name)) add('duplicate_node_name', `two nodes are named "${node.name}"`, node.name);
		byName.set(node.name, node);
	}

	for (const node of nodes) {
		const report = (code, message) => add(code, message, node.name);
		if (!Array.isArray(node.position) || node.position.length !== 2) report('missing_position', 'position must be [x, y]');
		const versions = nodeVersions.get(node.type);
		if (!versions) {
			report('unknown_node_type', `node type "${node.type}" does not exist in n8n-nodes-base ${basePackageVersion}`);
			continue;
		}
		const description = versions.get(Number(node.typeVersion));
		if (!description) {
			report(
				'unknown_type_version',
				`${node.type} has no typeVersion ${node.typeVersion} (known: ${[...versions.keys()].sort((a, b) => a - b).join(', ')})`,
			);
			continue;
		}
		const parameters = node.parameters ?? {};
		const scope = new ParameterScope(description, parameters, Number(node.typeVersion));
		const properties = description.properties ?? [];

		for (const [key, value] of Object.entries(parameters)) {
			const candidates = properties.filter((p) => p.name === key);
			if (!candidates.length) {
				report('unknown_parameter', `"${key}" is not a parameter of ${node.type} v${node.typeVersion}`);
				continue;
			}
			const shown = candidates.filter((p) => scope.isShown(p));
			if (!shown.length) {
				report('hidden_parameter', `"${key}" is not shown with these settings (displayOptions) of ${node.type} v${node.typeVersion}`);
				continue;
			}
			const property = shown[0];
			if (property.type === 'options' && !isExpression(value) && Array.isArray(property.options)) {
				const allowed = shown.flatMap((p) => (p.options ?? []).map((o) => o.value));
				if (!allowed.includes(value)) {
					report('invalid_option_value', `"${key}" = ${JSON.stringify(value)} is not one of ${JSON.stringify(allowed)}`);
				}
			}
			if (property.type === 'resourceLocator') checkResourceLocator(shown, key, value, report);
			for (const candidate of shown) {
				if (candidate.type === 'collection' || candidate.type === 'fixedCollection') {
					const before = problems.length;
					const nested = [];
					checkNested(candidate, value, key, (code, message) => nested.push([code, message]));
					// Several same-named collections may be shown; report only if none accepts the value.
					if (nested.length && candidate === shown[shown.length - 1]) {
						const anyAccepts = shown.some((other) => {
							const found = [];
							checkNested(other, value, key, (c, m) => found.push([c, m]));
							return found.length === 0;
						});
						if (!anyAccepts) for (const [code, message] of nested) report(code, message);
					}
					void before;
				}
			}
		}

		for (const property of properties) {
			if (!property.required || !scope.isShown(property)) continue;
			if (property.type === 'notice' || property.type === 'hidden') continue;
			// Shown duplicates of the same name count once: the parameter is present or it is not.
			const value = parameters[property.name];
			if (property.name in parameters ? isEmpty(value) : isEmpty(property.default)) {
				report('missing_required_parameter', `required parameter "${property.name}" (${property.displayName}) is missing`);
			}
		}

		const allowedCredentials = (description.credentials ?? []).filter((c) => scope.isShown(c));
		const allCredentialNames = new Set((description.credentials ?? []).map((c) => c.name));
		// The HTTP Request node takes any credential type through "predefined" or "generic" auth.
		const acceptsAnyCredential =
			node.type === 'n8n-nodes-base.httpRequest' &&
			['predefinedCredentialType', 'genericCredentialType'].includes(parameters.authentication);
		for (const [credentialType, reference] of Object.entries(node.credentials ?? {})) {
			if (!credentialTypes.has(credentialType)) {
				report('unknown_credential_type', `credential type "${credentialType}" does not exist`);
				continue;
			}
			if (acceptsAnyCredential) {
				const chosen = parameters.authentication === 'genericCredentialType' ? parameters.genericAuthType : parameters.nodeCredentialType;
				if (chosen !== credentialType) report('credential_not_allowed', `"${credentialType}" is attached but the node is set to use "${chosen}"`);
			} else if (!allowedCredentials.some((c) => c.name === credentialType)) {
				report(
					'credential_not_allowed',
					allCredentialNames.has(credentialType)
						? `"${credentialType}" does not apply with these settings (allowed: ${allowedCredentials.map((c) => c.name).join(', ') || 'none'})`
						: `${node.type} does not accept "${credentialType}" (allowed: ${[...allCredentialNames].join(', ') || 'none'})`,
				);
			}
			if (reference && typeof reference === 'object' && 'id' in reference && !PLACEHOLDER_ID.test(String(reference.id))) {
				report('credential_id', `credential "${credentialType}" carries id "${reference.id}"; use a PLACEHOLDER_… id or none`);
			}
			if (!reference?.name) report('credential_without_name', `credential "${credentialType}" has no display name`);
		}
		for (const required of allowedCredentials.filter((c) => c.required)) {
			if (!(required.name in (node.credentials ?? {}))) {
				report('missing_credential', `needs a "${required.name}" credential`);
			}
		}
	}

	const connections = workflow.connections ?? {};
	for (const [source, byType] of Object.entries(connections)) {
		const sourceNode = byName.get(source);
		if (!sourceNode) {
			add('dangling_connection', `connections start at "${source}", which is not a node`, source);
			continue;
		}
		const description = nodeVersions.get(sourceNode.type)?.get(Number(sourceNode.typeVersion));
		for (const [connectionType, outputs] of Object.entries(byType)) {
			const outputCount = connectionType === 'main' && description ? mainOutputCount(description, sourceNode) : undefined;
			(outputs ?? []).forEach((targets, outputIndex) => {
				if (outputCount !== undefined && outputIndex >= outputCount && (targets ?? []).length) {
					add('invalid_output_index', `output ${outputIndex} does not exist (the node has ${outputCount} main output(s))`, source);
				}
				for (const target of targets ?? []) {
					const targetNode = byName.get(target.node);
					if (!targetNode) {
						add('dangling_connection', `output ${outputIndex} goes to "${target.node}", which is not a node`, source);
						continue;
					}
					const targetDescription = nodeVersions.get(targetNode.type)?.get(Number(targetNode.typeVersion));
					const inputs = targetDescription?.inputs;
					if (Array.isArray(inputs)) {
						const mainInputs = inputs.filter((input) => input === 'main' || input?.type === 'main').length;
						if (target.index >= mainInputs) {
							add('invalid_input_index', `input ${target.index} of "${target.node}" does not exist (${mainInputs} main input(s))`, source);
						}
					}
				}
			});
		}
	}
	return problems;
}

const args = process.argv.slice(2);
const asJson = args.includes('--json');
let files = args.filter((arg) => arg !== '--json').map((arg) => resolve(arg));
if (!files.length) {
	const workflowsDir = resolve(here, '..');
	files = readdirSync(workflowsDir).filter((f) => f.endsWith('.json')).sort().map((f) => join(workflowsDir, f));
}
// Secrets must not hide in the README either.
const problems = files.flatMap(checkWorkflow);
if (asJson) {
	process.stdout.write(JSON.stringify({ n8nNodesBase: basePackageVersion, files: files.map((f) => basename(f)), problems }, null, 2) + '\n');
} else {
	for (const p of problems) console.log(`${p.file}${p.node ? ` [${p.node}]` : ''}: ${p.code}: ${p.message}`);
	console.log(`${files.length} workflow(s) checked against n8n-nodes-base ${basePackageVersion}: ${problems.length} problem(s)`);
}
process.exitCode = problems.length ? 1 : 0;
