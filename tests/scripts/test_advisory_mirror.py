"""The offline advisory mirror: its range logic against npm's own semver, and the real `pip-audit`
and `npm audit` reading it over HTTP on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests/sample_data/advisories"

_spec = importlib.util.spec_from_file_location(
    "advisory_mirror", REPO / "scripts/advisory_mirror.py"
)
advisory_mirror = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = advisory_mirror  # dataclasses look their module up while it loads
_spec.loader.exec_module(advisory_mirror)


def _npm_semver() -> Path:
    """The semver package bundled with npm: the one `npm audit` itself evaluates ranges with."""
    root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True, check=True).stdout
    return Path(root.strip()) / "npm/node_modules/semver"


def _versions_around(range_text: str) -> set[str]:
    """Versions at, just below and just above every version a range names, with prereleases."""
    versions = {"0.0.0", "0.0.1", "1.0.0", "99.0.0", "1.0.0-alpha", "0.1.0-rc.1"}
    for match in re.finditer(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(-[0-9A-Za-z.]+)?", range_text):
        major, minor, patch = int(match[1]), int(match[2] or 0), int(match[3] or 0)
        for x, y, z in [
            (major, minor, patch),
            (major, minor, patch + 1),
            (major, minor, max(patch - 1, 0)),
            (major, minor + 1, 0),
            (major + 1, 0, 0),
            (major, max(minor - 1, 0), 9),
        ]:
            versions |= {f"{x}.{y}.{z}", f"{x}.{y}.{z}-0", f"{x}.{y}.{z}-beta.2"}
        if match[4]:
            versions.add(f"{major}.{minor}.{patch}{match[4]}")
    return versions


def test_ranges_evaluate_as_npms_semver_does():
    ranges = json.loads((FIXTURES / "npm_ranges.json").read_text())
    pairs = [[version, text] for text in ranges for version in sorted(_versions_around(text))]
    script = (
        "const semver = require(process.argv[1]);"
        "const pairs = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(pairs.map(([v, r]) => semver.satisfies(v, r))));"
    )
    expected = json.loads(
        subprocess.run(
            ["node", "-e", script, str(_npm_semver())],
            input=json.dumps(pairs),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    disagreements = [
        (version, text, want)
        for (version, text), want in zip(pairs, expected, strict=True)
        if advisory_mirror.satisfies(version, text) != want
    ]
    assert len(pairs) > 10_000 and 0 < sum(expected) < len(pairs)
    assert disagreements == []


def _record(events=None, versions=None, name="demo-pkg"):
    affected = {"package": {"name": name, "ecosystem": "PyPI"}}
    if events is not None:
        affected["ranges"] = [{"type": "ECOSYSTEM", "events": events}]
    if versions is not None:
        affected["versions"] = versions
    return {"id": "TEST-1", "affected": [affected]}


@pytest.mark.parametrize(
    ("version", "affected"),
    [
        ("0.9", False),
        ("1.0", True),
        ("1.4.2", True),
        ("1.5", False),
        ("2.0", True),
        ("2.1", True),
        ("2.1.1", False),
    ],
)
def test_osv_ranges_open_at_introduced_and_close_at_fixed_or_after_last_affected(version, affected):
    events = [
        {"introduced": "2.0"},  # out of order on purpose: OSV does not promise an order
        {"last_affected": "2.1"},
        {"introduced": "1.0"},
        {"fixed": "1.5"},
    ]
    assert advisory_mirror.osv_affects(_record(events), "demo-pkg", version) is affected


def test_osv_version_lists_match_by_pep440_equality_and_names_by_canonical_form():
    record = _record(versions=["1.0", "1.1.post1"], name="Demo_Pkg")
    assert advisory_mirror.osv_affects(record, "demo-pkg", "1.0.0")
    assert advisory_mirror.osv_affects(record, "demo-pkg", "1.1.post1")
    assert not advisory_mirror.osv_affects(record, "demo-pkg", "1.1")
    assert not advisory_mirror.osv_affects(record, "other-pkg", "1.0")


def test_an_npm_advisory_answers_with_its_unpatched_versions_only():
    # The working group's record for mqtt says ">=2.0.0" vulnerable and ">=2.15.0" patched.
    (advisory,) = [a for a in advisory_mirror.load_npm(FIXTURES / "npm")["mqtt"] if a.id == 357]
    published = ["1.0.0", "2.0.0", "2.14.0", "2.15.0", "5.7.2"]
    (entry,) = advisory_mirror.bulk_answer([advisory], ["2.14.0"], published)
    assert entry["vulnerable_versions"] == "2.0.0 || 2.14.0"
    assert entry["severity"] == "moderate"  # CVSS 4.3
    assert advisory_mirror.bulk_answer([advisory], ["5.7.2"], published) == []


def test_a_github_osv_record_answers_for_npm_with_the_versions_its_events_cover():
    (advisory,) = advisory_mirror.load_npm(FIXTURES / "github")["minimist"]
    assert advisory.id == "GHSA-xvch-5gv4-984h"
    published = ["0.2.3", "0.2.4", "1.0.0", "1.2.5", "1.2.6", "1.2.8"]
    (entry,) = advisory_mirror.bulk_answer([advisory], ["1.2.5"], published)
    # Two ranges: [0, 0.2.4) and [1.0.0, 1.2.6).
    assert entry["vulnerable_versions"] == "0.2.3 || 1.0.0 || 1.2.5"
    assert entry["severity"] == "critical"
    assert entry["cwe"] == ["CWE-1321"]
    assert advisory_mirror.bulk_answer([advisory], ["1.2.6", "0.2.4"], published) == []
    # Working-group files are not read as OSV records too, nor npm records as PyPI ones.
    assert [a.id for a in advisory_mirror.load_npm(FIXTURES / "npm")["mqtt"]] == [140, 357]
    assert advisory_mirror.load_osv(FIXTURES / "github") == {}


def test_osv_json_records_of_pypi_load_and_withdrawn_ones_do_not(tmp_path):
    def write(name, **extra):
        record = {
            **_record(events=[{"introduced": "0"}, {"fixed": "2.0"}], name="Demo_Pkg"),
            **extra,
        }
        (tmp_path / f"{name}.json").write_text(json.dumps({**record, "id": name}))

    write("GHSA-live")
    write("GHSA-gone", withdrawn="2024-01-01T00:00:00Z")
    (record,) = advisory_mirror.load_osv(tmp_path)["demo-pkg"]
    assert record["id"] == "GHSA-live"
    assert advisory_mirror.osv_affects(record, "demo-pkg", "1.9")


def test_lower_bounds_pin_the_oldest_allowed_version_of_each_dependency(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "x"\ndependencies = ["Flask>=3.1.3", "numpy>=1.26,<3", "plain"]\n'
        '[project.optional-dependencies]\ndev = ["psycopg[binary]>=3.1", "flask>=3.0"]\n'
    )
    assert advisory_mirror.lower_bounds(pyproject) == [
        "flask==3.1.3",
        "numpy==1.26",
        "psycopg==3.1",
    ]


@pytest.fixture(scope="module")
def mirror_url():
    process = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "scripts/advisory_mirror.py"),
            "--pypa",
            str(FIXTURES / "pypa"),
            "--npm",
            str(FIXTURES / "npm"),
            "--npm",
            str(FIXTURES / "github"),
            "--packuments",
            str(FIXTURES / "packuments"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield json.loads(process.stdout.readline())["url"]
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def _pip_audit(url: str, requirement: str, tmp_path: Path) -> subprocess.CompletedProcess:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(requirement + "\n")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "--vulnerability-service",
            "osv",
            "--osv-url",
            f"{url}/v1/query",
            "-r",
            str(requirements),
            "--no-deps",
            "--disable-pip",
            "--format",
            "json",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--progress-spinner",
            "off",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_pip_audit_finds_the_setuptools_redos_through_the_mirror(mirror_url, tmp_path):
    found = _pip_audit(mirror_url, "setuptools==65.5.0", tmp_path)
    assert found.returncode == 1, found.stderr
    (dependency,) = json.loads(found.stdout)["dependencies"]
    (vuln,) = dependency["vulns"]
    assert vuln["id"] == "PYSEC-2022-43012"
    assert vuln["aliases"] == ["CVE-2022-40897"]
    assert vuln["fix_versions"] == ["65.5.1"]

    fixed = _pip_audit(mirror_url, "setuptools==65.5.1", tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    assert json.loads(fixed.stdout)["dependencies"][0]["vulns"] == []


def _npm_audit(url: str, package: str, version: str, tmp_path: Path) -> dict:
    """``npm audit --json`` of a project whose lockfile holds ``package@version`` alone."""
    project = tmp_path / f"project-{package}-{version}"
    project.mkdir()
    manifest = {"name": "audit-probe", "version": "1.0.0", "dependencies": {package: version}}
    (project / "package.json").write_text(json.dumps(manifest))
    lockfile = {
        "name": "audit-probe",
        "version": "1.0.0",
        "lockfileVersion": 3,
        "requires": True,
        "packages": {
            "": manifest,
            f"node_modules/{package}": {
                "version": version,
                "resolved": f"{url}/{package}/-/{package}-{version}.tgz",
            },
        },
    }
    (project / "package-lock.json").write_text(json.dumps(lockfile))
    result = subprocess.run(
        [
            shutil.which("npm"),
            "audit",
            "--json",
            "--registry",
            f"{url}/",
            "--cache",
            str(tmp_path / "npm-cache"),
            "--no-update-notifier",
        ],  # fmt: skip
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return {"returncode": result.returncode, **json.loads(result.stdout)}


def test_npm_audit_flags_an_unpatched_mqtt_and_passes_a_patched_one(mirror_url, tmp_path):
    flagged = _npm_audit(mirror_url, "mqtt", "2.14.0", tmp_path)
    assert flagged["returncode"] == 1
    vulnerability = flagged["vulnerabilities"]["mqtt"]
    assert [via["source"] for via in vulnerability["via"]] == [357]
    assert vulnerability["severity"] == "moderate"
    assert vulnerability["fixAvailable"]  # 2.15.0 and 5.7.2 are in the packument

    # 5.7.2 is inside the record's ">=2.0.0": only its patched range clears it, as the registry would.
    clean = _npm_audit(mirror_url, "mqtt", "5.7.2", tmp_path)
    assert clean["returncode"] == 0
    assert clean["metadata"]["vulnerabilities"]["total"] == 0


def test_npm_audit_reads_github_advisories_through_the_mirror(mirror_url, tmp_path):
    flagged = _npm_audit(mirror_url, "minimist", "1.2.5", tmp_path)
    assert flagged["returncode"] == 1
    vulnerability = flagged["vulnerabilities"]["minimist"]
    (via,) = vulnerability["via"]
    assert via["source"] == "GHSA-xvch-5gv4-984h"
    assert via["url"] == "https://github.com/advisories/GHSA-xvch-5gv4-984h"
    assert vulnerability["severity"] == "critical"
    assert vulnerability["fixAvailable"]

    clean = _npm_audit(mirror_url, "minimist", "1.2.6", tmp_path)
    assert clean["returncode"] == 0
    assert clean["metadata"]["vulnerabilities"]["total"] == 0
