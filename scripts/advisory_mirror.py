"""A local advisory service, so `pip-audit` and `npm audit` run unchanged where their own is unreachable.

It serves stored copies of public advisory databases over the protocols the tools speak:

- OSV ``POST /v1/query`` (``{"package": {"name", "ecosystem": "PyPI"}, "version"}`` → ``{"vulns":
  [record, …]}``), for ``pip-audit --vulnerability-service osv --osv-url URL/v1/query``, from OSV
  records: YAML as in github.com/pypa/advisory-database (``vulns/*/*.yaml``) or JSON as in
  github.com/github/advisory-database (``advisories/**/*.json``, every ecosystem; PyPI's are used);
- npm's ``POST /-/npm/v1/security/advisories/bulk`` (``{name: [version, …]}``, gzipped →
  ``{name: [advisory, …]}``), for ``npm audit --registry URL/``, from the Node.js security working
  group's advisories (github.com/nodejs/security-wg, ``vuln/npm/*.json``; none added since 2019)
  and OSV records of the npm ecosystem (github/advisory-database, the registry's own source).
  Packuments (a package's published versions) are needed by the mirror, to list a package's
  affected versions, and by npm (``GET /<name>``), to find a fixed one; they come from
  ``--packuments DIR`` when given, otherwise from ``--upstream-registry``.

npm trusts the ``vulnerable_versions`` range of each answer, and the working group's ranges often
ignore the fix (mqtt's advisory 357 says ">=2.0.0", patched ">=2.15.0"), so every advisory is
answered with the exact versions of the packument it affects. Working-group ranges are evaluated
as node-semver does (``tests/scripts/test_advisory_mirror.py`` checks that against npm's own copy
of semver); OSV events are walked as the OSV specification says, in semver order for npm.

Usage:
    python scripts/advisory_mirror.py --pypa DIR --npm DIR [--port 0]       # serve (both repeatable)
    python scripts/advisory_mirror.py --pypa DIR --npm DIR --audit          # serve, run the audits
``--audit`` runs pip-audit over this interpreter's environment and over pyproject's lower bounds,
and npm audit in each of the project's npm folders; it exits 1 if any of them finds something.
The first line on stdout is ``{"url": "http://127.0.0.1:PORT"}``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import json
import operator
import re
import subprocess
import sys
import tempfile
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import requests
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

REPO = Path(__file__).resolve().parent.parent
# The npm projects whose lockfiles `--audit` checks, dev dependencies included (they run in CI).
NPM_PROJECTS = ("zapier_app", "webhooks/static", "n8n_workflows/validator", "n8n_workflows/live")

# ---------------------------------------------------------------------------------------------
# node-semver ranges, as `semver.satisfies(version, range)` evaluates them (not loose, no
# includePrerelease): enough of the grammar for the advisory ranges (comparators, x-ranges, ~, ^,
# hyphen ranges, ||).


class SemverError(ValueError):
    pass


_VERSION = re.compile(
    r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$",
)
_PARTIAL = re.compile(
    r"^v?(\d+|[xX*])(?:\.(\d+|[xX*])(?:\.(\d+|[xX*])(?:-?([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?)?)?$"
)
_COMPARATOR = re.compile(r"^(<=|>=|<|>|=|~>?|\^)?\s*=?\s*(.*)$")


@functools.total_ordering
class SemVer:
    """A full semantic version with node-semver's ordering (a prerelease sorts below its release)."""

    __slots__ = ("major", "minor", "patch", "prerelease")

    def __init__(self, major: int, minor: int, patch: int, prerelease: tuple = ()):
        self.major, self.minor, self.patch, self.prerelease = major, minor, patch, prerelease

    @classmethod
    def parse(cls, text: str) -> SemVer:
        match = _VERSION.match(text.strip())
        if not match:
            raise SemverError(f"not a semantic version: {text!r}")
        major, minor, patch, pre = match.groups()
        return cls(int(major), int(minor), int(patch), _prerelease(pre))

    def _key(self) -> tuple:
        # No prerelease sorts after any prerelease of the same release; numeric identifiers sort
        # before alphanumeric ones; a shorter identifier list sorts first when it is a prefix.
        pre = tuple(
            (0, part, "") if isinstance(part, int) else (1, 0, part) for part in self.prerelease
        )
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

    def __lt__(self, other: SemVer) -> bool:
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SemVer) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


