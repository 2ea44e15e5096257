"""The server's entry point: ``python serve.py run app.py [options]`` is ``streamlit run app.py [options]`` with one
addition, a background thread that loads what the first page needs while Streamlit starts
(``app_pages/_startup.py``). ``make run`` and the browser tests start the app this way.

Streamlit has no start-up hook for a script run with ``streamlit run``; this file only starts the thread and hands
over to Streamlit's own command line in the same process.
"""
import sys
import threading

if __name__ == "__main__":
    from app_pages._startup import warm_up
    from streamlit.web.cli import main

    threading.Thread(target=warm_up, name="povmap-start-up", daemon=True).start()
    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(main(prog_name="streamlit"))
