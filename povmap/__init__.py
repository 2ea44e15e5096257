"""povmap: where Thailand's poor concentrate, by area, dimension and household tier.

The domain package: sources, vocabulary, metrics, classification and map layers.
It never imports streamlit.
"""
__version__ = "0.1.0"
