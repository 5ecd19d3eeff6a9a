"""Local stand-ins for ID-porten and Feide (``scripts/oidc-standin``, the npm package
oidc-provider) for the demo and the browser journeys: their configuration, the settings
that point kontaktbok at them, and who each test person logs in as."""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import IO, Any

from kontaktbok.demo.data import (
    DEMO_FEIDE_IDS,
    DEMO_NINS,
    DEMO_NURSE_NIN,
    DEMO_PUPIL_NINS,
    DEMO_UNKNOWN_NIN,
    DOMAIN,
)

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "oidc-standin" / "standin.mjs"
CLIENTS = {"idporten": "kontaktbok-demo-idporten", "feide": "kontaktbok-demo-feide"}
SECRET = "demo-secret-not-for-production"
EPPN = "https://n.feide.no/claims/eduPersonPrincipalName"

IDPORTEN_PERSONS = [
    {
        "id": "kari",
        "label": "Kari Vassbotn: guardian, two children (4A, 9B)",
        "claims": {"pid": DEMO_NINS[f"foresett@{DOMAIN}"], "locale": "nn"},
    },
    {
        "id": "per",
        "label": "Per Vassbotn: guardian, the same two children",
        "claims": {"pid": DEMO_NINS[f"foresett2@{DOMAIN}"], "locale": "nb"},
    },
    {
        "id": "ukjend",
        "label": "Not registered: no guardian at the school",
        "claims": {"pid": DEMO_UNKNOWN_NIN, "locale": "nb"},
    },
    {
        "id": "helga",
        "label": "Helga Helsesjukepleiar: school health nurse, joins a relay log by its link",
        "claims": {"pid": DEMO_NURSE_NIN, "locale": "nn"},
    },
    {
        "id": "elev9b",
        "label": "The Vassbotn child in 9B: joins a relay log by its link",
        "claims": {"pid": DEMO_PUPIL_NINS["9B"], "locale": "nn"},
    },
]
FEIDE_PERSONS = [
    {
        "id": "marit",
        "label": "Marit Hjelmeland: contact teacher of 4A",
        "claims": {EPPN: DEMO_FEIDE_IDS[f"kontaktlaerar@{DOMAIN}"], "name": "Marit Hjelmeland"},
    },
    {
        "id": "sissel",
        "label": "Sissel Kvamme: kontor and school admin (needs two factors)",
        "claims": {EPPN: DEMO_FEIDE_IDS[f"kontor@{DOMAIN}"], "name": "Sissel Kvamme"},
    },
    {
        "id": "gunnar",
        "label": "Gunnar Myklebust: principal (needs two factors)",
        "claims": {EPPN: DEMO_FEIDE_IDS[f"rektor@{DOMAIN}"], "name": "Gunnar Myklebust"},
    },
]
IDPORTEN_LEVELS = ["idporten-loa-low", "idporten-loa-substantial", "idporten-loa-high"]
FEIDE_LEVELS = ["urn:mace:feide.no:auth:level:fad08:2", "urn:mace:feide.no:auth:level:fad08:3"]


def standin_config(site_url: str, idporten_port: int, feide_port: int) -> dict[str, Any]:
    site = site_url.rstrip("/")

    def client(kind: str) -> dict[str, Any]:
        return {
            "client_id": CLIENTS[kind],
            "client_secret": SECRET,
            "redirect_uris": [f"{site}/accounts/oidc/{kind}/login/callback/"],
            "post_logout_redirect_uris": [f"{site}/"],
            "backchannel_logout_uri": f"{site}/accounts/national/backchannel-logout/",
        }

    return {
        "providers": [
            {
                "name": "idporten",
                "title": "ID-porten",
                "port": idporten_port,
                "issuer": f"http://127.0.0.1:{idporten_port}",
                "levels": IDPORTEN_LEVELS,
                "default_level": "idporten-loa-substantial",
                "client": client("idporten"),
                "persons": IDPORTEN_PERSONS,
            },
            {
                "name": "feide",
                "title": "Feide",
                "port": feide_port,
                "issuer": f"http://127.0.0.1:{feide_port}",
                "levels": FEIDE_LEVELS,
                "default_level": FEIDE_LEVELS[0],
                "client": client("feide"),
                "persons": FEIDE_PERSONS,
            },
        ]
    }


def standin_env(idporten_port: int, feide_port: int) -> dict[str, str]:
    """The ``KONTAKTBOK_*`` settings that point kontaktbok at the stand-ins."""
    env = {}
    for kind, port in (("idporten", idporten_port), ("feide", feide_port)):
        prefix = f"KONTAKTBOK_{kind.upper()}"
        env[f"{prefix}_ISSUER"] = f"http://127.0.0.1:{port}"
        env[f"{prefix}_CLIENT_ID"] = CLIENTS[kind]
        env[f"{prefix}_CLIENT_SECRET"] = SECRET
    return env


def start_standins(
    config_file: Path, site_url: str, idporten_port: int, feide_port: int, timeout: float = 20
) -> subprocess.Popen:
    """Start the stand-ins (Node) and wait until both listen."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("Node.js is needed for the national login stand-ins")
    config_file.write_text(json.dumps(standin_config(site_url, idporten_port, feide_port)))
    process = subprocess.Popen(  # noqa: S603
        [node, str(SCRIPT), str(config_file)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=SCRIPT.parents[2],
        env={**os.environ, "NODE_NO_WARNINGS": "1"},
    )
    stdout: IO[str] = process.stdout  # type: ignore[assignment]
    ready: set[str] = set()
    deadline = time.monotonic() + timeout
    while len(ready) < 2:
        line = stdout.readline()
        if not line or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the national login stand-ins did not start")
        if line.startswith("ready "):
            ready.add(line.split()[1])
    return process


def persons_text(idporten_port: int, feide_port: int) -> str:
    lines = [
        f"\nNational login (local stand-ins: ID-porten at http://127.0.0.1:{idporten_port}, "
        f"Feide at http://127.0.0.1:{feide_port}); choose on the login page:",
        "  ID-porten (pick the level; below substantial is refused):",
    ]
    lines += [f"    {p['id']:<8} {p['label']}" for p in IDPORTEN_PERSONS]
    lines.append("  Feide (kontor and principal: pick fad08:3, or give the TOTP code after):")
    lines += [f"    {p['id']:<8} {p['label']}" for p in FEIDE_PERSONS]
    return "\n".join(lines) + "\n"
