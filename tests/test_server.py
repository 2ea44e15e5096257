"""povmap's server (serve.py, app_pages/_server.py): connections without Nagle's delay, and a first page that leaves
to later what only later pages need (issue 16)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from app_pages import _server

REPO = Path(__file__).resolve().parent.parent


def test_every_connection_the_server_accepts_sends_without_nagles_delay():
    from streamlit.web.server.starlette import starlette_server

    assert _server.no_delay() and _server.no_delay()  # patched once, however often it is asked
    listener = starlette_server._bind_socket("127.0.0.1", 0, 8)  # as Streamlit binds its own
    try:
        client = socket.create_connection(listener.getsockname()[:2])
        listener.setblocking(True)
        accepted, _ = listener.accept()
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        accepted.close()
        client.close()
    finally:
        listener.close()


def test_the_first_page_starts_no_export_browser_and_imports_no_spatial_library():
    """The export browser, libpysal and scikit-learn start after the first page (``_ui.warm_up_later``): begun with
    it, they took the CPU from the first visitor's browser while it loaded the map."""
    code = ("import sys; sys.path.insert(0, 'tests'); from apptest import open_page; open_page(); "
            "from povmap.present.headless import CHROMIUM; "
            "print(*(m in sys.modules for m in ('libpysal', 'sklearn', 'esda')), CHROMIUM._browser is not None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=os.environ,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-4:] == ["False", "False", "False", "False"]
