-- Closures in left-behind wards in the 90 days up to :as_of (a date; leave it blank for today), newest first.
-- Baseline events (what was already closed when a source was first crawled) are left out;
-- a closure later retracted because the place came back shows when in reopened_at.
select
    e.at as event_at,
    e.name,
    e.source,
    -- The record's columns, from the places' tables: the site's plugin writes this part from what the sources declare.
    /*closed_record*/null as venue_kind, null as closed_at, null as closed_by,/*end*/
    e.ward_code,
    w.name as ward_name,
    w.lad_name,
    (select min(r.at) from events r
      where r.record_id = e.record_id and r.kind = 'reopened' and r.at > e.at) as reopened_at,
    e.evidence,
    e.record_id,
    e.crawl_id
from events e
join wards w on w.code = e.ward_code
where e.kind = 'closed'
  and coalesce(e.baseline, 0) = 0
  and w.left_behind = 1
  and e.at >= date(coalesce(nullif(:as_of, ''), 'now'), '-90 days')
  and e.at < date(coalesce(nullif(:as_of, ''), 'now'), '+1 day')
order by e.at desc, e.id desc