def _prerelease(text: str | None) -> tuple:
    if not text:
        return ()
    return tuple(int(part) if part.isdigit() else part for part in text.split("."))


def _is_x(part: str | None) -> bool:
    return part is None or part in ("x", "X", "*")


def _comparators(op: str, text: str) -> list[tuple[str, SemVer]]:
    """One comparator token (``>=1.2``, ``~1.2.3``, ``1.x``) → plain ``(op, version)`` pairs."""
    if text == "":
        return [(">=", SemVer(0, 0, 0))]
    match = _PARTIAL.match(text)
    if not match:
        raise SemverError(f"not a version or range: {text!r}")
    major_s, minor_s, patch_s, pre_s = match.groups()
    if _is_x(major_s):
        return [("<", SemVer(0, 0, 0, (0,)))] if op in ("<", ">") else [(">=", SemVer(0, 0, 0))]
    major = int(major_s)
    minor = None if _is_x(minor_s) else int(minor_s)
    patch = None if minor is None or _is_x(patch_s) else int(patch_s)
    pre = _prerelease(pre_s) if patch is not None else ()
    lowest = SemVer(major, minor or 0, patch or 0, pre)

    def next_up() -> SemVer:  # the first version past the partial one, as a "-0" prerelease
        if minor is None:
            return SemVer(major + 1, 0, 0, (0,))
        return SemVer(major, minor + 1, 0, (0,))

    if op in ("~", "~>"):
        return [(">=", lowest), ("<", next_up())]
    if op == "^":
        if major > 0 or minor is None:
            return [(">=", lowest), ("<", SemVer(major + 1, 0, 0, (0,)))]
        if minor > 0 or patch is None:
            return [(">=", lowest), ("<", SemVer(0, minor + 1, 0, (0,)))]
        return [(">=", lowest), ("<", SemVer(0, 0, patch + 1, (0,)))]
    if patch is not None:  # a full version: the operator as written
        return [(op or "=", lowest)]
    # An x-range: "1.2" is ">=1.2.0 <1.3.0-0" and the operators widen or narrow it.
    if op in ("", "="):
        return [(">=", lowest), ("<", next_up())]
    if op == ">":
        bumped = next_up()
        return [(">=", SemVer(bumped.major, bumped.minor, 0))]
    if op == ">=":
        return [(">=", lowest)]
    if op == "<":
        return [("<", SemVer(major, minor or 0, 0, (0,)))]
    return [("<", next_up())]  # "<="


def parse_range(text: str) -> list[list[tuple[str, SemVer]]]:
    """A node-semver range → a list of comparator sets (any set may match; all of one set must)."""
    sets = []
    for part in re.split(r"\s*\|\|\s*", text.strip()):
        part = part.strip()
        hyphen = re.match(r"^(\S+)\s+-\s+(\S+)$", part)
        if hyphen:
            low, high = hyphen.groups()
            sets.append(_comparators(">=", low) + _comparators("<=", high))
            continue
        # Operators may be followed by spaces (">= 1.2.3"): join them to their version first.
        part = re.sub(r"(<=|>=|<|>|=|~>?|\^)\s+", r"\1", part)
        comparators: list[tuple[str, SemVer]] = []
        for token in part.split() or ["*"]:
            op, rest = _COMPARATOR.match(token).groups()
            comparators.extend(_comparators(op or "", rest))
        sets.append(comparators)
    return sets


_OPERATORS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
}


def satisfies(version: str, range_text: str) -> bool:
    """``semver.satisfies(version, range)``; an unparsable version or range satisfies nothing."""
    try:
        candidate = SemVer.parse(version)
        sets = parse_range(range_text)
    except SemverError:
        return False
    for comparators in sets:
        if not all(_OPERATORS[op](candidate, bound) for op, bound in comparators):
            continue
        if not candidate.prerelease:
            return True
        # A prerelease matches only a set naming a prerelease of the same release.
        if any(
            bound.prerelease
            and (bound.major, bound.minor, bound.patch)
            == (candidate.major, candidate.minor, candidate.patch)
            for _, bound in comparators
        ):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# OSV records (PyPI and npm): which records affect a version.

