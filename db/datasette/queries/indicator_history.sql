-- Every computation of each indicator: left-behind wards beside other deprived wards and England, each rate with
-- its 95% interval. A left-behind share says 'too few to say' instead of a ratio when the monitor marked the
-- left-behind rate not reliable (too few records, or its interval overlaps England's); the note says why.
-- Rows computed before intervals existed have no verdict and show their ratios as they were. placed_pct is the
-- share of the source's records placed in a ward (a rate falls when fewer can be placed).
-- Leave :indicator blank for all of them.
with pivot as (
    select
        i.computed_at,
        i.indicator,
        max(case when i.area_group = 'left_behind' then i.value end) as lb,
        max(case when i.area_group = 'left_behind' then i.ci_low end) as lb_low,
        max(case when i.area_group = 'left_behind' then i.ci_high end) as lb_high,
        max(case when i.area_group = 'left_behind' then i.reliable end) as lb_reliable,
        max(case when i.area_group = 'left_behind' then nullif(i.note, '') end) as lb_note,
        max(case when i.area_group = 'other_deprived' then i.value end) as od,
        max(case when i.area_group = 'other_deprived' then i.ci_low end) as od_low,
        max(case when i.area_group = 'other_deprived' then i.ci_high end) as od_high,
        max(case when i.area_group = 'england' then i.value end) as en,
        max(case when i.area_group = 'england' then i.ci_low end) as en_low,
        max(case when i.area_group = 'england' then i.ci_high end) as en_high,
        -- Share of the source's records placed in a ward: a rate moves with it, whatever happens on the ground.
        max(case when i.area_group = 'england' then json_extract(i.coverage, '$.resolved_share') end) as placed,
        max(i.window_from) as window_from,
        max(i.window_to) as window_to
    from indicators i
    where :indicator = '' or i.indicator = :indicator
    group by i.computed_at, i.indicator
)
select
    computed_at,
    indicator,
    round(lb, 2) as left_behind,
    round(lb_low, 2) as left_behind_ci_low,
    round(lb_high, 2) as left_behind_ci_high,
    round(od, 2) as other_deprived,
    round(en, 2) as england,
    round(en_low, 2) as england_ci_low,
    round(en_high, 2) as england_ci_high,
    case when lb_reliable = 0 and lb is not null then 'too few to say'
         else round(100.0 * lb / nullif(en, 0), 1) end as left_behind_pct_of_england,
    -- Against other deprived wards: too few records says nothing either, nor do overlapping intervals.
    case when lb_reliable = 0 and lb is not null and lb_note like 'too few to say: %(fewer than%' then 'too few to say'
         when lb_low is not null and od_low is not null and lb_low <= od_high and od_low <= lb_high
              then 'too few to say'
         else round(100.0 * lb / nullif(od, 0), 1) end as left_behind_pct_of_other_deprived,
    lb_reliable as left_behind_reliable,
    coalesce(lb_note, '') as note,
    round(100.0 * placed, 1) as placed_pct,
    window_from,
    window_to
from pivot
order by indicator, computed_at desc
