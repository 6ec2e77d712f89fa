-- The reconciliation status of one customer, provider and day, used inside a group by over its rows:
-- matched only when every row is matched; a mismatch beats pending; anything else counts as pending.
create macro reconciliation_day_status(status) as
    case
        when bool_and(status = 'matched') then 'matched'
        when bool_or(status = 'mismatch') then 'mismatch'
        else 'pending'
    end