# Each ecosystem's version parser, and the version an "introduced": "0" event stands for.
_ECOSYSTEMS = {
    "PyPI": (Version, Version("0"), InvalidVersion),
    "npm": (SemVer.parse, SemVer(0, 0, 0, (0,)), SemverError),
}


def _same_package(ecosystem: str, a: str, b: str) -> bool:
    return canonicalize_name(a) == canonicalize_name(b) if ecosystem == "PyPI" else a == b


def osv_affects(record: dict, name: str, version: str, ecosystem: str = "PyPI") -> bool:
    """Whether an OSV record affects ``name`` at ``version``: its version list or ECOSYSTEM ranges."""
    parse, lowest, invalid = _ECOSYSTEMS[ecosystem]
    try:
        wanted = parse(version)
    except invalid:
        return False
    for affected in record.get("affected", []):
        package = affected.get("package", {})
        if package.get("ecosystem") != ecosystem or not _same_package(
            ecosystem, package.get("name", ""), name
        ):
            continue
        for listed in affected.get("versions", []):
            try:
                if parse(listed) == wanted:
                    return True
            except invalid:
                continue
        for version_range in affected.get("ranges", []):
            if version_range.get("type") != "ECOSYSTEM":
                continue
            try:
                if _in_ecosystem_range(version_range.get("events", []), wanted, parse, lowest):
                    return True
            except invalid:
                continue
    return False


def _in_ecosystem_range(events: list[dict], wanted, parse, lowest) -> bool:
    # The OSV spec's evaluation: walk the events in version order; "introduced" opens, "fixed"
    # closes at that version, "last_affected" closes just after it.
    def event_version(event: dict):
        (value,) = event.values()
        return lowest if value == "0" else parse(str(value))

    affected = False
    for bound, event in sorted(
        ((event_version(event), event) for event in events), key=lambda pair: pair[0]
    ):
        if "introduced" in event and wanted >= bound:
            affected = True
        closes = ("fixed" in event and wanted >= bound) or (
            "last_affected" in event and wanted > bound
        )
        if closes:
            affected = False
    return affected


def _osv_packages(record: dict, ecosystem: str) -> set[str]:
    return {
        a["package"]["name"]
        for a in record.get("affected", [])
        if a.get("package", {}).get("ecosystem") == ecosystem and a["package"].get("name")
    }


@functools.cache
def _json_documents(directory: Path) -> tuple[dict, ...]:
    """The JSON files under ``directory`` that may be PyPI or npm advisories, parsed once: one
    github.com/github/advisory-database checkout serves both ecosystems, and holds every other
    ecosystem too (skipped before parsing; the parsed document decides)."""
    documents = []
    for path in sorted(directory.resolve().rglob("*.json")):
        text = path.read_text(encoding="utf-8")
        if '"PyPI"' in text or '"npm"' in text or '"module_name"' in text:
            document = json.loads(text)
            if isinstance(document, dict):
                documents.append(document)
    return tuple(documents)


def _osv_records(directory: Path, ecosystem: str) -> list[dict]:
    """The OSV records under ``directory`` naming ``ecosystem``, withdrawn ones left out."""
    return [
        document
        for document in _json_documents(directory.resolve())
        if "affected" in document
        and not document.get("withdrawn")
        and _osv_packages(document, ecosystem)
    ]


