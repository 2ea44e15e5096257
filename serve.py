"""The server's entry point: ``python serve.py run app.py [options]`` is ``streamlit run app.py [options]`` with the
server prepared as ``app_pages/_server.py`` describes (connections without Nagle's delay, Streamlit's and the map's
files from memory, and a background thread that loads what the first page needs while Streamlit starts).
``make run``, the deployments, the bench scripts and the browser tests start the app this way.

Streamlit has no start-up hook for a script run with ``streamlit run``; this file only prepares the process and
hands over to Streamlit's own command line in it.
"""
import sys

if __name__ == "__main__":
    from app_pages._server import prepare
    from streamlit.web.cli import main

    prepare()
    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(main(prog_name="streamlit"))
