"""OpenAPI 3.1 generated from the same pydantic schemas that validate requests, plus a docs page.

Views carry their description through ``@documented(...)``; the document is built from the URL map, so
an endpoint cannot exist without appearing here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify
from pydantic import BaseModel

import personapulse

bp = Blueprint("openapi", __name__)

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message"],
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "reason"],
                        "properties": {
                            "field": {"type": "string"},
                            "reason": {"type": "string"},
                            "index": {"type": "integer"},
                        },
                    },
                },
            },
        }
    },
}

Schema = type[BaseModel] | dict[str, Any]


def documented(
    *,
    summary: str,
    tag: str,
    body: Schema | None = None,
    body_content_types: tuple[str, ...] = ("application/json",),
    responses: dict[int, Schema | str | None] | None = None,
    query: dict[str, dict[str, Any]] | None = None,
    description: str | None = None,
) -> Callable:
    """Attach the OpenAPI description of a view. ``responses`` maps status → schema or description."""

    def decorator(view: Callable) -> Callable:
        view._openapi = {
            "summary": summary,
            "tag": tag,
            "body": body,
            "body_content_types": body_content_types,
            "responses": responses or {200: None},
            "query": query or {},
            "description": description,
        }
        return view

    return decorator


class _Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}

    def ref(self, schema: Schema) -> dict[str, Any]:
        if isinstance(schema, dict):
            return schema
        generated = schema.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in generated.pop("$defs", {}).items():
            self.schemas.setdefault(name, definition)
        self.schemas.setdefault(schema.__name__, generated)
        return {"$ref": f"#/components/schemas/{schema.__name__}"}


def _error_response(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _path_template(rule: str) -> tuple[str, list[dict]]:
    """Flask's /v1/jobs/<job_id> → OpenAPI's /v1/jobs/{job_id} and its path parameters."""
    params = []
    parts = []
    for part in rule.split("/"):
        if part.startswith("<") and part.endswith(">"):
            converter, _, name = part[1:-1].rpartition(":")
            kind = "integer" if converter.startswith("int") else "string"
            params.append({"name": name, "in": "path", "required": True, "schema": {"type": kind}})
            parts.append("{" + name + "}")
        else:
            parts.append(part)
    return "/".join(parts), params


def build_document(app: Flask) -> dict[str, Any]:
    components = _Components()
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        spec = getattr(view, "_openapi", None)
        if spec is None:
            continue
        path, path_params = _path_template(rule.rule)
        scope = getattr(view, "_required_scope", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation: dict[str, Any] = {
                "operationId": f"{rule.endpoint.replace('.', '_')}_{method.lower()}",
                "summary": spec["summary"],
                "tags": [spec["tag"]],
                "parameters": path_params
                + [
                    {"name": name, "in": "query", "required": False, **param}
                    for name, param in spec["query"].items()
                ],
                "responses": {},
            }
            if spec["description"]:
                operation["description"] = spec["description"]
            if spec["body"] is not None:
                schema = components.ref(spec["body"])
                operation["requestBody"] = {
                    "required": True,
                    "content": {
                        ct: {"schema": schema if ct == "application/json" else {"type": "string"}}
                        for ct in spec["body_content_types"]
                    },
                }
            for status, response in spec["responses"].items():
                if isinstance(response, str) or response is None:
                    operation["responses"][str(status)] = {"description": response or "OK"}
                else:
                    operation["responses"][str(status)] = {
                        "description": "OK",
                        "content": {"application/json": {"schema": components.ref(response)}},
                    }
            if scope:
                operation["security"] = [{"apiKey": []}, {"bearer": []}]
                operation["description"] = (
                    operation.get("description", "") + f"\n\nScope: `{scope}`."
                ).strip()
                operation["responses"].setdefault(
                    "401", _error_response("missing or invalid API key")
                )
                operation["responses"].setdefault(
                    "403", _error_response(f"the key lacks the '{scope}' scope")
                )
            if spec["body"] is not None:
                operation["responses"].setdefault("400", _error_response("malformed JSON"))
                operation["responses"].setdefault(
                    "413", _error_response("body over the size limit")
                )
                operation["responses"].setdefault("415", _error_response("wrong content type"))
                operation["responses"].setdefault(
                    "422", _error_response("invalid fields, each named")
                )
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "PersonaPulse API",
            "version": personapulse.__version__,
            "description": "Customer personas from real behaviour: ingestion, personas, reviews, journeys.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components.schemas,
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


@bp.get("/openapi.json")
@documented(summary="This OpenAPI 3.1 document", tag="service")
def openapi_json():
    document = current_app.extensions.get("personapulse.openapi")
    if document is None:
        document = current_app.extensions["personapulse.openapi"] = build_document(current_app)
    return jsonify(document)


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>PersonaPulse API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1a1a1a;padding:0 1rem}
h1{font-size:1.6rem} h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ccc}
.op{margin:.6rem 0;padding:.5rem .8rem;border-left:4px solid #2b6cb0;background:#f5f8fc}
.m{font-weight:700;display:inline-block;min-width:4.5rem} code{background:#eef;padding:0 .2rem}
pre{background:#f6f6f6;padding:.5rem;overflow:auto;max-height:20rem}
</style></head><body><h1>PersonaPulse API</h1>
<p>Machine-readable: <a href="openapi.json">openapi.json</a> (OpenAPI 3.1). Authenticate with
<code>X-API-Key</code> or <code>Authorization: Bearer</code>.</p><main id="ops">Loading…</main>
<script>
fetch('openapi.json').then(r=>r.json()).then(doc=>{
  const byTag={};
  for(const [path,ops] of Object.entries(doc.paths)) for(const [m,op] of Object.entries(ops))
    (byTag[op.tags[0]]=byTag[op.tags[0]]||[]).push([m,path,op]);
  const main=document.getElementById('ops'); main.textContent='';
  for(const [tag,list] of Object.entries(byTag)){
    const h=document.createElement('h2'); h.textContent=tag; main.appendChild(h);
    for(const [m,path,op] of list){
      const d=document.createElement('details'); d.className='op';
      const s=document.createElement('summary');
      s.innerHTML='<span class="m"></span><code></code> — <span></span>';
      s.children[0].textContent=m.toUpperCase(); s.children[1].textContent=path; s.children[2].textContent=op.summary;
      const pre=document.createElement('pre'); pre.textContent=JSON.stringify(op,null,2);
      d.appendChild(s); d.appendChild(pre); main.appendChild(d);
    }
  }
});
</script></body></html>"""


@bp.get("/docs")
@documented(summary="Human-readable API documentation (HTML)", tag="service")
def docs_page():
    return DOCS_PAGE, 200, {"Content-Type": "text/html; charset=utf-8"}
