"""An empty Streamlit page (a title and a line of text): the floor under every app's first paint, measured beside
povmap and the peers by ``bench/bench_firstpaint.py``.

    .venv/bin/streamlit run bench/peers/empty_app.py
"""
import streamlit as st

st.set_page_config(page_title="peer: empty", layout="wide")
st.title("แผนที่คนจนเป้าหมาย TPMAP")
st.write("หน้าว่าง: ไม่มีแผนที่")
