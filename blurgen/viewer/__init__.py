"""``blurgen view``: browse a kernel bank, re-sample live and preview blur in a local web page."""