def load_osv(directory: Path) -> dict[str, list[dict]]:
    """Every PyPI record under ``directory``, by canonical package name: YAML as in
    pypa/advisory-database (vulns/<package>/<id>.yaml), or JSON as in github/advisory-database."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    records = []
    for path in sorted(directory.rglob("*.yaml")):
        record = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        if not isinstance(record, dict) or "affected" not in record:
            continue
        # YAML turns unquoted dates into datetimes; OSV's JSON has RFC 3339 strings.
        for key in ("published", "modified", "withdrawn"):
            if key in record and not isinstance(record[key], str):
                record[key] = record[key].isoformat().replace("+00:00", "Z")
        records.append(record)
    records.extend(_osv_records(directory, "PyPI"))
    by_package: dict[str, list[dict]] = {}
    for record in records:
        for name in {canonicalize_name(n) for n in _osv_packages(record, "PyPI")}:
            by_package.setdefault(name, []).append(record)
    return by_package


# ---------------------------------------------------------------------------------------------
# npm advisories.


NPM_SEVERITIES = ("info", "low", "moderate", "high", "critical")


@dataclass(frozen=True)
class NpmAdvisory:
    """One advisory for one npm package, whichever database it came from."""

    id: int | str
    package: str
    title: str
    url: str
    severity: str
    cwe: tuple[str, ...]
    cvss_score: float
    cvss_vector: str | None
    affects: Callable[[str], bool]  # version -> whether it is vulnerable


def _from_working_group(record: dict) -> NpmAdvisory:
    vulnerable, patched = record["vulnerable_versions"], record.get("patched_versions")
    score = record.get("cvss_score")
    return NpmAdvisory(
        id=record["id"],
        package=record["module_name"],
        title=record.get("title") or f"{record['module_name']} advisory",
        url=f"https://github.com/nodejs/security-wg/blob/main/vuln/npm/{record['id']}.json",
        severity=npm_severity(score),
        cwe=tuple(record["cwe"]) if isinstance(record.get("cwe"), list) else (),
        cvss_score=score or 0,
        cvss_vector=record.get("cvss_vector"),
        affects=lambda version: (
            satisfies(version, vulnerable) and not (patched and satisfies(version, patched))
        ),
    )


def _from_osv(record: dict, package: str) -> NpmAdvisory:
    specific = record.get("database_specific") or {}
    # GitHub's records carry its own severity word; npm's names are the same, lower-cased.
    severity = str(specific.get("severity") or "moderate").lower()
    return NpmAdvisory(
        id=record["id"],
        package=package,
        title=record.get("summary") or record["id"],
        url=f"https://github.com/advisories/{record['id']}",
        severity=severity if severity in NPM_SEVERITIES else "moderate",
        cwe=tuple(specific.get("cwe_ids") or ()),
        cvss_score=0,
        cvss_vector=next(
            (s["score"] for s in record.get("severity", []) if s.get("type") == "CVSS_V3"), None
        ),
        affects=lambda version: osv_affects(record, package, version, ecosystem="npm"),
    )


def load_npm(directory: Path) -> dict[str, list[NpmAdvisory]]:
    """Every npm advisory under ``directory``, by package name: the Node.js security working
    group's (vuln/npm/<id>.json) and OSV records such as github/advisory-database's."""
    by_package: dict[str, list[NpmAdvisory]] = {}
    # index.json, a map of every working-group advisory, sits beside them and has none of these.
    required = ("id", "module_name", "vulnerable_versions")
    for document in _json_documents(directory.resolve()):
        if all(document.get(key) for key in required):
            advisory = _from_working_group(document)
            by_package.setdefault(advisory.package, []).append(advisory)
    for record in _osv_records(directory, "npm"):
        for package in _osv_packages(record, "npm"):
            by_package.setdefault(package, []).append(_from_osv(record, package))
    return by_package


def npm_severity(cvss_score: float | None) -> str:
    """CVSS v3's qualitative bands in npm's words; records without a score count as moderate."""
    if cvss_score is None:
        return "moderate"
    if cvss_score >= 9.0:
        return "critical"
    if cvss_score >= 7.0:
        return "high"
    if cvss_score >= 4.0:
        return "moderate"
    return "low" if cvss_score > 0 else "info"


def bulk_answer(
    advisories: list[NpmAdvisory], requested: list[str], published: list[str]
) -> list[dict]:
    """The registry's bulk entries for one package: advisories affecting a requested version, each
    with its exact vulnerable versions (among ``published``, the packument's) as the range."""
    candidates = sorted(set(published) | set(requested))
    entries = []
    for advisory in advisories:
        vulnerable = [version for version in candidates if advisory.affects(version)]
        if not set(vulnerable) & set(requested):
            continue
        entries.append(
            {
                "id": advisory.id,
                "url": advisory.url,
                "title": advisory.title,
                "severity": advisory.severity,
                "vulnerable_versions": " || ".join(vulnerable),
                "cwe": list(advisory.cwe),
                "cvss": {"score": advisory.cvss_score, "vectorString": advisory.cvss_vector},
            }
        )
    return entries


# ---------------------------------------------------------------------------------------------
# The server.


class AdvisoryMirror:
    def __init__(self, osv: dict, npm: dict, packuments: Path | None, upstream: str):
        self.osv = osv
        self.npm = npm
        self.packuments_dir = packuments
        self.upstream = upstream.rstrip("/")
        self._packuments: dict[str, bytes] = {}
        self._versions: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        # For the summary: the PyPI packages asked about, and those with any record on file.
        self.osv_asked: set[str] = set()
        self.osv_on_record: set[str] = set()

    def packument(self, name: str) -> bytes | None:
        with self._lock:
            if name in self._packuments:
                return self._packuments[name]
        if self.packuments_dir is not None:
            path = self.packuments_dir / f"{name.replace('/', '__')}.json"
            body = path.read_bytes() if path.exists() else None
        else:
            try:
                response = requests.get(f"{self.upstream}/{name.replace('/', '%2f')}", timeout=30)
            except requests.RequestException:
                # Without the packument the mirror still judges the versions npm asked about.
                return None
            body = response.content if response.status_code == 200 else None
        with self._lock:
            self._packuments[name] = body
        return body

    def published_versions(self, name: str) -> list[str]:
        if name not in self._versions:
            body = self.packument(name)
            if body is None:  # not cached: an unreachable registry may answer next time
                return []
            self._versions[name] = list(json.loads(body).get("versions", {}))
        return self._versions[name]

    def query_osv(self, query: dict) -> dict:
        package = query.get("package") or {}
        if package.get("ecosystem", "PyPI") != "PyPI" or "version" not in query:
            return {}
        name = canonicalize_name(package.get("name", ""))
        with self._lock:
            self.osv_asked.add(name)
            if name in self.osv:
                self.osv_on_record.add(name)
        vulns = [r for r in self.osv.get(name, []) if osv_affects(r, name, str(query["version"]))]
        return {"vulns": vulns} if vulns else {}

    def query_npm(self, requested: dict[str, list[str]]) -> dict:
        answer = {}
        on_record = [name for name in requested if name in self.npm]
        for name in on_record:
            entries = bulk_answer(
                self.npm[name], list(requested[name]), self.published_versions(name)
            )
            if entries:
                answer[name] = entries
        # What a clean answer covered: how many of the asked packages have advisories at all.
        sys.stderr.write(
            f"advisory-mirror: npm bulk query: {len(requested)} packages, {len(on_record)} with "
            f"advisories on record ({', '.join(sorted(on_record)) or 'none'}), {len(answer)} affected\n"
        )
        return answer


def make_handler(mirror: AdvisoryMirror) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's signature
            sys.stderr.write("advisory-mirror: " + format % args + "\n")

        def log_request(self, code="-", size="-") -> None:
            if code != 200:  # answered queries are summarised instead
                super().log_request(code, size)

        def read_body(self) -> bytes:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            return gzip.decompress(raw) if self.headers.get("Content-Encoding") == "gzip" else raw

        def _send(
            self, status: int, payload: bytes, content_type: str = "application/json"
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            try:
                # Read per request: one handler serves every request of a kept-alive connection.
                query = json.loads(self.read_body() or b"{}")
            except ValueError:
                self._send(400, b'{"error": "body is not JSON"}')
                return
            if self.path == "/v1/query":
                self._send(200, json.dumps(mirror.query_osv(query)).encode())
            elif self.path.startswith("/-/npm/v1/security/advisories/bulk"):
                self._send(200, json.dumps(mirror.query_npm(query)).encode())
            else:
                self._send(404, b'{"error": "not found"}')

        def do_GET(self) -> None:  # noqa: N802
            name = unquote(self.path.lstrip("/").split("?")[0])
            body = mirror.packument(name) if name else None
            if body is None:
                self._send(404, b'{"error": "not found"}')
            else:
                self._send(200, body)

    return Handler


def lower_bounds(pyproject: Path) -> list[str]:
    """``name==X`` for each ``name>=X`` among pyproject's dependencies and extras: the oldest
    versions the project allows, which an operator's older environment may well hold."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    pins: dict[str, str] = {}
    for requirement in map(Requirement, requirements):
        for specifier in requirement.specifier:
            if specifier.operator == ">=":
                pins.setdefault(canonicalize_name(requirement.name), specifier.version)
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def run_audits(url: str, mirror: AdvisoryMirror) -> int:
    """pip-audit over this interpreter's environment and over pyproject's lower bounds, then npm
    audit in each npm project."""
    failures = 0
    pip_audit = [
        sys.executable, "-m", "pip_audit", "--vulnerability-service", "osv", "--osv-url", f"{url}/v1/query",
        "--progress-spinner", "off",
    ]  # fmt: skip
    print("$", " ".join(pip_audit[1:]), "--skip-editable", flush=True)
    failures += subprocess.run([*pip_audit, "--skip-editable"], check=False).returncode != 0
    print(
        f"pip-audit asked about {len(mirror.osv_asked)} packages; {len(mirror.osv_on_record)} have "
        f"advisories on record: {', '.join(sorted(mirror.osv_on_record))}",
        flush=True,
    )
    with tempfile.NamedTemporaryFile("w", suffix=".txt", prefix="lower-bounds-") as pinned:
        pinned.write("\n".join(lower_bounds(REPO / "pyproject.toml")) + "\n")
        pinned.flush()
        lower = ["-r", pinned.name, "--no-deps", "--disable-pip"]
        print(
            "$", " ".join(pip_audit[1:]), " ".join(lower), "(pyproject's lower bounds)", flush=True
        )
        failures += subprocess.run([*pip_audit, *lower], check=False).returncode != 0
    for project in NPM_PROJECTS:
        command = [
            "npm",
            "audit",
            "--registry",
            f"{url}/",
            "--cache",
            str(REPO / "var/npm-audit-cache"),
        ]
        print(f"$ (cd {project} &&", " ".join(command), ")", flush=True)
        failures += subprocess.run(command, cwd=REPO / project, check=False).returncode != 0
    return 1 if failures else 0


def _merged(indexes) -> dict[str, list]:
    merged: dict[str, list] = {}
    for index in indexes:
        for name, records in index.items():
            merged.setdefault(name, []).extend(records)
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pypa",
        type=Path,
        action="append",
        required=True,
        help="folder of PyPI OSV records (pypa/advisory-database or github/advisory-database); repeatable",
    )
    parser.add_argument(
        "--npm",
        type=Path,
        action="append",
        required=True,
        help="folder of npm advisories (nodejs/security-wg or github/advisory-database); repeatable",
    )
    parser.add_argument("--packuments", type=Path, help="directory of <name>.json packuments")
    parser.add_argument("--upstream-registry", default="https://registry.npmjs.org")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--audit", action="store_true", help="run pip-audit and npm audit, then stop"
    )
    args = parser.parse_args(argv)

    mirror = AdvisoryMirror(
        _merged(load_osv(d) for d in args.pypa),
        _merged(load_npm(d) for d in args.npm),
        args.packuments,
        args.upstream_registry,
    )
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(mirror))
    url = f"http://127.0.0.1:{server.server_address[1]}"
    print(json.dumps({"url": url}), flush=True)
    sys.stderr.write(
        f"advisory-mirror: {sum(map(len, mirror.osv.values()))} PyPI records for {len(mirror.osv)} "
        f"packages, {sum(map(len, mirror.npm.values()))} npm advisories for {len(mirror.npm)}\n"
    )
    if not args.audit:
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
        return 0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        return run_audits(url, mirror)
    finally:
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
