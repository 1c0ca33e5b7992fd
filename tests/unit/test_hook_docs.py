"""docs/plugins.md and the hook specs stay in step, and every hook has a test.

For every hook spec (found by pluggy's spec marker, not by a hand-kept list):
the page has a ``### <hook>`` section with the exact signature, says
"firstresult" / "historic" when the spec is, and shows an example that loads as a
plugin; and some test file other than this one names the hook.
"""

from __future__ import annotations

import importlib
import inspect
import re
import types
from collections.abc import Callable
from pathlib import Path

import pluggy
import pytest

from aspirasi_core import hookspecs

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "plugins.md"
MARKER = f"{hookspecs.PROJECT}_spec"
#: Modules holding hook specs: the core's, the web adapter's and those bundled
#: plugins add through ``aspirasi_addhooks`` (each checked when installed).
SPEC_MODULES = [
    "aspirasi_core.hookspecs",
    "aspirasi_web.hookspecs",
    "aspirasi_notify_email.hookspecs",
]


def spec_modules() -> list[types.ModuleType]:
    found = []
    for name in SPEC_MODULES:
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise
    return found


def hook_specs() -> dict[str, Callable[..., object]]:
    specs = {}
    for module in spec_modules():
        for name, obj in vars(module).items():
            if inspect.isfunction(obj) and hasattr(obj, MARKER):
                specs[name] = obj
    return specs


SPECS = hook_specs()


def signature_text(name: str, spec: Callable[..., object]) -> str:
    """``def name(a: A, b: B) -> R`` as written in the spec (annotations are strings)."""
    sig = inspect.signature(spec)
    params = ", ".join(
        p.name if p.annotation is inspect.Parameter.empty else f"{p.name}: {p.annotation}"
        for p in sig.parameters.values()
    )
    returns = (
        "" if sig.return_annotation is inspect.Signature.empty else f" -> {sig.return_annotation}"
    )
    return f"def {name}({params}){returns}"


def squash(text: str) -> str:
    """Whitespace and trailing commas do not matter when comparing signatures."""
    return re.sub(r",\)", ")", re.sub(r"\s+", "", text))


def sections(text: str) -> dict[str, str]:
    """``### heading`` → its text, up to the next heading of level 2 or 3."""
    found: dict[str, str] = {}
    parts = re.split(r"^(#{2,3} .*)$", text, flags=re.M)
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        if heading.startswith("### "):
            found[heading[4:].strip()] = body
    return found


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.M | re.S)


DOC_SECTIONS = sections(DOC.read_text(encoding="utf-8"))


def test_the_specs_are_found():
    assert len(SPECS) >= 14
    assert "aspirasi_configure" in SPECS


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_has_a_section_with_its_exact_signature(name):
    assert name in DOC_SECTIONS, f"docs/plugins.md has no '### {name}' section"
    section = DOC_SECTIONS[name]
    expected = signature_text(name, SPECS[name])
    blocks = [squash(block) for block in python_blocks(section)]
    assert squash(expected) in blocks, (
        f"the '### {name}' section must show the signature in a python block:\n{expected}"
    )
    for param in inspect.signature(SPECS[name]).parameters:
        assert f"`{param}`" in section, f"parameter {param!r} of {name} is not described"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_section_names_its_calling_convention(name):
    options = getattr(SPECS[name], MARKER)
    section = DOC_SECTIONS.get(name, "").lower()
    if options.get("firstresult"):
        assert "firstresult" in section
    if options.get("historic"):
        assert "historic" in section
    assert "return" in section, f"the '### {name}' section does not say what it returns"
    assert "called" in section, f"the '### {name}' section does not say when it is called"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_example_loads_as_a_plugin(name):
    examples = [b for b in python_blocks(DOC_SECTIONS.get(name, "")) if "@hookimpl" in b]
    assert examples, f"the '### {name}' section has no example implementation"
    for index, source in enumerate(examples):
        module = types.ModuleType(f"docs_example_{name}_{index}")
        exec(compile(source, f"docs/plugins.md ({name} example)", "exec"), module.__dict__)
        assert hasattr(getattr(module, name, None), f"{hookspecs.PROJECT}_impl"), (
            f"the example of {name} does not implement it"
        )
        pm = pluggy.PluginManager(hookspecs.PROJECT)
        for spec_module in spec_modules():
            pm.add_hookspecs(spec_module)
        pm.register(module)  # checks the parameter names against the spec
        pm.check_pending()


def test_every_hook_heading_is_a_hook():
    documented = {title for title in DOC_SECTIONS if title.startswith("aspirasi_")}
    assert documented - set(SPECS) == set(), "docs/plugins.md documents hooks that do not exist"


def files_of_tests() -> list[Path]:
    here = Path(__file__).resolve()
    files = [
        *(ROOT / "tests").rglob("*.py"),
        *ROOT.glob("plugins/*/tests/**/*.py"),
        *ROOT.glob("adapters/*/web_tests/**/*.py"),
    ]
    return [f for f in files if f.resolve() != here]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_has_a_test(name):
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    assert any(pattern.search(f.read_text(encoding="utf-8")) for f in files_of_tests()), (
        f"no test under tests/ or plugins/*/tests names {name}"
    )
