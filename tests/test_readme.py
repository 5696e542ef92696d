"""The code in README.md runs as written (every ```python block, in order, in one namespace)."""
import pathlib
import re

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_blocks_run():
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README.md has no python examples"
    namespace = {}
    for i, code in enumerate(blocks):
        exec(compile(code, f"README.md[python block {i}]", "exec"), namespace)


def test_readme_opens_with_the_two_commands():
    lines = [l for l in README.read_text(encoding="utf-8").splitlines() if l.strip()]
    commands = lines[lines.index("```bash") + 1:lines.index("```bash") + 3]
    assert "rnnc.apps.sentiment" in commands[0]
    assert commands[1].endswith("pytest")
    ci = (README.parent / ".ci" / "run").read_text()
    assert commands[1] in ci, ".ci/run must run the README's test command exactly"
