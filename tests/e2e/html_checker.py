"""The Nu HTML Checker (npm ``vnu-jar``, run on Java) over the HTML documents of a journey.

Java takes about a second to start, so the documents are checked in one run per journey,
not one run per page. A missing Java or checker is an error, never a pass.
"""

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

VNU_JAR = Path(__file__).resolve().parents[2] / "node_modules/vnu-jar/build/dist/vnu.jar"
# Java's quick compiler alone (C1) halves the CPU of a short run; its deeper stack frames
# then need a larger stack than the default for the checker's schema validation.
JAVA = ["java", "-Xss8m", "-XX:TieredStopAtLevel=1", "-jar", str(VNU_JAR)]


@dataclass(frozen=True)
class Document:
    """An HTML document as the server sent it, with the request that brought it."""

    method: str
    url: str
    status: int
    html: bytes

    @property
    def source(self) -> str:
        status = "" if self.status == 200 else f" (HTTP {self.status})"
        return f"{self.method} {self.url}{status}"


def html_errors(documents: list[Document]) -> list[str]:
    """The checker's errors in ``documents`` (warnings left out), one line each, naming the
    document, the line and the message, with the extract of the markup below it."""
    if not documents:
        return []
    with tempfile.TemporaryDirectory(prefix="kontaktbok-vnu-") as directory:
        sources = {}
        for number, document in enumerate(documents):
            path = Path(directory) / f"{number:04}.html"
            path.write_bytes(document.html)
            sources[path.name] = document.source
        result = subprocess.run(  # noqa: S603
            [*JAVA, "--errors-only", "--format", "json", "--stdout", *sorted(sources)],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=120,
        )
    try:
        messages = json.loads(result.stdout)["messages"]
    except (json.JSONDecodeError, KeyError) as error:
        raise RuntimeError(
            f"The Nu HTML Checker did not run (exit status {result.returncode}):\n"
            f"{result.stdout}{result.stderr}"
        ) from error
    if bool(messages) != (result.returncode != 0):
        raise RuntimeError(
            f"The Nu HTML Checker exited with {result.returncode} and {len(messages)} "
            f"messages:\n{result.stdout}{result.stderr}"
        )
    errors = []
    for message in messages:
        source = sources.get(message.get("url", "").rsplit("/", 1)[-1], "(no document)")
        line = message.get("lastLine", "?")
        extract = message.get("extract", "").strip().replace("\n", " ")
        errors.append(f"{source} line {line}: {message['message']}\n    {extract}")
    return errors
