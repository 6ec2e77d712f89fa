-- Whether [window_start, window_end) is one whole calendar month (UTC) that has ended as of as_of: the
-- windows whose every finished run a monthly rollup holds cut as that window cuts it.
create macro is_closed_month(window_start, window_end, as_of) as
    window_start = date_trunc('month', window_start)
    and window_end = window_start + interval 1 month
    and window_end <= as_of
