-- Every computation of each indicator: left-behind wards beside other deprived wards and England.
-- Leave :indicator blank for all of them.
select
    i.computed_at,
    i.indicator,
    round(max(case when i.area_group = 'left_behind' then i.value end), 2) as left_behind,
    round(max(case when i.area_group = 'other_deprived' then i.value end), 2) as other_deprived,
    round(max(case when i.area_group = 'england' then i.value end), 2) as england,
    round(100.0 * max(case when i.area_group = 'left_behind' then i.value end)
          / nullif(max(case when i.area_group = 'england' then i.value end), 0), 1) as left_behind_pct_of_england,
    round(100.0 * max(case when i.area_group = 'left_behind' then i.value end)
          / nullif(max(case when i.area_group = 'other_deprived' then i.value end), 0), 1)
          as left_behind_pct_of_other_deprived,
    max(i.window_from) as window_from,
    max(i.window_to) as window_to
from indicators i
where :indicator = '' or i.indicator = :indicator
group by i.computed_at, i.indicator
order by i.indicator, i.computed_at desc
