"""The package's house rules, checked: every module imports alone (no import cycle), and library
code fails one way (socketlab.errors), never by SystemExit below __main__."""
import subprocess
import sys

import pytest

from socketlab.paths import ROOT

# Programs that run inside containers keep their own mains (and their own exits): not modules of the lab's.
CONTAINER_SIDE = {'socketlab/wire/bound.py', 'socketlab/wire/helper.py', 'socketlab/wire/nfqueue.py',
                  'socketlab/wire/outlive.py', 'socketlab/measure/load.py'}
SOURCES = sorted(path for path in (ROOT / 'socketlab').rglob('*.py') if path.name != '__main__.py'
                 and str(path.relative_to(ROOT)) not in CONTAINER_SIDE)
MODULES = ['.'.join(path.relative_to(ROOT).with_suffix('').parts) for path in SOURCES]


@pytest.mark.parametrize('module', MODULES)
def test_each_module_imports_alone(module):
    done = subprocess.run([sys.executable, '-c', 'import ' + module], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={'PATH': '/usr/bin:/bin', 'PYTHONPATH': str(ROOT)})
    assert done.returncode == 0, done.stderr


def _exits(tree):
    """sys.exit(...) calls and SystemExit names outside a module's `if __name__ == '__main__':` block."""
    import ast
    mains = {id(node) for node in tree.body if isinstance(node, ast.If) and '__name__' in ast.unparse(node.test)}
    found = []

    def walk(node, in_main):
        for child in ast.iter_child_nodes(node):
            inside = in_main or id(child) in mains
            if not inside and (isinstance(child, ast.Name) and child.id == 'SystemExit' or
                               isinstance(child, ast.Call) and ast.unparse(child.func) == 'sys.exit'):
                found.append(child.lineno)
            walk(child, inside)
    walk(tree, False)
    return found


def test_no_systemexit_below_main():
    """A program's own main (ladder.py's, as a command of its own) may exit; library code raises socketlab.errors."""
    import ast
    found = {str(path.relative_to(ROOT)): lines for path in SOURCES for lines in [_exits(ast.parse(path.read_text()))] if lines}
    assert found == {}


def test_every_package_of_the_lab_is_one_pyproject_installs():
    """A folder of modules (socketlab/lab/, socketlab/wire/impair/) left out of pyproject.toml's list would
    be missing from a plain (non-editable) install of the package."""
    import tomllib
    listed = set(tomllib.loads((ROOT / 'pyproject.toml').read_text())['tool']['setuptools']['packages'])
    found = {'.'.join(path.parent.relative_to(ROOT).parts) for path in (ROOT / 'socketlab').rglob('__init__.py')}
    assert listed == found
