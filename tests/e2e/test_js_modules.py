"""The page's ES modules: what one exports another imports, and nothing more.

Read as text, no browser needed: an export nothing imports is dead code that still looks like
an API, and an import of a name that is not exported breaks the page at load time.
"""

from __future__ import annotations

import re

from tests.helpers.paths import ROOT

JS = ROOT / "static" / "js"
EXPORT = re.compile(r"^export (?:async )?(?:function|const|class) ([\w$]+)", re.M)
IMPORT = re.compile(r'^import \{([^}]*)\} from "\./([\w.-]+)";', re.M)  # file names may hold "-"


def modules() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(JS.glob("*.js"))}


def test_every_export_is_imported_and_every_import_exported():
    code = modules()
    exported = {name: set(EXPORT.findall(text)) for name, text in code.items()}
    imported: dict[str, set[str]] = {name: set() for name in code}
    for text in code.values():
        for names, source in IMPORT.findall(text):
            imported[source] |= {n.strip() for n in names.split(",") if n.strip()}
    for name in code:
        missing, unused = imported[name] - exported[name], exported[name] - imported[name]
        assert not missing, f"{name} does not export {missing}"
        assert not unused, f"{name} exports what nothing imports: {unused}"
