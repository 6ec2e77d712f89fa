"""The benchmark (`python -m bench`) and the browser timings (`page_timing.py`): tools beside the product, not in it."""
