"""CI: the `wai` that `pip install .` puts in a fresh venv runs, apart from the development one.

Usage: .venv/bin/python .ci/installed.py VENV (the venv `pip install .` went into). Its console
script must print the version, and answer a one-shot `ask` from the loopback Workers AI server
that the tests use; its `wai` package must be the installed copy, not this checkout's source.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.servers.workers_ai import ACCOUNT, TOKEN, WorkersAIServer  # noqa: E402

venv = Path(sys.argv[1]).resolve()
wai = venv / "bin" / "wai"
checkout = Path(__file__).resolve().parent.parent / "src"


def run(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        sys.exit(f"ci: {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done.stdout


server = WorkersAIServer().start()
try:
    with tempfile.TemporaryDirectory() as home:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": home,
            "WAI_CONFIG_DIR": f"{home}/config",
            "WAI_DATA_DIR": f"{home}/data",
            "WAI_CACHE_DIR": f"{home}/cache",
            "CLOUDFLARE_API_BASE_URL": server.base_url,
            "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
            "CLOUDFLARE_API_TOKEN": TOKEN,
        }
        package = run(str(venv / "bin" / "python"), "-c", "import wai; print(wai.__file__)", env=env)
        if Path(package.strip()).is_relative_to(checkout):
            sys.exit(f"ci: the installed wai is the checkout's source ({package.strip()})")
        version = run(str(wai), "--version", env=env)
        if not version.startswith("wai "):
            sys.exit(f"ci: wai --version printed {version!r}")
        answer = run(str(wai), "ask", "--plain", "hi", env=env)
        if answer != "Hello, world!\n" and answer != "Hello, world!":
            sys.exit(f"ci: wai ask printed {answer!r}")
        print(f"ci: the installed {version.strip()} answered {answer.strip()!r}")
finally:
    server.stop()
