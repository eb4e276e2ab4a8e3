"""The layers of docs/architecture.md hold: read from the imports with ``ast``
(``consentoffice.devtools.layers``), so a new import that breaks one fails here and is named."""

from __future__ import annotations

import pytest

from consentoffice.devtools import layers


@pytest.fixture(scope="module")
def edges():
    return layers.edges()


def test_the_imports_keep_the_layers_and_no_app_has_an_import_cycle(edges):
    assert layers.violations(edges) == []


@pytest.mark.parametrize(
    ("source", "target", "named"),
    [
        ("consentoffice.core.dates", "members.models", "the core is the bottom layer"),
        ("consentoffice.core.roles", "consentoffice.audit.selectors", "the core is the bottom layer"),
        ("members.services", "requests.models", "members is below requests and bureaus"),
        ("members.selectors", "bureaus.models", "members is below requests and bureaus"),
        ("bureaus.services", "requests.rules", "the one domain edge runs requests → bureaus"),
    ],
)
def test_a_planted_forbidden_import_is_named(edges, source, target, named):
    planted = layers.Edge(source, target, line=1, top_level=False)

    found = layers.violations([*edges, planted])

    assert len(found) == 1 and found[0].startswith(f"{source} imports {target} (line 1): {named}")


def test_a_planted_import_cycle_is_named(edges):
    """requests.models importing requests.admin at module level closes a circle (admin imports models)."""
    planted = layers.Edge("requests.models", "requests.admin", line=1, top_level=True)

    found = layers.violations([*edges, planted])

    assert len(found) == 1 and found[0].startswith("import cycle: ")
    assert "requests.admin" in found[0] and "requests.models" in found[0]


def test_an_import_inside_a_function_is_no_cycle(edges):
    planted = layers.Edge("requests.models", "requests.admin", line=1, top_level=False)

    assert layers.violations([*edges, planted]) == []


def test_relative_and_package_imports_are_resolved(tmp_path):
    package = tmp_path / "members"
    (package / "services").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "services" / "__init__.py").write_text("from .consent import x\n")
    (package / "services" / "consent.py").write_text("def f():\n    from requests import services\n")
    for app in ("consentoffice", "requests", "bureaus"):
        (tmp_path / app).mkdir()
        (tmp_path / app / "__init__.py").write_text("")
    (tmp_path / "requests" / "services.py").write_text("")

    found = layers.edges(tmp_path)

    assert layers.Edge("members.services", "members.services.consent", 1, True) in found
    assert layers.Edge("members.services.consent", "requests.services", 2, False) in found


def test_the_picture_in_docs_architecture_md_is_current(edges):
    text = layers.DOC.read_text()
    assert layers.current_block(text) == layers.document_block(edges), (
        "docs/architecture.md: run `python -m consentoffice.devtools.layers --write`"
    )
