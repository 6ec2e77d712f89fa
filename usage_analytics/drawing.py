"""Drawing a chart on a page: what st.altair_chart sends, with the chart's Vega-Lite spec made once per chart.

st.altair_chart turns a chart into its Vega-Lite spec on every run (Altair's to_dict, which validates the whole
spec against Vega-Lite's JSON schema, and each frame into Arrow bytes): 30-50 ms of CPU a chart, four charts on
the Operators page. The charts a page draws are kept and handed out again for the same rows (charts._reused),
so their specs are kept here with them and drawn with st.vega_lite_chart, which is what st.altair_chart calls
with the spec it made. The spec is made by Streamlit's own conversion (pinned with Streamlit in
requirements.txt), so the page gets what st.altair_chart would send; a test compares the two."""
from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import Any

import altair as alt
import streamlit as st
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

from .charts import BUILT_CHARTS

_specs: OrderedDict[int, tuple[alt.TopLevelMixin, dict]] = OrderedDict()  # id(chart) -> (chart, its spec)
_lock = threading.Lock()


def spec(chart: alt.TopLevelMixin) -> dict:
    """The chart's spec as st.altair_chart makes it (its data as Arrow bytes under "datasets"), made once per
    chart object (the chart is kept with it, so its id stays its own); BUILT_CHARTS kept, as charts keeps."""
    with _lock:
        found = _specs.get(id(chart))
        if found is not None and found[0] is chart:
            _specs.move_to_end(id(chart))
            return found[1]
    made = _convert_altair_to_vega_lite_spec(chart)
    with _lock:
        _specs[id(chart)] = (chart, made)
        while len(_specs) > BUILT_CHARTS:
            _specs.popitem(last=False)
    return made


def draw(chart: alt.TopLevelMixin, **kwargs: Any) -> Any:
    """st.altair_chart(chart, **kwargs), from the kept spec (a copy: drawing takes the datasets out of it)."""
    return st.vega_lite_chart(spec=copy.deepcopy(spec(chart)), **kwargs)
