-- One ward (:ward, a 2017 ward code such as E05001234): what it is, its figures per 100,000 people beside the
-- latest figures of the area groups, then its groups, grants, pubs, libraries and events. Each group figure has
-- its 95% interval; note says 'too few to say' (and why) when the left-behind rate is not reliable.
with ward as (select * from wards where code = :ward),
latest as (select indicator, max(computed_at) as computed_at from indicators group by indicator),
figures as (
    select i.indicator,
           max(case when i.area_group = 'left_behind' then i.value end) as left_behind,
           max(case when i.area_group = 'other_deprived' then i.value end) as other_deprived,
           max(case when i.area_group = 'england' then i.value end) as england,
           max(case when i.area_group = 'left_behind' then i.ci_low end) as lb_low,
           max(case when i.area_group = 'left_behind' then i.ci_high end) as lb_high,
           max(case when i.area_group = 'england' then i.ci_low end) as en_low,
           max(case when i.area_group = 'england' then i.ci_high end) as en_high,
           max(case when i.area_group = 'left_behind' then nullif(i.note, '') end) as lb_note,
           coalesce(max(i.window_from), '') as wf, coalesce(max(i.window_to), '9999') as wt,
           coalesce(date(max(i.window_to), '+1 day'), '9999-12-31') as wt_next
    from indicators i join latest l on l.indicator = i.indicator and l.computed_at = i.computed_at
    group by i.indicator
),
-- The ward's numerators, from the indicators' own definitions (monitor/indicators/definitions.py): `run.py serve`
-- puts them in place of the marker below; left as it is, the query says "not computed".
ward_numerators as (
    select f.*, /*ward_numerator*/null/*end*/ as numerator
    from figures f
),
profile as (
    select 0 as part, 'ward' as section, name as item, null as status, null as date,
           lad_name || ', ' || region || '; population ' || population || '; '
             || case when left_behind = 1 then 'left behind' when other_deprived = 1 then 'other deprived'
                     else 'neither left behind nor other deprived' end as detail,
           null as ward_value, null as left_behind, null as other_deprived, null as england,
           null as left_behind_95, null as england_95, null as note, code as id
    from ward
    union all
    select 1, 'figure', n.indicator, null, nullif(n.wf, '') || ' to ' || nullif(n.wt, '9999'),
           'ward numerator ' || coalesce(n.numerator, 'not computed for this indicator'),
           round(n.numerator * 100000.0 / nullif(w.population, 0), 2),
           round(n.left_behind, 2), round(n.other_deprived, 2), round(n.england, 2),
           round(n.lb_low, 2) || ' to ' || round(n.lb_high, 2), round(n.en_low, 2) || ' to ' || round(n.en_high, 2),
           n.lb_note, null
    from ward_numerators n, ward w
    union all
    -- Each source's records in the ward, as the source words them: the site's plugin writes this part from what
    -- the sources declare (ward_profile on each spider).
    /*ward_records*/select 2, null, null, null, null, null, null, null, null, null, null, null, null, null where 0/*end*/
    union all
    select 99, 'event', kind || case when baseline = 1 then ' (baseline)' else '' end || ': ' || coalesce(name, ''),
           null, at, evidence, null, null, null, null, null, null, null, record_id
    from events where ward_code = :ward
)
select section, item, status, date, detail, ward_value, left_behind, other_deprived, england, left_behind_95,
       england_95, note, id
from profile
order by part, date desc, item
