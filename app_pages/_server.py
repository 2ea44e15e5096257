"""How povmap's server differs from ``streamlit run`` (``serve.py``; the bench scripts start povmap the same way).

1. **No Nagle delay.** Streamlit 1.67 binds its listening socket itself (``starlette_server._bind_socket``) with
   protocol number 0, and asyncio sets ``TCP_NODELAY`` only on sockets whose protocol is ``IPPROTO_TCP``. Every
   connection was then left with Nagle's algorithm on: a response written in two parts (headers, then body) waited
   for the browser's delayed acknowledgement, ~40 ms for each request after the first on a kept-alive connection,
   and each websocket message written just after another waited the same. A new visitor's browser fetches ~140
   script files from Streamlit before the map can start (issue 16). ``TCP_NODELAY`` set on the listening socket is
   inherited by every connection it accepts.
2. **The start-up warm-up** (``app_pages/_startup.py``) runs in a background thread while Streamlit starts.
"""
from __future__ import annotations

import logging
import socket
import threading


def no_delay() -> bool:
    """Make every connection the server accepts send without Nagle's delay; False (and a warning) if this Streamlit
    binds its socket some other way, when the server runs as before."""
    try:
        from streamlit.web.server.starlette import starlette_server as server
    except ImportError:
        server = None
    bind = getattr(server, "_bind_socket", None)
    if bind is None:
        logging.getLogger("povmap").warning("Streamlit's socket binding has changed: TCP_NODELAY not set")
        return False
    if getattr(bind, "povmap_no_delay", False):
        return True

    def bind_no_delay(address: str, port: int, backlog: int) -> socket.socket:
        sock = bind(address, port, backlog)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    bind_no_delay.povmap_no_delay = True
    server._bind_socket = bind_no_delay
    return True


def prepare() -> None:
    """What ``serve.py`` does before it hands over to Streamlit's command line, in the same process."""
    from app_pages._startup import warm_up

    no_delay()
    threading.Thread(target=warm_up, name="povmap-start-up", daemon=True).start()
