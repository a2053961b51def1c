"""Reports: JSON and self-contained HTML pages with Plotly charts that work offline.

=============  =========================  ==========================================
module         input                      output
=============  =========================  ==========================================
html.py        an audit dict              one HTML file, Plotly's JS inlined
=============  =========================  ==========================================
"""
